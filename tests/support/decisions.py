"""Operator decisions through the API: an OPERATOR key of the platform and the mutations
compliance and treasury call, on PRODUCTION and SANDBOX platforms alike."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.store.engine import Database
from tests.support.calls import mutate, success
from tests.support.documents import (
    DECIDE_DOCUMENT,
    DECIDE_MANDATE,
    DECIDE_PAY_OUT,
    DECIDE_USER_VALIDATION,
    FAIL_WIRE_PAY_IN,
    RECORD_WIRE_PAY_IN,
    SETTLE_DIRECT_DEBIT,
)
from tests.support.inputs import money
from tests.support.platforms import PlatformHandle, key_with_role

VALUE_DATE = "2026-12-04"


async def operator_of(db: Database, platform: PlatformHandle) -> PlatformHandle:
    """A new OPERATOR key of the platform."""
    return await key_with_role(db, platform, ApiKeyRole.OPERATOR)


def _drop_none(input: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in input.items() if value is not None}


async def decide_user(
    client: httpx.AsyncClient,
    operator: PlatformHandle,
    user_id: str,
    outcome: str,
    reasons: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    input = _drop_none({"userId": user_id, "outcome": outcome, "reasons": reasons, **extra})
    return await mutate(client, operator, DECIDE_USER_VALIDATION, input)


async def decide_document(
    client: httpx.AsyncClient,
    operator: PlatformHandle,
    document_id: str,
    outcome: str,
    reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    input = _drop_none({"documentId": document_id, "outcome": outcome, "reason": reason, **extra})
    return await mutate(client, operator, DECIDE_DOCUMENT, input)


async def decide_mandate(
    client: httpx.AsyncClient, operator: PlatformHandle, mandate_id: str, outcome: str, **extra: Any
) -> dict[str, Any]:
    input = {"mandateId": mandate_id, "outcome": outcome, **extra}
    return await mutate(client, operator, DECIDE_MANDATE, input)


async def record_wire(
    client: httpx.AsyncClient,
    operator: PlatformHandle,
    pay_in_id: str,
    amount: int,
    currency: str = "EUR",
    **extra: Any,
) -> dict[str, Any]:
    input = {
        "payInId": pay_in_id,
        "amountReceived": money(amount, currency),
        "valueDate": VALUE_DATE,
        **extra,
    }
    return await mutate(client, operator, RECORD_WIRE_PAY_IN, input)


async def fail_wire(
    client: httpx.AsyncClient, operator: PlatformHandle, pay_in_id: str, **extra: Any
) -> dict[str, Any]:
    return await mutate(client, operator, FAIL_WIRE_PAY_IN, {"payInId": pay_in_id, **extra})


async def settle_direct_debit(
    client: httpx.AsyncClient, operator: PlatformHandle, pay_in_id: str, outcome: str, **extra: Any
) -> dict[str, Any]:
    input = {"payInId": pay_in_id, "outcome": outcome, **extra}
    return await mutate(client, operator, SETTLE_DIRECT_DEBIT, input)


async def decide_pay_out(
    client: httpx.AsyncClient, operator: PlatformHandle, pay_out_id: str, outcome: str, **extra: Any
) -> dict[str, Any]:
    input = {"payOutId": pay_out_id, "outcome": outcome, **extra}
    return await mutate(client, operator, DECIDE_PAY_OUT, input)


async def operator_validates(
    client: httpx.AsyncClient, db: Database, platform: PlatformHandle, user_id: str
) -> None:
    """Compliance validates a PENDING user (what works on a PRODUCTION platform)."""
    operator = await operator_of(db, platform)
    success(
        await decide_user(client, operator, user_id, "VALIDATED"), "DecideUserValidationSuccess"
    )


async def operator_records_wire(
    client: httpx.AsyncClient, db: Database, platform: PlatformHandle, pay_in_id: str, amount: int
) -> None:
    """Treasury records the wire of a BANK_WIRE pay-in, for the amount announced."""
    operator = await operator_of(db, platform)
    success(await record_wire(client, operator, pay_in_id, amount), "DecidePayInSuccess")
