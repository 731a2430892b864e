"""Mandates, pay-ins and pay-outs through the API, and funded accounts to start from.

On a PRODUCTION platform a wire is settled by treasury, never by `simulatePayIn`: see
tests/support/decisions.py for the operator's mutations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.accounts import add_bank_account, open_account
from tests.support.calls import mutate, success
from tests.support.documents import (
    CREATE_MANDATE,
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    SIMULATE_MANDATE,
    SIMULATE_PAY_IN,
    SIMULATE_PAY_OUT,
)
from tests.support.inputs import pay_out_input, wire_input
from tests.support.kyc import validate
from tests.support.platforms import PlatformHandle
from tests.support.users import create_natural_user


@dataclass(frozen=True)
class Funded:
    user_id: str
    account_id: str


async def create_mandate(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, bank_account_id: str
) -> str:
    input = {"userId": user_id, "bankAccountId": bank_account_id}
    payload = await mutate(client, platform, CREATE_MANDATE, input)
    mandate_id: str = success(payload, "CreateMandateSuccess")["mandate"]["id"]
    return mandate_id


async def simulate_mandate(
    client: httpx.AsyncClient, platform: PlatformHandle, mandate_id: str, outcome: str
) -> dict[str, Any]:
    input = {"mandateId": mandate_id, "outcome": outcome}
    return await mutate(client, platform, SIMULATE_MANDATE, input)


async def active_mandate(client: httpx.AsyncClient, platform: PlatformHandle, user_id: str) -> str:
    """A new bank account of the user, and a mandate on it that the bank activated."""
    bank_account_id = await add_bank_account(client, platform, user_id)
    mandate_id = await create_mandate(client, platform, user_id, bank_account_id)
    success(await simulate_mandate(client, platform, mandate_id, "SUCCEEDED"), "SimulateSuccess")
    return mandate_id


async def create_wire(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    amount: int,
    currency: str = "EUR",
) -> str:
    input = wire_input(account_id, amount, currency)
    payload = await mutate(client, platform, CREATE_PAY_IN, input)
    pay_in_id: str = success(payload, "CreatePayInSuccess")["payIn"]["id"]
    return pay_in_id


async def settle_pay_in(
    client: httpx.AsyncClient, platform: PlatformHandle, pay_in_id: str, outcome: str
) -> dict[str, Any]:
    input = {"payInId": pay_in_id, "outcome": outcome}
    return await mutate(client, platform, SIMULATE_PAY_IN, input)


async def settle_pay_out(
    client: httpx.AsyncClient, platform: PlatformHandle, pay_out_id: str, outcome: str
) -> dict[str, Any]:
    input = {"payOutId": pay_out_id, "outcome": outcome}
    return await mutate(client, platform, SIMULATE_PAY_OUT, input)


async def fund(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    amount: int,
    currency: str = "EUR",
) -> str:
    """Credit `amount` by a bank wire that the sandbox bank settles; the pay-in's id."""
    pay_in_id = await create_wire(client, platform, account_id, amount, currency)
    success(await settle_pay_in(client, platform, pay_in_id, "SUCCEEDED"), "SimulateSuccess")
    return pay_in_id


async def funded_account(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    amount: int,
    *,
    validated: bool = False,
    currency: str = "EUR",
) -> Funded:
    """A new NATURAL user (validated if asked) with one account holding `amount`."""
    user_id = await create_natural_user(client, platform)
    if validated:
        await validate(client, platform, user_id)
    account_id = await open_account(client, platform, user_id, currency)
    if amount:
        await fund(client, platform, account_id, amount, currency)
    return Funded(user_id, account_id)


async def create_pay_out(
    client: httpx.AsyncClient, platform: PlatformHandle, funded: Funded, amount: int
) -> dict[str, Any]:
    bank_account_id = await add_bank_account(client, platform, funded.user_id)
    input = pay_out_input(funded.account_id, bank_account_id, amount)
    return success(await mutate(client, platform, CREATE_PAY_OUT, input), "CreatePayOutSuccess")
