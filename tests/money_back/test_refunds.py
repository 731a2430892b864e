"""Refunds of pay-ins through the API, on both stores: funds leave when a refund is created,
come back if the payer's bank refuses it, and never more than the pay-in credited."""

from __future__ import annotations

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.services.sandbox import settle_due
from gateway.store.engine import Database
from tests.ledger.invariants import assert_ledger_holds
from tests.support.accounts import balance, entries, entry_lines, open_account
from tests.support.calls import mutate, query, rejected, state, success, top_level_error
from tests.support.decisions import operator_records_wire
from tests.support.documents import CLOSE_ACCOUNT
from tests.support.inputs import money
from tests.support.money_back import (
    DECIDE_REFUND,
    fee_balances,
    money_back,
    refund,
    refund_input,
    refunded,
    settled_pay_in,
    simulate_refund,
    transfer,
)
from tests.support.payments import create_wire, funded_account
from tests.support.platforms import PlatformHandle, key_with_role
from tests.support.users import create_natural_user

REFUND_EVENTS = """{ platform { events(types: [REFUND_CREATED, REFUND_PENDING, REFUND_SUCCESSFUL,
  REFUND_FAILED]) { nodes { objectId type previousStatus status } } } }"""


async def _account(client: httpx.AsyncClient, platform: PlatformHandle) -> str:
    return await open_account(client, platform, await create_natural_user(client, platform))


async def test_a_refund_leaves_the_account_at_once_and_then_succeeds(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 1_000, fee=40)
    assert await balance(client, sandbox, account_id) == 960
    assert await fee_balances(client, sandbox) == {"EUR": 40}

    created = await refunded(client, sandbox, refund_input(pay_in_id, 300))

    assert created["status"] == "CREATED"
    assert created["amount"] == {"amount": 300, "currency": "EUR"}
    assert created["feeRefunded"]["amount"] == 0
    assert created["payIn"]["refundedAmount"]["amount"] == 300
    assert await balance(client, sandbox, account_id) == 660
    settled = success(
        await simulate_refund(client, sandbox, created["id"], "SUCCEEDED"), "SimulateSuccess"
    )
    assert settled["object"]["status"] == "SUCCEEDED"
    assert await balance(client, sandbox, account_id) == 660
    events = (await query(client, sandbox, REFUND_EVENTS))["platform"]["events"]["nodes"]
    assert [(e["type"], e["previousStatus"], e["status"]) for e in events] == [
        ("REFUND_CREATED", None, "CREATED"),
        ("REFUND_PENDING", "CREATED", "PENDING"),
        ("REFUND_SUCCESSFUL", "PENDING", "SUCCEEDED"),
    ]
    (line, *_) = entry_lines(await entries(client, sandbox, account_id))
    assert line == ("REFUND", -300, 660, "Refund", created["id"])
    summary = await assert_ledger_holds(db, sandbox.id)
    assert summary.refunds == 1


async def test_a_failed_refund_gives_the_funds_and_the_fee_back(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 1_000, fee=40)
    operator = await key_with_role(db, sandbox, ApiKeyRole.OPERATOR)

    whole = await refunded(client, sandbox, refund_input(pay_in_id, refund_fee=True))
    assert (whole["amount"]["amount"], whole["feeRefunded"]["amount"]) == (960, 40)
    assert await balance(client, sandbox, account_id) == 0
    assert await fee_balances(client, sandbox) == {"EUR": 0}
    nothing_left = await refund(client, sandbox, refund_input(pay_in_id, 1))
    rejected(nothing_left, "InvalidStateRejection", "INVALID_STATE")

    decision = {"refundId": whole["id"], "outcome": "FAILED", "message": "Account closed."}
    failed = success(await mutate(client, operator, DECIDE_REFUND, decision), "DecideRefundSuccess")

    assert failed["refund"]["status"] == "FAILED"
    assert failed["refund"]["failureReason"] == "Account closed."
    assert failed["refund"]["payIn"]["refundedAmount"]["amount"] == 0
    assert await balance(client, sandbox, account_id) == 960
    assert await fee_balances(client, sandbox) == {"EUR": 40}
    again = await mutate(client, operator, DECIDE_REFUND, {**decision, "outcome": "SUCCEEDED"})
    rejected(again, "InvalidStateRejection", "INVALID_STATE")
    retry = await refunded(client, sandbox, refund_input(pay_in_id, 960))  # room again
    read = await money_back(
        client, sandbox, await transfer_of(client, sandbox, account_id), pay_in_id
    )
    assert [r["id"] for r in read["payIn"]["refunds"]] == [whole["id"], retry["id"]]
    assert read["payIn"]["refundedAmount"]["amount"] == 960
    await assert_ledger_holds(db, sandbox.id)


async def transfer_of(client: httpx.AsyncClient, platform: PlatformHandle, account_id: str) -> str:
    """Any transfer of the platform (the money-back query reads one of each)."""
    other = await _account(client, platform)
    await settled_pay_in(client, platform, other, 10)
    return await transfer(client, platform, other, account_id, 10)


async def test_only_what_a_succeeded_pay_in_credited_is_refunded(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 500, fee=100)
    pending = await create_wire(client, sandbox, account_id, 300)
    before = await state(client, sandbox, account_id, pay_in_id, pending)

    over = await refund(client, sandbox, refund_input(pay_in_id, 401))  # it credited 400
    rejected(over, "InvalidStateRejection", "INVALID_STATE")
    not_settled = await refund(client, sandbox, refund_input(pending))
    rejected(not_settled, "InvalidStateRejection", "INVALID_STATE")
    usd = await refund(client, sandbox, {**refund_input(pay_in_id), "amount": money(10, "USD")})
    rejected(usd, "CurrencyMismatchRejection", "CURRENCY_MISMATCH")
    unknown = await refund(client, sandbox, refund_input(account_id))
    rejected(unknown, "NotFoundRejection", "NOT_FOUND")

    assert await state(client, sandbox, account_id, pay_in_id, pending) == before


async def test_a_refund_beyond_the_balance_is_insufficient_funds(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 500)
    await transfer(client, sandbox, account_id, await _account(client, sandbox), 450)

    payload = await refund(client, sandbox, refund_input(pay_in_id))

    refused = rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
    assert refused["available"]["amount"] == 50


async def test_a_replay_returns_the_refund_and_another_input_conflicts(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 500)
    new = refund_input(pay_in_id, 100)

    first = success(await refund(client, sandbox, new), "RefundPayInSuccess")
    replay = success(await refund(client, sandbox, new), "RefundPayInSuccess")

    assert (first["idempotentReplay"], replay["idempotentReplay"]) == (False, True)
    assert replay["refund"]["id"] == first["refund"]["id"]
    assert await balance(client, sandbox, account_id) == 400
    conflict = await refund(client, sandbox, {**new, "refundFee": True})
    rejected(conflict, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")


async def test_on_production_an_operator_decides_and_simulation_is_forbidden(
    client: httpx.AsyncClient, db: Database, production: PlatformHandle
) -> None:
    funded = await funded_account(client, production, 0)
    pay_in_id = await create_wire(client, production, funded.account_id, 700)
    await operator_records_wire(client, db, production, pay_in_id, 700)
    operator = await key_with_role(db, production, ApiKeyRole.OPERATOR)
    created = await refunded(client, production, refund_input(pay_in_id, 200))

    simulated = await simulate_refund(client, production, created["id"], "SUCCEEDED")
    rejected(simulated, "ForbiddenRejection", "FORBIDDEN")
    decision = {"refundId": created["id"], "outcome": "SUCCEEDED"}
    by_backend = await top_level_error(client, production, DECIDE_REFUND, decision)
    assert by_backend["extensions"]["code"] == "FORBIDDEN"
    decided = success(
        await mutate(client, operator, DECIDE_REFUND, decision), "DecideRefundSuccess"
    )
    assert decided["refund"]["status"] == "SUCCEEDED"
    assert await balance(client, production, funded.account_id) == 500
    await assert_ledger_holds(db, production.id)


async def test_the_sandbox_settler_decides_due_refunds(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 500)
    created = await refunded(client, sandbox, refund_input(pay_in_id, 100))

    await settle_due(db, delay_s=0)

    read = await money_back(
        client, sandbox, await transfer_of(client, sandbox, account_id), pay_in_id
    )
    assert [r["status"] for r in read["payIn"]["refunds"]] == ["SUCCEEDED"]
    assert read["payIn"]["refunds"][0]["id"] == created["id"]
    await assert_ledger_holds(db, sandbox.id)


async def test_an_account_with_a_refund_in_flight_cannot_close(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id = await _account(client, sandbox)
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 500)
    created = await refunded(client, sandbox, refund_input(pay_in_id))  # balance 0 now

    closing = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": account_id})

    rejected(closing, "InvalidStateRejection", "INVALID_STATE")
    success(await simulate_refund(client, sandbox, created["id"], "SUCCEEDED"), "SimulateSuccess")
    closed = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": account_id})
    assert success(closed, "AccountStatusSuccess")["account"]["status"] == "CLOSED"
