"""Rejections: every expected failure is a named union member, and none of them changes anything.

Malformed values (floats, numeric strings, out-of-range integers, unknown currencies) never
reach a service: the scalars refuse them and the request fails as a whole with a top-level
`BAD_USER_INPUT` error. Well-formed but unacceptable requests get a rejection with a `code`
(and, for ValidationRejection, the dotted path of every bad field).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import col, update

from gateway.domain.enums import UserStatus
from gateway.store.engine import Database
from gateway.store.tables import User
from tests.conftest import PlatformHandle
from tests.mutations.helpers import (
    ADD_BANK_ACCOUNT,
    ADD_PERSON,
    BLOCK_ACCOUNT,
    CLOSE_ACCOUNT,
    CREATE_MANDATE,
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    CREATE_TRANSFER,
    CREATE_USER,
    OPEN_ACCOUNT,
    REQUEST_VALIDATION,
    UNBLOCK_ACCOUNT,
    Funded,
    active_mandate,
    add_bank_account,
    add_person,
    create_legal_user,
    create_mandate,
    create_natural_user,
    create_pay_out,
    field_paths,
    funded_account,
    legal_person,
    mutate,
    natural_person,
    open_account,
    pay_out_input,
    read_account,
    rejected,
    settle_pay_out,
    simulate_mandate,
    state,
    success,
    top_level_error,
    transfer_input,
    unique,
    user_input,
    wire_input,
)

MINOR_UNITS_MAX = 9_007_199_254_740_991


@pytest.fixture
async def pair(client: httpx.AsyncClient, sandbox: PlatformHandle) -> tuple[Funded, Funded]:
    """Two validated users of `sandbox`: the first with 1 000 cents, the second with none."""
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0, validated=True)
    return payer, payee


def money_inputs(payer: Funded, payee: Funded, bank_account_id: str) -> list[tuple[str, Any]]:
    """(document, input builder taking an amount) for the three money movements."""
    return [
        (CREATE_TRANSFER, lambda amount, **more: transfer_input(
            payer.account_id, payee.account_id, amount, **more)),
        (CREATE_PAY_IN, lambda amount, **more: wire_input(payer.account_id, amount, **more)),
        (CREATE_PAY_OUT, lambda amount, **more: pay_out_input(
            payer.account_id, bank_account_id, amount, **more)),
    ]  # fmt: skip


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
        client, sandbox, CREATE_TRANSFER,
        transfer_input(payer.account_id, payee.account_id, MINOR_UNITS_MAX),
    )  # fmt: skip

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
        await mutate(client, eur_usd, CREATE_TRANSFER,
                     transfer_input(euros.account_id, dollars.account_id, 10)),
        await mutate(client, eur_usd, CREATE_TRANSFER,
                     transfer_input(euros.account_id, dollars.account_id, 10, "USD")),
        # USD -> USD, said to be EUR
        await mutate(client, eur_usd, CREATE_TRANSFER,
                     transfer_input(dollars.account_id, more_dollars, 10, "EUR")),
        await mutate(client, eur_usd, CREATE_PAY_IN, wire_input(euros.account_id, 10, "USD")),
        await mutate(client, eur_usd, CREATE_PAY_OUT,
                     pay_out_input(euros.account_id, bank_account_id, 10, "USD")),
    ]  # fmt: skip

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
        client, sandbox, CREATE_TRANSFER,
        transfer_input(payer.account_id, payer.account_id.upper(), 10),
    )  # fmt: skip

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
        await mutate(client, other_sandbox, CREATE_TRANSFER,
                     transfer_input(mine.account_id, payee.account_id, 10)),
        await mutate(client, other_sandbox, CREATE_TRANSFER,
                     transfer_input(payer.account_id, mine.account_id, 10)),
        await mutate(client, other_sandbox, CREATE_PAY_IN, wire_input(payer.account_id, 10)),
        await mutate(client, other_sandbox, CREATE_PAY_IN,
                     wire_input(mine.account_id, 10, method="DIRECT_DEBIT",
                                mandateId=their_mandate)),
        await mutate(client, other_sandbox, CREATE_PAY_OUT,
                     pay_out_input(payer.account_id, my_bank_account, 10)),
        await mutate(client, other_sandbox, CREATE_PAY_OUT,
                     pay_out_input(mine.account_id, their_bank_account, 10)),
        await mutate(client, other_sandbox, OPEN_ACCOUNT,
                     {"userId": payer.user_id, "currency": "EUR"}),
        await mutate(client, other_sandbox, ADD_BANK_ACCOUNT,
                     {"userId": payer.user_id, "ownerName": "X", "iban": "DE89370400440532013000"}),
        await mutate(client, other_sandbox, CREATE_MANDATE,
                     {"userId": payer.user_id, "bankAccountId": their_bank_account}),
        await mutate(client, other_sandbox, CREATE_MANDATE,
                     {"userId": mine.user_id, "bankAccountId": their_bank_account}),
        await mutate(client, other_sandbox, ADD_PERSON,
                     {"userId": legal.id, "person": natural_person(), "roles": ["DIRECTOR"]}),
        await mutate(client, other_sandbox, REQUEST_VALIDATION, {"userId": payer.user_id}),
        await mutate(client, other_sandbox, BLOCK_ACCOUNT, {"accountId": payer.account_id}),
        await mutate(client, other_sandbox, UNBLOCK_ACCOUNT, {"accountId": payer.account_id}),
        await mutate(client, other_sandbox, CLOSE_ACCOUNT, {"accountId": payee.account_id}),
    ]  # fmt: skip

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
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payer.user_id, payee.account_id, 10)),
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payer.account_id, bank_account_id, 10)),
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payer.account_id, "not-an-id", 10)),
        await mutate(client, sandbox, CREATE_PAY_IN, wire_input(mandate_id, 10)),
        await mutate(client, sandbox, CREATE_PAY_IN,
                     wire_input(payer.account_id, 10, method="DIRECT_DEBIT",
                                mandateId=bank_account_id)),
        await mutate(client, sandbox, CREATE_PAY_OUT,
                     pay_out_input(payer.account_id, payee.account_id, 10)),
        await mutate(client, sandbox, OPEN_ACCOUNT,
                     {"userId": payer.account_id, "currency": "EUR"}),
        await mutate(client, sandbox, CREATE_MANDATE,
                     {"userId": payer.user_id, "bankAccountId": mandate_id}),
        await mutate(client, sandbox, REQUEST_VALIDATION, {"userId": bank_account_id}),
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": payer.user_id}),
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": "0" * 36}),
    ]  # fmt: skip

    for payload in answers:
        rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


# ---- states --------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [BLOCK_ACCOUNT, CLOSE_ACCOUNT], ids=["blocked", "closed"])
async def test_a_blocked_or_closed_account_neither_sends_nor_receives(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded], document: str
) -> None:
    payer, _ = pair
    stopped = await funded_account(client, sandbox, 0, validated=True)
    success(await mutate(client, sandbox, document, {"accountId": stopped.account_id}),
            "AccountStatusSuccess")  # fmt: skip
    bank_account_id = await add_bank_account(client, sandbox, stopped.user_id)
    ids = (payer.account_id, stopped.account_id)
    before = await state(client, sandbox, *ids)

    answers = [
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payer.account_id, stopped.account_id, 10)),
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(stopped.account_id, payer.account_id, 10)),
        await mutate(client, sandbox, CREATE_PAY_IN, wire_input(stopped.account_id, 10)),
        await mutate(client, sandbox, CREATE_PAY_OUT,
                     pay_out_input(stopped.account_id, bank_account_id, 10)),
    ]  # fmt: skip

    for payload in answers:
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, *ids) == before


async def test_a_blocked_account_with_funds_cannot_send_them(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    success(await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": payer.account_id}),
            "AccountStatusSuccess")  # fmt: skip

    payload = await mutate(
        client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, payee.account_id, 10)
    )

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert (await read_account(client, sandbox, payer.account_id))["balance"]["amount"] == 1_000


async def test_a_blocked_users_accounts_cannot_move_money(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    # No mutation blocks a user: an operator does, in the database.
    async with db.transaction() as session:
        await session.execute(
            update(User)
            .where(col(User.id) == uuid.UUID(payer.user_id))
            .values(status=UserStatus.BLOCKED)
        )
    ids = (payer.account_id, payee.account_id)
    before = await state(client, sandbox, *ids)

    answers = [
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payer.account_id, payee.account_id, 10)),
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payee.account_id, payer.account_id, 10)),
        await mutate(client, sandbox, CREATE_PAY_IN, wire_input(payer.account_id, 10)),
    ]  # fmt: skip

    for payload in answers:
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, *ids) == before


async def test_a_pay_out_needs_a_validated_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 1_000)
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)
    before = await state(client, sandbox, funded.account_id)

    payload = await mutate(
        client, sandbox, CREATE_PAY_OUT, pay_out_input(funded.account_id, bank_account_id, 10)
    )

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, funded.account_id) == before


async def test_a_pay_out_to_another_users_bank_account_is_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    payees_bank_account = await add_bank_account(client, sandbox, payee.user_id)
    before = await state(client, sandbox, payer.account_id)

    payload = await mutate(
        client, sandbox, CREATE_PAY_OUT, pay_out_input(payer.account_id, payees_bank_account, 10)
    )

    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id) == before


async def test_moving_more_than_the_balance_is_insufficient_funds(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    answers = [
        await mutate(client, sandbox, CREATE_TRANSFER,
                     transfer_input(payer.account_id, payee.account_id, 1_001)),
        await mutate(client, sandbox, CREATE_PAY_OUT,
                     pay_out_input(payer.account_id, bank_account_id, 1_001)),
    ]  # fmt: skip

    for payload in answers:
        rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
        assert payload["available"] == {"amount": 1_000, "currency": "EUR", "decimal": "10.00"}
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_direct_debits_need_an_active_mandate_of_the_accounts_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    created = await create_mandate(
        client, sandbox, payer.user_id, await add_bank_account(client, sandbox, payer.user_id)
    )
    failed = await create_mandate(
        client, sandbox, payer.user_id, await add_bank_account(client, sandbox, payer.user_id)
    )
    success(await simulate_mandate(client, sandbox, failed, "FAILED"), "SimulateSuccess")
    payees_mandate = await active_mandate(client, sandbox, payee.user_id)
    mine = await active_mandate(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id)

    def debit(**more: Any) -> dict[str, Any]:
        return wire_input(payer.account_id, 10, method="DIRECT_DEBIT", **more)

    assert field_paths(await mutate(client, sandbox, CREATE_PAY_IN, debit())) == ["mandateId"]
    assert field_paths(
        await mutate(
            client, sandbox, CREATE_PAY_IN, wire_input(payer.account_id, 10, mandateId=mine)
        )
    ) == ["mandateId"]
    for mandate_id in (created, failed):
        payload = await mutate(client, sandbox, CREATE_PAY_IN, debit(mandateId=mandate_id))
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    payload = await mutate(client, sandbox, CREATE_PAY_IN, debit(mandateId=payees_mandate))
    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id) == before


async def test_a_mandate_on_another_users_bank_account_is_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    payees_bank_account = await add_bank_account(client, sandbox, payee.user_id)

    payload = await mutate(
        client, sandbox, CREATE_MANDATE,
        {"userId": payer.user_id, "bankAccountId": payees_bank_account},
    )  # fmt: skip

    rejected(payload, "NotFoundRejection", "NOT_FOUND")


async def test_unblocking_an_account_that_was_never_blocked_is_an_invalid_state(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)

    payload = await mutate(client, sandbox, UNBLOCK_ACCOUNT, {"accountId": account_id})

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert (await read_account(client, sandbox, account_id))["status"] == "CREATED"


async def test_an_account_with_a_pay_out_in_flight_cannot_be_closed(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 500, validated=True)
    pay_out = (await create_pay_out(client, sandbox, funded, 500))["payOut"]

    closed = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": funded.account_id})
    await settle_pay_out(client, sandbox, pay_out["id"], "FAILED")

    account = await read_account(client, sandbox, funded.account_id)
    assert closed["__typename"] == "InvalidStateRejection"
    assert (account["status"], account["balance"]["amount"]) != ("CLOSED", 500)


# ---- bank details --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    ["FR7630006000011234567890188", "DE8937040044053201300", "DE893704004405320130001",
     "hello world", "", "XX00123456789", "FR76 3000 6000 0112 3456 7890 18!"],
    ids=["bad-checksum", "too-short-for-DE", "too-long-for-DE", "garbage", "empty",
         "unknown-country", "bad-character"],
)  # fmt: skip
async def test_a_malformed_iban_is_refused_on_the_iban_field(
    client: httpx.AsyncClient, sandbox: PlatformHandle, iban: str
) -> None:
    user_id = await create_natural_user(client, sandbox)
    before = await state(client, sandbox, user_id)

    payload = await mutate(
        client, sandbox, ADD_BANK_ACCOUNT, {"userId": user_id, "ownerName": "Ada", "iban": iban}
    )

    assert field_paths(payload) == ["iban"]
    assert await state(client, sandbox, user_id) == before


async def test_a_malformed_bic_and_a_blank_owner_are_refused_with_the_iban_together(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    input = {"userId": user_id, "ownerName": "  ", "iban": "FR00", "bic": "NOT A BIC"}

    payload = await mutate(client, sandbox, ADD_BANK_ACCOUNT, input)

    assert field_paths(payload) == ["ownerName", "iban", "bic"]


# ---- users and persons ---------------------------------------------------------------------


async def test_an_email_already_taken_is_a_duplicate_whatever_its_case(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    name = unique("taken")
    await create_natural_user(client, sandbox, email=f"{name}@example.com")
    before = await state(client, sandbox)

    payload = await mutate(
        client, sandbox, CREATE_USER,
        user_input({"natural": natural_person()}, email=f"{name.upper()}@EXAMPLE.com"),
    )  # fmt: skip

    assert rejected(payload, "DuplicateRejection", "DUPLICATE")["field"] == "email"
    assert await state(client, sandbox) == before


async def test_a_login_already_taken_is_a_duplicate(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    login = unique("login")
    await create_natural_user(client, sandbox, login=login)
    before = await state(client, sandbox)

    payload = await mutate(
        client, sandbox, CREATE_USER, user_input({"legal": legal_person()}, login=login)
    )

    assert rejected(payload, "DuplicateRejection", "DUPLICATE")["field"] == "login"
    assert await state(client, sandbox) == before


async def test_the_same_email_on_another_platform_is_no_duplicate(
    client: httpx.AsyncClient, sandbox: PlatformHandle, other_sandbox: PlatformHandle
) -> None:
    email, login = f"{unique('shared')}@example.com", unique("shared")
    await create_natural_user(client, sandbox, email=email, login=login)

    await create_natural_user(client, other_sandbox, email=email, login=login)


async def test_invalid_person_fields_are_listed_under_their_dotted_paths(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    before = await state(client, sandbox)
    person = natural_person(firstName=" ", birthDate="2999-01-01")
    person["address"]["city"] = ""

    natural = await mutate(
        client, sandbox, CREATE_USER,
        user_input({"natural": person}, email="not-an-email", login="-x"),
    )  # fmt: skip
    legal = await mutate(
        client, sandbox, CREATE_USER,
        user_input({"legal": legal_person(legalName="", representative=natural_person(
            birthDate="1800-01-01"))}),
    )  # fmt: skip

    assert field_paths(natural) == [
        "email",
        "login",
        "person.natural.firstName",
        "person.natural.birthDate",
        "person.natural.address.city",
    ]
    assert field_paths(legal) == ["person.legal.legalName", "person.legal.representative.birthDate"]
    assert await state(client, sandbox) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("nationality", "XX"), ("nationality", "fr"), ("birthDate", "2001-02-30"),
     ("birthDate", "10/12/1985")],
)  # fmt: skip
async def test_malformed_countries_and_dates_are_refused_by_their_scalars(
    client: httpx.AsyncClient, sandbox: PlatformHandle, field: str, value: str
) -> None:
    before = await state(client, sandbox)

    error = await top_level_error(
        client, sandbox, CREATE_USER, user_input({"natural": natural_person(**{field: value})})
    )

    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert await state(client, sandbox) == before


async def test_a_person_both_natural_and_legal_is_a_bad_user_input(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    person = {"natural": natural_person(), "legal": legal_person()}

    error = await top_level_error(client, sandbox, CREATE_USER, user_input(person))

    assert error["extensions"]["code"] == "BAD_USER_INPUT", error


async def test_persons_are_added_only_to_legal_users(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    before = await state(client, sandbox, user_id)

    payload = await mutate(
        client, sandbox, ADD_PERSON,
        {"userId": user_id, "person": natural_person(), "roles": ["DIRECTOR"]},
    )  # fmt: skip

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, user_id) == before


@pytest.mark.parametrize(
    ("extra", "paths"),
    [
        ({"roles": []}, ["roles"]),
        ({"ownershipPercentage": 0.0}, ["ownershipPercentage"]),
        ({"ownershipPercentage": 100.5}, ["ownershipPercentage"]),
        ({"ownershipPercentage": -3.0}, ["ownershipPercentage"]),
        ({"isUserRepresentative": True}, ["isUserRepresentative"]),
        ({"person": natural_person(lastName="", birthDate="2999-12-31")},
         ["person.lastName", "person.birthDate"]),
        ({"idempotencyKey": "k" * 256}, ["idempotencyKey"]),
    ],
    ids=["no-role", "zero-share", "over-100", "negative-share", "representative-without-role",
         "bad-person", "key-too-long"],
)  # fmt: skip
async def test_invalid_additions_of_persons_are_refused_on_their_fields(
    client: httpx.AsyncClient, sandbox: PlatformHandle, extra: dict[str, Any], paths: list[str]
) -> None:
    legal = await create_legal_user(client, sandbox)
    before = await state(client, sandbox, legal.id)
    input = {"userId": legal.id, "person": natural_person(), "roles": ["BENEFICIAL_OWNER"], **extra}

    payload = await mutate(client, sandbox, ADD_PERSON, input)

    assert field_paths(payload) == paths
    assert await state(client, sandbox, legal.id) == before


async def test_owners_may_not_hold_more_than_100_percent_together(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    await add_person(client, sandbox, legal.id, ["BENEFICIAL_OWNER"], ownershipPercentage=60.0)
    await add_person(client, sandbox, legal.id, ["SHAREHOLDER"], ownershipPercentage=40.0)

    payload = await mutate(
        client, sandbox, ADD_PERSON,
        {"userId": legal.id, "person": natural_person(), "roles": ["SHAREHOLDER"],
         "ownershipPercentage": 0.5},
    )  # fmt: skip

    assert field_paths(payload) == ["ownershipPercentage"]


# ---- other fields --------------------------------------------------------------------------


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
        client, sandbox, OPEN_ACCOUNT,
        {"userId": payer.user_id, "currency": "EUR", "idempotencyKey": key},
    )  # fmt: skip
    assert field_paths(opened) == ["idempotencyKey"]
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_labels_longer_than_200_characters_or_with_control_characters_are_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)

    for label in ("x" * 201, "line\nbreak"):
        transfer = await mutate(
            client, sandbox, CREATE_TRANSFER,
            transfer_input(payer.account_id, payee.account_id, 10, label=label),
        )  # fmt: skip
        pay_out = await mutate(
            client, sandbox, CREATE_PAY_OUT,
            pay_out_input(payer.account_id, bank_account_id, 10, label=label),
        )  # fmt: skip
        opened = await mutate(
            client, sandbox, OPEN_ACCOUNT,
            {"userId": payer.user_id, "currency": "EUR", "label": label},
        )  # fmt: skip
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
