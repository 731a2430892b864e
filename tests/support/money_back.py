"""Reversals, refunds and fees through the API: the calls and the reads their tests share."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.calls import mutate, query, success
from tests.support.documents import document
from tests.support.inputs import money, new_key, transfer_input, wire_input
from tests.support.payments import settle_pay_in
from tests.support.platforms import PlatformHandle

REVERSE_TRANSFER = document("ReverseTransfer")
REFUND_PAY_IN = document("RefundPayIn")
REFUND_PAY_INS = document("RefundPayIns")
DECIDE_REFUND = document("DecideRefund")
SIMULATE_REFUND = document("SimulateRefund")
MONEY_BACK_QUERY = document("MoneyBack")
CREATE_TRANSFER = document("CreateTransfer")
CREATE_PAY_IN = document("CreatePayIn")


def reversal_input(
    transfer_id: str, amount: int | None = None, *, refund_fee: bool = False, **overrides: Any
) -> dict[str, Any]:
    new: dict[str, Any] = {"transferId": transfer_id, "idempotencyKey": new_key()}
    if amount is not None:
        new["amount"] = money(amount)
    if refund_fee:
        new["refundFee"] = True
    return {**new, **overrides}


def refund_input(
    pay_in_id: str, amount: int | None = None, *, refund_fee: bool = False, **overrides: Any
) -> dict[str, Any]:
    new: dict[str, Any] = {"payInId": pay_in_id, "idempotencyKey": new_key()}
    if amount is not None:
        new["amount"] = money(amount)
    if refund_fee:
        new["refundFee"] = True
    return {**new, **overrides}


async def reverse(
    client: httpx.AsyncClient, platform: PlatformHandle, new: dict[str, Any]
) -> dict[str, Any]:
    return await mutate(client, platform, REVERSE_TRANSFER, new)


async def refund(
    client: httpx.AsyncClient, platform: PlatformHandle, new: dict[str, Any]
) -> dict[str, Any]:
    return await mutate(client, platform, REFUND_PAY_IN, new)


async def transfer(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    debited: str,
    credited: str,
    amount: int,
    fee: int | None = None,
) -> str:
    """A transfer that succeeds (with a fee if given); its id."""
    new = transfer_input(debited, credited, amount)
    if fee is not None:
        new["fee"] = money(fee)
    payload = await mutate(client, platform, CREATE_TRANSFER, new)
    transfer_id: str = success(payload, "CreateTransferSuccess")["transfer"]["id"]
    return transfer_id


async def settled_pay_in(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    amount: int,
    fee: int | None = None,
) -> str:
    """A bank wire (with a fee if given) that the sandbox bank settled; its id."""
    new = wire_input(account_id, amount)
    if fee is not None:
        new["fee"] = money(fee)
    payload = await mutate(client, platform, CREATE_PAY_IN, new)
    pay_in_id: str = success(payload, "CreatePayInSuccess")["payIn"]["id"]
    success(await settle_pay_in(client, platform, pay_in_id, "SUCCEEDED"), "SimulateSuccess")
    return pay_in_id


async def refunded(
    client: httpx.AsyncClient, platform: PlatformHandle, new: dict[str, Any]
) -> dict[str, Any]:
    """A refund that must be created; the refund."""
    found: dict[str, Any] = success(await refund(client, platform, new), "RefundPayInSuccess")
    return found["refund"]  # type: ignore[no-any-return]


async def simulate_refund(
    client: httpx.AsyncClient, platform: PlatformHandle, refund_id: str, outcome: str
) -> dict[str, Any]:
    return await mutate(
        client, platform, SIMULATE_REFUND, {"refundId": refund_id, "outcome": outcome}
    )


async def money_back(
    client: httpx.AsyncClient, platform: PlatformHandle, transfer_id: str, pay_in_id: str
) -> dict[str, Any]:
    """The transfer's reversals, the pay-in's refunds and the platform's fee accounts."""
    variables = {"transferId": transfer_id, "payInId": pay_in_id}
    return await query(client, platform, MONEY_BACK_QUERY, variables)


async def fee_balances(client: httpx.AsyncClient, platform: PlatformHandle) -> dict[str, int]:
    found = await query(
        client, platform, "{ platform { feeAccounts { currency balance { amount } } } }"
    )
    return {f["currency"]: f["balance"]["amount"] for f in found["platform"]["feeAccounts"]}
