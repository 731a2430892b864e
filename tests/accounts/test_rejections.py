"""Rejections of accounts and bank accounts: blocked and closed accounts, account states, bank
details. Each is a named union member with a `code`, and none of them changes anything."""

from __future__ import annotations

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, open_account, read_account
from tests.support.calls import field_paths, mutate, rejected, state, success
from tests.support.decisions import operator_of
from tests.support.documents import (
    ADD_BANK_ACCOUNT,
    BLOCK_ACCOUNT,
    CLOSE_ACCOUNT,
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    CREATE_TRANSFER,
    UNBLOCK_ACCOUNT,
)
from tests.support.inputs import pay_out_input, transfer_input, wire_input
from tests.support.lifecycle import block_user
from tests.support.payments import Funded, create_pay_out, funded_account, settle_pay_out
from tests.support.users import create_natural_user


@pytest.mark.parametrize("document", [BLOCK_ACCOUNT, CLOSE_ACCOUNT], ids=["blocked", "closed"])
async def test_a_blocked_or_closed_account_neither_sends_nor_receives(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded], document: str
) -> None:
    payer, _ = pair
    stopped = await funded_account(client, sandbox, 0, validated=True)
    success(
        await mutate(client, sandbox, document, {"accountId": stopped.account_id}),
        "AccountStatusSuccess",
    )
    bank_account_id = await add_bank_account(client, sandbox, stopped.user_id)
    ids = (payer.account_id, stopped.account_id)
    before = await state(client, sandbox, *ids)

    answers = [
        await mutate(
            client,
            sandbox,
            CREATE_TRANSFER,
            transfer_input(payer.account_id, stopped.account_id, 10),
        ),
        await mutate(
            client,
            sandbox,
            CREATE_TRANSFER,
            transfer_input(stopped.account_id, payer.account_id, 10),
        ),
        await mutate(client, sandbox, CREATE_PAY_IN, wire_input(stopped.account_id, 10)),
        await mutate(
            client, sandbox, CREATE_PAY_OUT, pay_out_input(stopped.account_id, bank_account_id, 10)
        ),
    ]

    for payload in answers:
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, *ids) == before


async def test_a_blocked_account_with_funds_cannot_send_them(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    success(
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": payer.account_id}),
        "AccountStatusSuccess",
    )

    payload = await mutate(
        client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, payee.account_id, 10)
    )

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert (await read_account(client, sandbox, payer.account_id))["balance"]["amount"] == 1_000


async def test_a_blocked_users_accounts_cannot_move_money(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    await block_user(client, await operator_of(db, sandbox), payer.user_id)
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
    ]

    for payload in answers:
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, *ids) == before


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
