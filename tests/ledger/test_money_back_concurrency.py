"""Concurrent reversals and refunds through the real HTTP app never give back more than was
moved: many partial reversals of one transfer (and refunds of one pay-in) sent at once take
exactly the room there is, each key has one effect, and the ledger holds afterwards."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.ledger.concurrent import create_user, fund, open_account, send
from tests.ledger.invariants import assert_ledger_holds
from tests.support.money_back import (
    money_back,
    refund_input,
    reversal_input,
    settled_pay_in,
    transfer,
)

REVERSE = """mutation ($input: ReverseTransferInput!) { reverseTransfer(input: $input) {
  __typename ... on ReverseTransferSuccess { reversal { id } idempotentReplay } } }"""
REFUND = """mutation ($input: RefundPayInInput!) { refundPayIn(input: $input) {
  __typename ... on RefundPayInSuccess { refund { id } idempotentReplay } } }"""
PARTS = 40
PART = 200
DUPLICATED = 5  # of the parts, sent twice at once with the same key


async def _all_at_once(
    client: httpx.AsyncClient, platform: PlatformHandle, mutation: str, inputs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return await asyncio.gather(*(send(client, platform, mutation, new) for new in inputs))


def _kinds(answers: list[dict[str, Any]]) -> Counter[str]:
    return Counter(answer["__typename"] for answer in answers)


def _effects(answers: list[dict[str, Any]], node: str, copies: int) -> set[str]:
    """The ids created; the last `copies` answers repeat the first ones (same keys): each pair
    agrees, and exactly one answer of a successful pair is not a replay."""
    for first, copy in zip(answers[:copies], answers[-copies:], strict=True):
        assert first["__typename"] == copy["__typename"], (first, copy)
        if first["__typename"].endswith("Success"):
            assert first[node]["id"] == copy[node]["id"]
            assert sorted([first["idempotentReplay"], copy["idempotentReplay"]]) == [False, True]
    return {a[node]["id"] for a in answers if a["__typename"].endswith("Success")}


async def test_concurrent_partial_reversals_never_exceed_what_the_transfer_credited(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    payer = await open_account(client, sandbox, await create_user(client, sandbox, "payer"))
    payee = await open_account(client, sandbox, await create_user(client, sandbox, "payee"))
    await fund(client, sandbox, payer, 10_000)
    transfer_id = await transfer(client, sandbox, payer, payee, 5_000, fee=100)  # credits 4 900
    parts = [reversal_input(transfer_id, PART) for _ in range(PARTS)]

    answers = await _all_at_once(client, sandbox, REVERSE, parts + parts[:DUPLICATED])

    assert len(_effects(answers, "reversal", DUPLICATED)) == 24  # 24 x 200 of 4 900
    assert set(_kinds(answers)) == {"ReverseTransferSuccess", "InvalidStateRejection"}
    rest = [reversal_input(transfer_id, refund_fee=True) for _ in range(5)]
    kinds = _kinds(await _all_at_once(client, sandbox, REVERSE, rest))
    assert kinds == {"ReverseTransferSuccess": 1, "InvalidStateRejection": 4}, kinds

    pay_in_id = await fund_pay_in(client, sandbox, payer)
    read = await money_back(client, sandbox, transfer_id, pay_in_id)
    assert read["transfer"]["reversedAmount"]["amount"] == 4_900
    assert len(read["transfer"]["reversals"]) == 25
    assert read["platform"]["feeAccounts"][0]["balance"]["amount"] == 0
    summary = await assert_ledger_holds(db, sandbox.id)
    assert summary.reversals == 25


async def fund_pay_in(client: httpx.AsyncClient, platform: PlatformHandle, account_id: str) -> str:
    return await settled_pay_in(client, platform, account_id, 3_000)


async def test_concurrent_refunds_of_one_pay_in_never_exceed_what_it_credited(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    account_id = await open_account(client, sandbox, await create_user(client, sandbox, "backed"))
    pay_in_id = await fund_pay_in(client, sandbox, account_id)
    parts = [refund_input(pay_in_id, 150) for _ in range(30)]

    answers = await _all_at_once(client, sandbox, REFUND, parts + parts[:DUPLICATED])

    assert len(_effects(answers, "refund", DUPLICATED)) == 20  # 20 x 150 of 3 000
    assert set(_kinds(answers)) == {"RefundPayInSuccess", "InvalidStateRejection"}
    summary = await assert_ledger_holds(db, sandbox.id)
    assert summary.refunds == 20
    assert summary.balances[next(iter(summary.balances))] == 0
