"""Accounts and bank accounts through the API, and an account read back with its entries."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.calls import mutate, query, success
from tests.support.documents import ACCOUNT_QUERY, ADD_BANK_ACCOUNT, OPEN_ACCOUNT
from tests.support.inputs import FR_IBAN
from tests.support.platforms import PlatformHandle


async def open_account(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, currency: str = "EUR"
) -> str:
    payload = await mutate(
        client, platform, OPEN_ACCOUNT, {"userId": user_id, "currency": currency}
    )
    account_id: str = success(payload, "OpenAccountSuccess")["account"]["id"]
    return account_id


async def add_bank_account(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, iban: str = FR_IBAN
) -> str:
    input = {"userId": user_id, "ownerName": "Ada Lovelace", "iban": iban}
    payload = await mutate(client, platform, ADD_BANK_ACCOUNT, input)
    bank_account_id: str = success(payload, "AddBankAccountSuccess")["bankAccount"]["id"]
    return bank_account_id


async def read_account(
    client: httpx.AsyncClient, platform: PlatformHandle, account_id: str
) -> dict[str, Any]:
    found = (await query(client, platform, ACCOUNT_QUERY, {"id": account_id}))["node"]
    assert found["__typename"] == "Account", found
    account: dict[str, Any] = found
    return account


async def balance(client: httpx.AsyncClient, platform: PlatformHandle, account_id: str) -> int:
    amount: int = (await read_account(client, platform, account_id))["balance"]["amount"]
    return amount


async def entries(
    client: httpx.AsyncClient, platform: PlatformHandle, account_id: str
) -> list[dict[str, Any]]:
    """The account's ledger entries, newest first."""
    nodes: list[dict[str, Any]] = (await read_account(client, platform, account_id))["entries"][
        "nodes"
    ]
    return nodes


def entry_lines(found: list[dict[str, Any]]) -> list[tuple[str, int, int, str, str]]:
    """Entries as (kind, amount, balanceAfter, operation type, operation id), newest first."""
    return [
        (
            e["kind"],
            e["amount"]["amount"],
            e["balanceAfter"]["amount"],
            e["operation"]["__typename"],
            e["operation"]["id"],
        )
        for e in found
    ]
