"""Rejections of money movements: every expected failure is a named union member, and none of
them changes anything.

Malformed values (floats, numeric strings, out-of-range integers, unknown currencies) never
reach a service: the scalars refuse them and the request fails as a whole with a top-level
`BAD_USER_INPUT` error. Well-formed but unacceptable requests get a rejection with a `code`
(and, for ValidationRejection, the dotted path of every bad field). The rejections of other
nouns live with them (tests/users, tests/accounts, tests/payments).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, open_account, read_account
from tests.support.calls import field_paths, mutate, rejected, state, top_level_error
from tests.support.documents import (
    ADD_BANK_ACCOUNT,
    ADD_PERSON,
    BLOCK_ACCOUNT,
    CLOSE_ACCOUNT,
    CREATE_MANDATE,
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    CREATE_TRANSFER,
    OPEN_ACCOUNT,
    REQUEST_VALIDATION,
    UNBLOCK_ACCOUNT,
)
from tests.support.inputs import natural_person, pay_out_input, transfer_input, wire_input
from tests.support.payments import Funded, active_mandate, funded_account
from tests.support.users import create_legal_user

MINOR_UNITS_MAX = 9_007_199_254_740_991


def money_inputs(payer: Funded, payee: Funded, bank_account_id: str) -> list[tuple[str, Any]]:
    """(document, input builder taking an amount) for the three money movements."""
    return [
        (
            CREATE_TRANSFER,
            lambda amount, **more: transfer_input(
                payer.account_id, payee.account_id, amount, **more
            ),
        ),
        (CREATE_PAY_IN, lambda amount, **more: wire_input(payer.account_id, amount, **more)),
        (
            CREATE_PAY_OUT,
            lambda amount, **more: pay_out_input(payer.account_id, bank_account_id, amount, **more),
        ),
    ]


# ---- amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, -1, -MINOR_UNITS_MAX])
async def test_a_zero_or_negative_amount_is_refused_on_amount_amount(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded], amount: int
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    for document, build in money_inputs(payer, payee, bank_account_id):
        payload = await mutate(client, sandbox, document, build(amount))
        assert field_paths(payload) == ["amount.amount"]

    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


@pytest.mark.parametrize(
    "amount",
    [10.5, 100.0, 1e3, "100", "12.34", MINOR_UNITS_MAX + 1, -MINOR_UNITS_MAX - 1, 2**63, True],
    ids=["float", "integral-float", "exponent", "numeric-string", "decimal-string",
         "just-over-max", "just-under-min", "int64-overflow", "boolean"],
)  # fmt: skip
async def test_floats_strings_and_out_of_range_amounts_are_refused_by_the_scalar(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded], amount: Any
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    for document, build in money_inputs(payer, payee, bank_account_id):
        error = await top_level_error(client, sandbox, document, build(amount))
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "MinorUnits" in error["message"]

    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_the_largest_safe_amount_passes_the_scalar_and_meets_the_balance(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair

    payload = await mutate(
        client,
        sandbox,
        CREATE_TRANSFER,
        transfer_input(payer.account_id, payee.account_id, MINOR_UNITS_MAX),
    )

    rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
    assert payload["available"] == {"amount": 1_000, "currency": "EUR", "decimal": "10.00"}


# ---- currencies ----------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["XYZ", "eur", "EURO", "E", "XAU", ""])
async def test_an_unknown_currency_is_refused_by_the_scalar(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded], currency: str
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    for document, build in money_inputs(payer, payee, bank_account_id):
        error = await top_level_error(client, sandbox, document, build(10, currency=currency))
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    error = await top_level_error(
        client, sandbox, OPEN_ACCOUNT, {"userId": payer.user_id, "currency": currency}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"

    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_a_currency_the_platform_does_not_allow_is_refused_on_its_field(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    for document, build in money_inputs(payer, payee, bank_account_id):
        payload = await mutate(client, sandbox, document, build(10, currency="USD"))
        assert field_paths(payload) == ["amount.currency"]
    opened = await mutate(
        client, sandbox, OPEN_ACCOUNT, {"userId": payer.user_id, "currency": "USD"}
    )
    assert field_paths(opened) == ["currency"]

    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_the_platforms_currencies_are_checked_before_the_accounts_are_looked_for(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    key = "currency-first"
    for debited, credited in [
        (payer.account_id, "0" * 8 + payer.account_id[8:]),  # well-formed, no such account
        ("not-an-id", payee.account_id),
        (payer.account_id, "not-an-id"),
    ]:
        input = transfer_input(debited, credited, 10, currency="USD", idempotencyKey=key)
        assert field_paths(await mutate(client, sandbox, CREATE_TRANSFER, input)) == [
            "amount.currency"
        ]
    # A validation keeps nothing, not even the key.
    input = transfer_input(payer.account_id, payee.account_id, 10, idempotencyKey=key)
    payload = await mutate(client, sandbox, CREATE_TRANSFER, input)
    assert payload["__typename"] == "CreateTransferSuccess", payload


async def test_mixing_currencies_is_a_currency_mismatch(
    client: httpx.AsyncClient, eur_usd: PlatformHandle
) -> None:
    euros = await funded_account(client, eur_usd, 1_000, validated=True)
    dollars = await funded_account(client, eur_usd, 1_000, validated=True, currency="USD")
    more_dollars = await open_account(client, eur_usd, dollars.user_id, "USD")
    bank_account_id = await add_bank_account(client, eur_usd, euros.user_id)
    ids = (euros.account_id, dollars.account_id, more_dollars)
    before = await state(client, eur_usd, *ids)

    answers = [
        # EUR account -> USD account, in either currency
        await mutate(
            client,
            eur_usd,
            CREATE_TRANSFER,
            transfer_input(euros.account_id, dollars.account_id, 10),
        ),
        await mutate(
            client,
            eur_usd,
            CREATE_TRANSFER,
            transfer_input(euros.account_id, dollars.account_id, 10, "USD"),
        ),
        # USD -> USD, said to be EUR
        await mutate(
            client,
            eur_usd,
            CREATE_TRANSFER,
            transfer_input(dollars.account_id, more_dollars, 10, "EUR"),
        ),
        await mutate(client, eur_usd, CREATE_PAY_IN, wire_input(euros.account_id, 10, "USD")),
        await mutate(
            client,
            eur_usd,
            CREATE_PAY_OUT,
            pay_out_input(euros.account_id, bank_account_id, 10, "USD"),
        ),
    ]

    for payload in answers:
        rejected(payload, "CurrencyMismatchRejection", "CURRENCY_MISMATCH")
    assert await state(client, eur_usd, *ids) == before


# ---- the accounts named --------------------------------------------------------------------


async def test_the_same_account_on_both_sides_is_refused_on_credited_account_id(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    before = await state(client, sandbox, payer.account_id)

    payload = await mutate(
        client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, payer.account_id, 10)
    )

    assert field_paths(payload) == ["creditedAccountId"]
    assert await state(client, sandbox, payer.account_id) == before


async def test_the_same_account_written_in_another_case_is_still_the_same_account(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    before = await state(client, sandbox, payer.account_id)

    payload = await mutate(
        client,
        sandbox,
        CREATE_TRANSFER,
        transfer_input(payer.account_id, payer.account_id.upper(), 10),
    )

    assert field_paths(payload) == ["creditedAccountId"]
    assert await state(client, sandbox, payer.account_id) == before


async def test_another_platforms_ids_are_not_found_anywhere(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    other_sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
) -> None:
    payer, payee = pair
    mine = await funded_account(client, other_sandbox, 500, validated=True)
    my_bank_account = await add_bank_account(client, other_sandbox, mine.user_id)
    their_bank_account = await add_bank_account(client, sandbox, payer.user_id)
    their_mandate = await active_mandate(client, sandbox, payer.user_id)
    legal = await create_legal_user(client, sandbox)
    before = await state(client, sandbox, payer.account_id, payee.account_id)
    mine_before = await state(client, other_sandbox, mine.account_id)

    answers = [
        await mutate(
            client,
            other_sandbox,
            CREATE_TRANSFER,
            transfer_input(mine.account_id, payee.account_id, 10),
        ),
        await mutate(
            client,
            other_sandbox,
            CREATE_TRANSFER,
            transfer_input(payer.account_id, mine.account_id, 10),
        ),
        await mutate(client, other_sandbox, CREATE_PAY_IN, wire_input(payer.account_id, 10)),
        await mutate(
            client,
            other_sandbox,
            CREATE_PAY_IN,
            wire_input(mine.account_id, 10, method="DIRECT_DEBIT", mandateId=their_mandate),
        ),
        await mutate(
            client,
            other_sandbox,
            CREATE_PAY_OUT,
            pay_out_input(payer.account_id, my_bank_account, 10),
        ),
        await mutate(
            client,
            other_sandbox,
            CREATE_PAY_OUT,
            pay_out_input(mine.account_id, their_bank_account, 10),
        ),
        await mutate(
            client, other_sandbox, OPEN_ACCOUNT, {"userId": payer.user_id, "currency": "EUR"}
        ),
        await mutate(
            client,
            other_sandbox,
            ADD_BANK_ACCOUNT,
            {"userId": payer.user_id, "ownerName": "X", "iban": "DE89370400440532013000"},
        ),
        await mutate(
            client,
            other_sandbox,
            CREATE_MANDATE,
            {"userId": payer.user_id, "bankAccountId": their_bank_account},
        ),
        await mutate(
            client,
            other_sandbox,
            CREATE_MANDATE,
            {"userId": mine.user_id, "bankAccountId": their_bank_account},
        ),
        await mutate(
            client,
            other_sandbox,
            ADD_PERSON,
            {"userId": legal.id, "person": natural_person(), "roles": ["DIRECTOR"]},
        ),
        await mutate(client, other_sandbox, REQUEST_VALIDATION, {"userId": payer.user_id}),
        await mutate(client, other_sandbox, BLOCK_ACCOUNT, {"accountId": payer.account_id}),
        await mutate(client, other_sandbox, UNBLOCK_ACCOUNT, {"accountId": payer.account_id}),
        await mutate(client, other_sandbox, CLOSE_ACCOUNT, {"accountId": payee.account_id}),
    ]

    for payload in answers:
        rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before
    assert await state(client, other_sandbox, mine.account_id) == mine_before


async def test_ids_of_the_wrong_type_or_malformed_are_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    mandate_id = await active_mandate(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    answers = [
        await mutate(
            client, sandbox, CREATE_TRANSFER, transfer_input(payer.user_id, payee.account_id, 10)
        ),
        await mutate(
            client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, bank_account_id, 10)
        ),
        await mutate(
            client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, "not-an-id", 10)
        ),
        await mutate(client, sandbox, CREATE_PAY_IN, wire_input(mandate_id, 10)),
        await mutate(
            client,
            sandbox,
            CREATE_PAY_IN,
            wire_input(payer.account_id, 10, method="DIRECT_DEBIT", mandateId=bank_account_id),
        ),
        await mutate(
            client, sandbox, CREATE_PAY_OUT, pay_out_input(payer.account_id, payee.account_id, 10)
        ),
        await mutate(
            client, sandbox, OPEN_ACCOUNT, {"userId": payer.account_id, "currency": "EUR"}
        ),
        await mutate(
            client, sandbox, CREATE_MANDATE, {"userId": payer.user_id, "bankAccountId": mandate_id}
        ),
        await mutate(client, sandbox, REQUEST_VALIDATION, {"userId": bank_account_id}),
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": payer.user_id}),
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": "0" * 36}),
    ]

    for payload in answers:
        rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


# ---- states --------------------------------------------------------------------------------


async def test_moving_more_than_the_balance_is_insufficient_funds(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    answers = [
        await mutate(
            client,
            sandbox,
            CREATE_TRANSFER,
            transfer_input(payer.account_id, payee.account_id, 1_001),
        ),
        await mutate(
            client, sandbox, CREATE_PAY_OUT, pay_out_input(payer.account_id, bank_account_id, 1_001)
        ),
    ]

    for payload in answers:
        rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
        assert payload["available"] == {"amount": 1_000, "currency": "EUR", "decimal": "10.00"}
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "too-long"])
async def test_an_idempotency_key_must_have_1_to_255_characters(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded], key: str
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    for document, build in money_inputs(payer, payee, bank_account_id):
        payload = await mutate(client, sandbox, document, build(10, idempotencyKey=key))
        assert field_paths(payload) == ["idempotencyKey"]
    opened = await mutate(
        client,
        sandbox,
        OPEN_ACCOUNT,
        {"userId": payer.user_id, "currency": "EUR", "idempotencyKey": key},
    )
    assert field_paths(opened) == ["idempotencyKey"]
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_labels_longer_than_200_characters_or_with_control_characters_are_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)

    for label in ("x" * 201, "line\nbreak"):
        transfer = await mutate(
            client,
            sandbox,
            CREATE_TRANSFER,
            transfer_input(payer.account_id, payee.account_id, 10, label=label),
        )
        pay_out = await mutate(
            client,
            sandbox,
            CREATE_PAY_OUT,
            pay_out_input(payer.account_id, bank_account_id, 10, label=label),
        )
        opened = await mutate(
            client,
            sandbox,
            OPEN_ACCOUNT,
            {"userId": payer.user_id, "currency": "EUR", "label": label},
        )
        for payload in (transfer, pay_out, opened):
            assert field_paths(payload) == ["label"]


async def test_several_money_problems_are_reported_at_once(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    input = transfer_input(payer.account_id, payer.account_id, 0, label="x" * 300)

    payload = await mutate(client, sandbox, CREATE_TRANSFER, input)

    assert field_paths(payload) == ["amount.amount", "label", "creditedAccountId"]


async def test_a_transfer_needs_an_idempotency_key(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    input = transfer_input(payer.account_id, payee.account_id, 10)
    del input["idempotencyKey"]

    error = await top_level_error(client, sandbox, CREATE_TRANSFER, input)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await read_account(client, sandbox, payee.account_id))["balance"]["amount"] == 0
