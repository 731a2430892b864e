"""Blocking, unblocking and closing users (gateway/services/lifecycle.py), through the API:
every transition allowed and refused, money refused both ways for a blocked user's accounts,
tokens refused after a block and a close, and a close refused with its reasons."""

from __future__ import annotations

import asyncio

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.store.engine import Database
from tests.support.accounts import add_bank_account, read_account
from tests.support.calls import mutate, rejected, state, success, top_level_error
from tests.support.decisions import operator_of
from tests.support.documents import (
    ADD_BANK_ACCOUNT,
    BLOCK_USER,
    CLOSE_USER,
    CREATE_MANDATE,
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    CREATE_TRANSFER,
    OPEN_ACCOUNT,
    UNBLOCK_USER,
    UPDATE_USER,
)
from tests.support.events import events, summary
from tests.support.inputs import FR_IBAN, pay_out_input, transfer_input, wire_input
from tests.support.kyc import request_validation, simulate_validation, submit_document
from tests.support.lifecycle import block_user, close_user, unblock_user
from tests.support.payments import (
    active_mandate,
    create_pay_out,
    create_wire,
    funded_account,
    settle_pay_in,
    settle_pay_out,
)
from tests.support.platforms import PlatformHandle, key_with_role
from tests.support.tokens import as_user, refused, user_token
from tests.support.users import create_natural_user, read_user

USER_EVENTS = ["USER_BLOCKED", "USER_UNBLOCKED", "USER_CLOSED"]


async def test_an_operator_blocks_and_unblocks_a_user_and_the_reason_shows_meanwhile(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)

    blocked = await block_user(client, officer, user_id, "  Sanctions screening hit  ")
    assert (blocked["status"], blocked["blockedReason"]) == ("BLOCKED", "Sanctions screening hit")
    assert (await read_user(client, sandbox, user_id))["blockedReason"] == "Sanctions screening hit"
    unblocked = await unblock_user(client, officer, user_id)
    assert (unblocked["status"], unblocked["blockedReason"]) == ("ACTIVE", None)

    assert summary(await events(client, sandbox, USER_EVENTS)) == [
        ("USER_BLOCKED", "ACTIVE", "BLOCKED"),
        ("USER_UNBLOCKED", "BLOCKED", "ACTIVE"),
    ]


async def test_blocking_twice_unblocking_an_active_user_and_a_long_reason_are_refused(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)
    refused = await mutate(client, officer, UNBLOCK_USER, {"userId": user_id})
    assert "ACTIVE" in rejected(refused, "InvalidStateRejection", "INVALID_STATE")["message"]
    long = await mutate(client, officer, BLOCK_USER, {"userId": user_id, "reason": "x" * 501})
    rejected(long, "ValidationRejection", "VALIDATION_FAILED")
    await block_user(client, officer, user_id)
    again = await mutate(client, officer, BLOCK_USER, {"userId": user_id})
    assert "BLOCKED" in rejected(again, "InvalidStateRejection", "INVALID_STATE")["message"]


async def test_only_an_operator_blocks_and_neither_a_user_token_nor_a_readonly_key_closes(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    readonly = await key_with_role(db, sandbox, ApiKeyRole.READONLY)
    token = as_user(sandbox, await user_token(client, sandbox, user_id))
    refusals = [(sandbox, BLOCK_USER), (sandbox, UNBLOCK_USER), (readonly, CLOSE_USER)]
    refusals += [(token, CLOSE_USER), (token, BLOCK_USER)]
    for credential, document in refusals:
        error = await top_level_error(client, credential, document, {"userId": user_id})
        assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await read_user(client, sandbox, user_id))["status"] == "ACTIVE"


async def test_a_blocked_users_accounts_neither_send_nor_receive_until_unblocked(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 1_000, validated=True)
    mandate_id = await active_mandate(client, sandbox, payer.user_id)
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    waiting_pay_in = await create_wire(client, sandbox, payer.account_id, 50)
    await block_user(client, officer, payer.user_id, "Compliance review")
    ids = (payer.account_id, payee.account_id)
    before = await state(client, sandbox, *ids)

    answers = [
        await mutate(
            client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, payee.account_id, 10)
        ),
        await mutate(
            client, sandbox, CREATE_TRANSFER, transfer_input(payee.account_id, payer.account_id, 10)
        ),
        await mutate(client, sandbox, CREATE_PAY_IN, wire_input(payer.account_id, 10)),
        await mutate(
            client,
            sandbox,
            CREATE_PAY_IN,
            wire_input(payer.account_id, 10, method="DIRECT_DEBIT", mandateId=mandate_id),
        ),
        await mutate(
            client, sandbox, CREATE_PAY_OUT, pay_out_input(payer.account_id, bank_account_id, 10)
        ),
        await settle_pay_in(client, sandbox, waiting_pay_in, "SUCCEEDED"),
    ]

    for payload in answers:
        assert "blocked" in rejected(payload, "InvalidStateRejection", "INVALID_STATE")["message"]
    assert await state(client, sandbox, *ids) == before
    await unblock_user(client, officer, payer.user_id)
    success(await settle_pay_in(client, sandbox, waiting_pay_in, "SUCCEEDED"), "SimulateSuccess")
    moved = await mutate(
        client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, payee.account_id, 10)
    )
    success(moved, "CreateTransferSuccess")
    assert (await read_account(client, sandbox, payer.account_id))["balance"]["amount"] == 1_040


async def test_a_failed_pay_out_of_a_blocked_user_still_gives_the_funds_back(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    funded = await funded_account(client, sandbox, 500, validated=True)
    pay_out = (await create_pay_out(client, sandbox, funded, 200))["payOut"]
    await block_user(client, officer, funded.user_id)
    success(await settle_pay_out(client, sandbox, pay_out["id"], "FAILED"), "SimulateSuccess")
    assert (await read_account(client, sandbox, funded.account_id))["balance"]["amount"] == 500


async def test_blocking_revokes_the_users_tokens_and_unblocking_needs_a_new_one(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)
    token = await user_token(client, sandbox, user_id)
    await block_user(client, officer, user_id)
    assert await refused(client, token)
    await unblock_user(client, officer, user_id)
    assert await refused(client, token)
    assert not await refused(client, await user_token(client, sandbox, user_id))


async def test_closing_a_user_closes_its_accounts_cancels_its_mandates_and_revokes_tokens(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    funded = await funded_account(client, sandbox, 0, validated=True)
    mandate_id = await active_mandate(client, sandbox, funded.user_id)
    token = await user_token(client, sandbox, funded.user_id)
    await block_user(client, officer, funded.user_id)

    closed = success(await close_user(client, officer, funded.user_id), "UserStatusSuccess")
    assert closed["user"]["status"] == "CLOSED"
    assert (await read_account(client, sandbox, funded.account_id))["status"] == "CLOSED"
    assert await refused(client, token)
    found = summary(
        await events(client, sandbox, ["ACCOUNT_CLOSED", "MANDATE_CANCELED", *USER_EVENTS])
    )
    assert found == [
        ("USER_BLOCKED", "ACTIVE", "BLOCKED"),
        ("ACCOUNT_CLOSED", "VALIDATED", "CLOSED"),
        ("MANDATE_CANCELED", "ACTIVE", "CANCELED"),
        ("USER_CLOSED", "BLOCKED", "CLOSED"),
    ]
    pay_in = await mutate(
        client,
        sandbox,
        CREATE_PAY_IN,
        wire_input(funded.account_id, 10, method="DIRECT_DEBIT", mandateId=mandate_id),
    )
    rejected(pay_in, "InvalidStateRejection", "INVALID_STATE")


async def test_a_closed_user_is_refused_by_every_mutation_that_names_it(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)
    bank_account_id = await add_bank_account(client, sandbox, user_id)
    success(await submit_document(client, sandbox, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, sandbox, user_id), "RequestValidationSuccess")
    success(await close_user(client, sandbox, user_id), "UserStatusSuccess")
    before = await state(client, sandbox, user_id)

    answers = [
        await mutate(client, sandbox, OPEN_ACCOUNT, {"userId": user_id, "currency": "EUR"}),
        await mutate(
            client,
            sandbox,
            ADD_BANK_ACCOUNT,
            {"userId": user_id, "ownerName": "A", "iban": FR_IBAN},
        ),
        await mutate(
            client, sandbox, CREATE_MANDATE, {"userId": user_id, "bankAccountId": bank_account_id}
        ),
        await mutate(client, sandbox, UPDATE_USER, {"userId": user_id, "login": "renamed-user"}),
        await mutate(client, officer, BLOCK_USER, {"userId": user_id}),
        await mutate(client, officer, UNBLOCK_USER, {"userId": user_id}),
        await close_user(client, officer, user_id),
        await submit_document(client, sandbox, user_id=user_id),
        await simulate_validation(client, sandbox, user_id, "VALIDATED"),
        await request_validation(client, sandbox, user_id),
    ]

    for payload in answers:
        message = rejected(payload, "InvalidStateRejection", "INVALID_STATE")["message"]
        assert "closed" in message.lower(), message
    assert await state(client, sandbox, user_id) == before


async def test_a_close_is_refused_while_money_or_payments_remain_and_says_why(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 300, validated=True)
    pay_in_id = await create_wire(client, sandbox, funded.account_id, 70)
    pay_out = (await create_pay_out(client, sandbox, funded, 300))["payOut"]
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)
    mandate = await mutate(
        client,
        sandbox,
        CREATE_MANDATE,
        {"userId": funded.user_id, "bankAccountId": bank_account_id},
    )
    mandate_id = success(mandate, "CreateMandateSuccess")["mandate"]["id"]
    before = await state(client, sandbox, funded.user_id, funded.account_id)

    refusal = rejected(
        await close_user(client, sandbox, funded.user_id), "InvalidStateRejection", "INVALID_STATE"
    )

    for reason in (f"pay-in {pay_in_id} is CREATED", f"pay-out {pay_out['id']} is CREATED"):
        assert reason in refusal["message"], refusal
    assert f"mandate {mandate_id} is CREATED" in refusal["message"]
    assert await state(client, sandbox, funded.user_id, funded.account_id) == before
    success(await settle_pay_in(client, sandbox, pay_in_id, "SUCCEEDED"), "SimulateSuccess")
    success(await settle_pay_out(client, sandbox, pay_out["id"], "SUCCEEDED"), "SimulateSuccess")
    money = rejected(
        await close_user(client, sandbox, funded.user_id), "InvalidStateRejection", "INVALID_STATE"
    )
    assert f"Account {funded.account_id} holds 70 minor units of EUR" in money["message"]
    assert "pay-in" not in money["message"]


async def test_a_close_racing_a_pay_in_never_leaves_a_pay_in_on_a_closed_account(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    for _ in range(5):
        funded = await funded_account(client, sandbox, 0)
        closed, created = await asyncio.gather(
            close_user(client, sandbox, funded.user_id),
            mutate(client, sandbox, CREATE_PAY_IN, wire_input(funded.account_id, 10)),
        )
        outcomes = (closed["__typename"], created["__typename"])
        assert outcomes in {
            ("UserStatusSuccess", "InvalidStateRejection"),
            ("InvalidStateRejection", "CreatePayInSuccess"),
        }, (closed, created)
