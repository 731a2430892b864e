"""Idempotency keys, as DOMAIN.md states them, scoped to the platform.

- the same key with the same input replays: the original object, `idempotentReplay: true`,
  and no effect (balances, entries, events all unchanged);
- the same key with another input (or another operation) is an IdempotencyConflictRejection;
- a business rejection is kept with the key and replayed, even once it would no longer apply;
- a ValidationRejection (or a malformed request) keeps nothing: the key stays free;
- two platforms using the same key get two effects; concurrent requests with one key, one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, read_account
from tests.support.calls import (
    field_paths,
    mutate,
    query,
    rejected,
    state,
    success,
    top_level_error,
)
from tests.support.documents import (
    ADD_BANK_ACCOUNT,
    ADD_PERSON,
    CREATE_MANDATE,
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    CREATE_TRANSFER,
    CREATE_USER,
    OPEN_ACCOUNT,
)
from tests.support.events import events
from tests.support.inputs import (
    GB_IBAN,
    money,
    natural_person,
    new_key,
    pay_out_input,
    transfer_input,
    user_input,
    wire_input,
)
from tests.support.payments import Funded, create_wire, fund, funded_account, settle_pay_in
from tests.support.users import create_legal_user, create_natural_user


async def two_accounts(
    client: httpx.AsyncClient, platform: PlatformHandle, amount: int = 1_000
) -> tuple[Funded, Funded]:
    return (
        await funded_account(client, platform, amount),
        await funded_account(client, platform, 0),
    )


async def test_replaying_a_transfer_returns_the_original_and_changes_nothing(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox)
    input = transfer_input(payer.account_id, payee.account_id, 300, label="Once")
    original = success(
        await mutate(client, sandbox, CREATE_TRANSFER, input), "CreateTransferSuccess"
    )
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    replays = [await mutate(client, sandbox, CREATE_TRANSFER, input) for _ in range(3)]

    for replay in replays:
        assert success(replay, "CreateTransferSuccess")["idempotentReplay"] is True
        assert replay["transfer"] == original["transfer"]
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before
    assert before["nodes"][0]["balance"] == {"amount": 700}
    assert before["nodes"][1]["entries"] == {"totalCount": 1}


async def test_replaying_a_pay_in_returns_the_same_pay_in_and_credits_once(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account = await funded_account(client, sandbox, 0)
    input = wire_input(account.account_id, 800)
    original = success(await mutate(client, sandbox, CREATE_PAY_IN, input), "CreatePayInSuccess")
    pay_in = original["payIn"]
    before = await state(client, sandbox, account.account_id)

    replay = success(await mutate(client, sandbox, CREATE_PAY_IN, input), "CreatePayInSuccess")

    assert replay["idempotentReplay"] is True
    assert replay["payIn"] == pay_in
    assert await state(client, sandbox, account.account_id) == before
    success(await settle_pay_in(client, sandbox, pay_in["id"], "SUCCEEDED"), "SimulateSuccess")
    settled = await state(client, sandbox, account.account_id)

    late = success(await mutate(client, sandbox, CREATE_PAY_IN, input), "CreatePayInSuccess")

    assert late["idempotentReplay"] is True
    assert (late["payIn"]["id"], late["payIn"]["wireReference"]) == (
        pay_in["id"],
        pay_in["wireReference"],
    )
    assert await state(client, sandbox, account.account_id) == settled
    assert settled["nodes"][0]["balance"] == {"amount": 800}


async def test_replaying_a_pay_out_debits_once(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 1_000, validated=True)
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)
    input = pay_out_input(funded.account_id, bank_account_id, 600)
    original = success(await mutate(client, sandbox, CREATE_PAY_OUT, input), "CreatePayOutSuccess")
    before = await state(client, sandbox, funded.account_id)

    replay = success(await mutate(client, sandbox, CREATE_PAY_OUT, input), "CreatePayOutSuccess")

    assert replay["idempotentReplay"] is True
    assert replay["payOut"] == original["payOut"]
    assert await state(client, sandbox, funded.account_id) == before
    assert before["nodes"][0]["balance"] == {"amount": 400}


async def test_onboarding_mutations_with_a_key_replay_the_object_they_created(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    user_id = await create_natural_user(client, sandbox)
    bank_account_id = await add_bank_account(client, sandbox, user_id)
    calls: list[tuple[str, dict[str, Any], str, str]] = [
        (CREATE_USER, user_input({"natural": natural_person()}), "CreateUserSuccess", "user"),
        (OPEN_ACCOUNT, {"userId": user_id, "currency": "EUR"}, "OpenAccountSuccess", "account"),
        (ADD_BANK_ACCOUNT, {"userId": user_id, "ownerName": "Ada", "iban": GB_IBAN},
         "AddBankAccountSuccess", "bankAccount"),
        (CREATE_MANDATE, {"userId": user_id, "bankAccountId": bank_account_id},
         "CreateMandateSuccess", "mandate"),
        (ADD_PERSON, {"userId": legal.id, "person": natural_person(), "roles": ["DIRECTOR"]},
         "AddPersonSuccess", "person"),
    ]  # fmt: skip

    for document, input, typename, field in calls:
        keyed = {**input, "idempotencyKey": new_key()}
        first = success(await mutate(client, sandbox, document, keyed), typename)
        before = await state(client, sandbox, user_id, legal.id)

        again = success(await mutate(client, sandbox, document, keyed), typename)

        assert again[field] == first[field], typename
        assert await state(client, sandbox, user_id, legal.id) == before, typename


async def test_the_same_key_with_another_input_is_a_conflict(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox)
    input = transfer_input(payer.account_id, payee.account_id, 300)
    success(await mutate(client, sandbox, CREATE_TRANSFER, input), "CreateTransferSuccess")
    before = await state(client, sandbox, payer.account_id, payee.account_id)
    variants = [
        input | {"amount": money(301)},
        input | {"label": "changed"},
        input | {"creditedAccountId": payer.account_id, "debitedAccountId": payee.account_id},
    ]

    for variant in variants:
        payload = await mutate(client, sandbox, CREATE_TRANSFER, variant)
        rejected(payload, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")

    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_a_key_used_by_one_operation_conflicts_with_any_other(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox)
    key = new_key()
    transfer = transfer_input(payer.account_id, payee.account_id, 100, idempotencyKey=key)
    success(await mutate(client, sandbox, CREATE_TRANSFER, transfer), "CreateTransferSuccess")
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    pay_in = await mutate(
        client, sandbox, CREATE_PAY_IN, wire_input(payee.account_id, 100, idempotencyKey=key)
    )
    user = await mutate(
        client,
        sandbox,
        CREATE_USER,
        user_input({"natural": natural_person()}, idempotencyKey=key),
    )

    rejected(pay_in, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")
    rejected(user, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before


async def test_a_rejection_is_replayed_even_once_the_balance_would_cover_it(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox, amount=100)
    input = transfer_input(payer.account_id, payee.account_id, 500)
    first = await mutate(client, sandbox, CREATE_TRANSFER, input)
    rejected(first, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
    assert first["available"]["amount"] == 100
    await fund(client, sandbox, payer.account_id, 1_000)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    replay = await mutate(client, sandbox, CREATE_TRANSFER, input)

    assert replay == first
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before
    assert before["nodes"][0]["balance"] == {"amount": 1_100}
    fresh = await mutate(client, sandbox, CREATE_TRANSFER, input | {"idempotencyKey": new_key()})
    assert success(fresh, "CreateTransferSuccess")["transfer"]["debitedAccount"]["balance"] == {
        "amount": 600
    }


async def test_other_rejections_are_kept_with_their_key_too(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 1_000)
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)
    input = pay_out_input(funded.account_id, bank_account_id, 100)
    first = await mutate(client, sandbox, CREATE_PAY_OUT, input)
    rejected(first, "InvalidStateRejection", "INVALID_STATE")  # the user is not validated

    replay = await mutate(client, sandbox, CREATE_PAY_OUT, input)

    assert replay == first


async def test_a_validation_rejection_keeps_nothing_so_the_key_can_be_used_again(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox)
    key = new_key()
    for wrong in (
        transfer_input(payer.account_id, payee.account_id, 0, idempotencyKey=key),
        transfer_input(payer.account_id, payee.account_id, 10, "USD", idempotencyKey=key),
    ):
        assert field_paths(await mutate(client, sandbox, CREATE_TRANSFER, wrong)) != []

    corrected = transfer_input(payer.account_id, payee.account_id, 10, idempotencyKey=key)
    payload = await mutate(client, sandbox, CREATE_TRANSFER, corrected)

    assert success(payload, "CreateTransferSuccess")["idempotentReplay"] is False
    assert (await read_account(client, sandbox, payee.account_id))["balance"]["amount"] == 10


async def test_a_request_the_scalars_refuse_keeps_nothing_either(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox)
    key = new_key()
    malformed = transfer_input(payer.account_id, payee.account_id, 10.0, idempotencyKey=key)
    assert (await top_level_error(client, sandbox, CREATE_TRANSFER, malformed))["extensions"][
        "code"
    ] == "BAD_USER_INPUT"

    corrected = transfer_input(payer.account_id, payee.account_id, 10, idempotencyKey=key)
    payload = await mutate(client, sandbox, CREATE_TRANSFER, corrected)

    assert success(payload, "CreateTransferSuccess")["idempotentReplay"] is False


async def test_keys_are_per_platform_so_the_same_key_makes_two_effects(
    client: httpx.AsyncClient, sandbox: PlatformHandle, other_sandbox: PlatformHandle
) -> None:
    key = new_key()
    for platform in (sandbox, other_sandbox):
        payer, payee = await two_accounts(client, platform)
        input = transfer_input(payer.account_id, payee.account_id, 60, idempotencyKey=key)

        payload = await mutate(client, platform, CREATE_TRANSFER, input)

        assert success(payload, "CreateTransferSuccess")["idempotentReplay"] is False
        assert (await read_account(client, platform, payee.account_id))["balance"]["amount"] == 60
        assert len(await events(client, platform, ["TRANSFER_SUCCESSFUL"])) == 1


async def test_concurrent_requests_with_one_key_make_exactly_one_transfer(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer, payee = await two_accounts(client, sandbox)
    input = transfer_input(payer.account_id, payee.account_id, 100)

    payloads = await asyncio.gather(
        *(mutate(client, sandbox, CREATE_TRANSFER, input) for _ in range(8))
    )

    replays = [success(p, "CreateTransferSuccess")["idempotentReplay"] for p in payloads]
    assert sorted(replays) == [False] + [True] * 7
    assert len({p["transfer"]["id"] for p in payloads}) == 1
    assert (await read_account(client, sandbox, payer.account_id))["balance"]["amount"] == 900
    assert (await read_account(client, sandbox, payee.account_id))["balance"]["amount"] == 100
    counts = await query(client, sandbox, "{ platform { transfers { totalCount } } }")
    assert counts["platform"]["transfers"]["totalCount"] == 1
    assert len(await events(client, sandbox, ["TRANSFER_SUCCESSFUL"])) == 1


async def test_concurrent_pay_ins_with_one_key_make_exactly_one_pay_in(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account = await funded_account(client, sandbox, 0)
    await create_wire(client, sandbox, account.account_id, 1)  # another pay-in, another key
    input = wire_input(account.account_id, 250)

    payloads = await asyncio.gather(
        *(mutate(client, sandbox, CREATE_PAY_IN, input) for _ in range(6))
    )

    assert len({success(p, "CreatePayInSuccess")["payIn"]["id"] for p in payloads}) == 1
    assert sum(not p["idempotentReplay"] for p in payloads) == 1
    counts = await query(client, sandbox, "{ platform { payIns { totalCount } } }")
    assert counts["platform"]["payIns"]["totalCount"] == 2
