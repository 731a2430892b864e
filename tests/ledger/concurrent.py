"""The requests of the concurrent runs: lean documents (ids, statuses and codes only, so two
answers to one key can be compared as they are) and the calls that build their starting points.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PlatformHandle
from tests.support import data

CREATE_USER = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } }
}
"""
OPEN_ACCOUNT = """
mutation ($input: OpenAccountInput!) {
  openAccount(input: $input) { __typename ... on OpenAccountSuccess { account { id } } }
}
"""
CREATE_PAY_IN = """
mutation ($input: CreatePayInInput!) {
  createPayIn(input: $input) { __typename ... on CreatePayInSuccess { payIn { id } } }
}
"""
SIMULATE_PAY_IN = """
mutation ($input: SimulatePayInInput!) {
  simulatePayIn(input: $input) {
    __typename
    ... on SimulateSuccess { object { ... on PayIn { status } } }
    ... on Rejection { code }
  }
}
"""
SIMULATE_PAY_OUT = """
mutation ($input: SimulatePayOutInput!) {
  simulatePayOut(input: $input) {
    __typename
    ... on SimulateSuccess { object { ... on PayOut { status } } }
    ... on Rejection { code }
  }
}
"""
CREATE_TRANSFER = """
mutation ($input: CreateTransferInput!) {
  createTransfer(input: $input) {
    __typename
    ... on CreateTransferSuccess { transfer { id } idempotentReplay }
    ... on Rejection { code message }
    ... on InsufficientFundsRejection { available { amount } }
  }
}
"""
CREATE_PAY_OUT = """
mutation ($input: CreatePayOutInput!) {
  createPayOut(input: $input) {
    __typename
    ... on CreatePayOutSuccess { payOut { id } idempotentReplay }
    ... on Rejection { code message }
    ... on InsufficientFundsRejection { available { amount } }
  }
}
"""


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


async def create_user(client: httpx.AsyncClient, platform: PlatformHandle, login: str) -> str:
    person = {
        "firstName": "Ada",
        "lastName": login.title(),
        "birthDate": "1990-01-01",
        "nationality": "FR",
        "address": {
            "line1": "1 rue de la Paix",
            "postalCode": "75002",
            "city": "Paris",
            "country": "FR",
        },
    }
    new = {"email": f"{login}@example.com", "login": login, "person": {"natural": person}}
    created = await data(client, CREATE_USER, {"input": new}, headers=platform.headers)
    user_id: str = created["createUser"]["user"]["id"]
    return user_id


async def open_account(client: httpx.AsyncClient, platform: PlatformHandle, user_id: str) -> str:
    new = {"userId": user_id, "currency": "EUR"}
    opened = await data(client, OPEN_ACCOUNT, {"input": new}, headers=platform.headers)
    account_id: str = opened["openAccount"]["account"]["id"]
    return account_id


async def fund(
    client: httpx.AsyncClient, platform: PlatformHandle, account_id: str, amount: int
) -> None:
    """Credit the account the way money really arrives: a pay-in, then the bank's success."""
    new = {
        "creditedAccountId": account_id,
        "amount": eur(amount),
        "method": "BANK_WIRE",
        "idempotencyKey": f"funding-{account_id}",
    }
    created = await data(client, CREATE_PAY_IN, {"input": new}, headers=platform.headers)
    decision = {"payInId": created["createPayIn"]["payIn"]["id"], "outcome": "SUCCEEDED"}
    settled = await data(client, SIMULATE_PAY_IN, {"input": decision}, headers=platform.headers)
    assert settled["simulatePayIn"]["object"]["status"] == "SUCCEEDED"


async def send(
    client: httpx.AsyncClient, platform: PlatformHandle, mutation: str, new: dict[str, Any]
) -> dict[str, Any]:
    """Send one money mutation; return its payload (a success or a rejection)."""
    answered = await data(client, mutation, {"input": new}, headers=platform.headers)
    payload: dict[str, Any] = next(iter(answered.values()))
    return payload
