"""Accounts and bank accounts, worked examples: opened, blocked, closed, read back by query."""

from __future__ import annotations

import httpx

from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, open_account, read_account
from tests.support.calls import mutate, node, rejected, success
from tests.support.documents import (
    ADD_BANK_ACCOUNT,
    BLOCK_ACCOUNT,
    CLOSE_ACCOUNT,
    OPEN_ACCOUNT,
    UNBLOCK_ACCOUNT,
)
from tests.support.events import events, summary
from tests.support.inputs import FR_BIC, FR_IBAN, FR_IBAN_PRINTED, GB_IBAN
from tests.support.kyc import validate
from tests.support.payments import fund
from tests.support.users import create_natural_user, read_user


async def test_opening_an_account_starts_it_created_at_zero_and_lists_it_under_the_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)

    payload = await mutate(
        client, sandbox, OPEN_ACCOUNT, {"userId": user_id, "currency": "EUR", "label": " Main "}
    )

    account = success(payload, "OpenAccountSuccess")["account"]
    assert account["currency"] == "EUR"
    assert account["label"] == "Main"
    assert account["status"] == "CREATED"
    assert account["balance"] == {"amount": 0, "currency": "EUR", "decimal": "0.00"}
    assert account["user"] == {"id": user_id}
    read = await read_account(client, sandbox, account["id"])
    assert read["entries"] == {"totalCount": 0, "nodes": []}
    user = await read_user(client, sandbox, user_id)
    assert user["accounts"]["totalCount"] == 1
    assert user["accounts"]["nodes"][0]["id"] == account["id"]
    assert summary(await events(client, sandbox, ["ACCOUNT_CREATED"])) == [
        ("ACCOUNT_CREATED", None, "CREATED")
    ]


async def test_an_account_opened_for_a_validated_user_is_validated_at_once(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    await validate(client, sandbox, user_id)

    account_id = await open_account(client, sandbox, user_id)

    assert (await read_account(client, sandbox, account_id))["status"] == "VALIDATED"


async def test_an_account_can_be_opened_in_any_allowed_currency(
    client: httpx.AsyncClient, eur_usd: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, eur_usd)

    euros = await open_account(client, eur_usd, user_id, "EUR")
    dollars = await open_account(client, eur_usd, user_id, "USD")

    assert (await read_account(client, eur_usd, euros))["balance"]["currency"] == "EUR"
    assert (await read_account(client, eur_usd, dollars))["balance"]["currency"] == "USD"


async def test_adding_a_bank_account_stores_the_iban_in_electronic_format(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    input = {
        "userId": user_id,
        "ownerName": "  Ada Lovelace ",
        "iban": FR_IBAN_PRINTED.lower(),
        "bic": "bnpa frpp xxx",
    }

    payload = await mutate(client, sandbox, ADD_BANK_ACCOUNT, input)

    bank_account = success(payload, "AddBankAccountSuccess")["bankAccount"]
    assert bank_account["iban"] == FR_IBAN
    assert bank_account["bic"] == FR_BIC
    assert bank_account["ownerName"] == "Ada Lovelace"
    assert bank_account["user"] == {"id": user_id}
    assert (await node(client, sandbox, bank_account["id"], "BankAccount")) == {
        "__typename": "BankAccount",
        **bank_account,
    }
    second = await add_bank_account(client, sandbox, user_id, GB_IBAN)
    listed = (await read_user(client, sandbox, user_id))["bankAccounts"]
    assert [(b["id"], b["iban"]) for b in listed] == [
        (bank_account["id"], FR_IBAN),
        (second, GB_IBAN),
    ]
    assert len(await events(client, sandbox, ["BANK_ACCOUNT_CREATED"])) == 2


async def test_a_bank_account_without_a_bic_has_none(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    bank_account_id = await add_bank_account(client, sandbox, user_id)
    assert (await node(client, sandbox, bank_account_id, "BankAccount"))["bic"] is None


async def test_blocking_then_unblocking_an_account_brings_it_back_validated(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    await validate(client, sandbox, user_id)
    account_id = await open_account(client, sandbox, user_id)

    blocked = await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": account_id})
    assert success(blocked, "AccountStatusSuccess")["account"]["status"] == "BLOCKED"
    assert (await read_account(client, sandbox, account_id))["status"] == "BLOCKED"

    unblocked = await mutate(client, sandbox, UNBLOCK_ACCOUNT, {"accountId": account_id})
    assert success(unblocked, "AccountStatusSuccess")["account"]["status"] == "VALIDATED"
    assert (await read_account(client, sandbox, account_id))["status"] == "VALIDATED"
    assert summary(await events(client, sandbox, ["ACCOUNT_BLOCKED", "ACCOUNT_UNBLOCKED"]))[
        -2:
    ] == [
        ("ACCOUNT_BLOCKED", "VALIDATED", "BLOCKED"),
        ("ACCOUNT_UNBLOCKED", "BLOCKED", "VALIDATED"),
    ]


async def test_closing_an_account_at_zero_is_final(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)

    closed = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": account_id})

    assert success(closed, "AccountStatusSuccess")["account"]["status"] == "CLOSED"
    assert (await read_account(client, sandbox, account_id))["status"] == "CLOSED"
    for document in (BLOCK_ACCOUNT, UNBLOCK_ACCOUNT, CLOSE_ACCOUNT):
        again = await mutate(client, sandbox, document, {"accountId": account_id})
        rejected(again, "InvalidStateRejection", "INVALID_STATE")
    assert summary(await events(client, sandbox, ["ACCOUNT_CLOSED"])) == [
        ("ACCOUNT_CLOSED", "CREATED", "CLOSED")
    ]


async def test_an_account_holding_funds_cannot_be_closed(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    await fund(client, sandbox, account_id, 1)

    payload = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": account_id})

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert (await read_account(client, sandbox, account_id))["status"] == "CREATED"


async def test_unblocking_an_account_that_is_not_blocked_is_an_invalid_state(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    await validate(client, sandbox, user_id)
    account_id = await open_account(client, sandbox, user_id)

    payload = await mutate(client, sandbox, UNBLOCK_ACCOUNT, {"accountId": account_id})

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
