"""Treasury decisions: wires recorded or failed, direct debits settled or charged back,
pay-outs settled or returned, mandates decided, on PRODUCTION and SANDBOX platforms alike;
the ledger holds after each (balances equal entries, legs sum to zero)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from gateway.services.sandbox import settle_due
from gateway.store.engine import Database
from tests.decisions import decision_events
from tests.ledger.invariants import assert_ledger_holds
from tests.support.accounts import add_bank_account, balance, entries, entry_lines, open_account
from tests.support.calls import mutate, rejected, state, success, top_level_error
from tests.support.decisions import (
    decide_mandate,
    decide_pay_out,
    fail_wire,
    operator_of,
    operator_validates,
    record_wire,
    settle_direct_debit,
)
from tests.support.documents import CREATE_PAY_IN, CREATE_PAY_OUT, CREATE_TRANSFER, DECIDE_PAY_OUT
from tests.support.inputs import new_key, pay_out_input, transfer_input, wire_input
from tests.support.kyc import request_validation, submit_document
from tests.support.payments import create_mandate, create_wire, settle_pay_in
from tests.support.platforms import PlatformHandle
from tests.support.users import create_natural_user


@dataclass(frozen=True)
class Customer:
    operator: PlatformHandle
    user_id: str
    account_id: str


async def _customer(client: httpx.AsyncClient, db: Database, platform: PlatformHandle) -> Customer:
    """A user validated by compliance, with a VALIDATED account, and the operator's key."""
    user_id = await create_natural_user(client, platform)
    account_id = await open_account(client, platform, user_id)
    success(await submit_document(client, platform, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    await operator_validates(client, db, platform, user_id)
    return Customer(await operator_of(db, platform), user_id, account_id)


async def test_a_recorded_wire_credits_the_amount_that_arrived(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await create_wire(client, any_platform, customer.account_id, 1_000)

    payload = await record_wire(
        client, customer.operator, pay_in_id, 950, bankReference="BANK-REF-42"
    )

    pay_in = success(payload, "DecidePayInSuccess")["payIn"]
    assert (pay_in["status"], pay_in["amount"]["amount"]) == ("SUCCEEDED", 1_000)
    assert pay_in["amountReceived"] == {"amount": 950, "currency": "EUR"}
    assert (pay_in["valueDate"], pay_in["bankReference"]) == ("2026-12-04", "BANK-REF-42")
    assert await balance(client, any_platform, customer.account_id) == 950
    found = await decision_events(client, any_platform, "PAY_IN_PENDING", "PAY_IN_SUCCESSFUL")
    assert [(e["type"], e["status"]) for e in found] == [
        ("PAY_IN_PENDING", "PENDING"),
        ("PAY_IN_SUCCESSFUL", "SUCCEEDED"),
    ]
    again = await record_wire(client, customer.operator, pay_in_id, 950)
    assert rejected(again, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "SUCCEEDED"
    await assert_ledger_holds(db, any_platform.id)


async def test_a_wire_in_another_currency_or_a_failed_wire_credits_nothing(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await create_wire(client, any_platform, customer.account_id, 1_000)
    before = await state(client, any_platform, pay_in_id, customer.account_id)

    mismatch = await record_wire(client, customer.operator, pay_in_id, 1_000, currency="USD")
    assert await state(client, any_platform, pay_in_id, customer.account_id) == before
    failed = await fail_wire(client, customer.operator, pay_in_id, reason="Never arrived.")
    late = await record_wire(client, customer.operator, pay_in_id, 1_000)

    rejected(mismatch, "CurrencyMismatchRejection", "CURRENCY_MISMATCH")
    pay_in = success(failed, "DecidePayInSuccess")["payIn"]
    assert (pay_in["status"], pay_in["failureReason"]) == ("FAILED", "Never arrived.")
    assert rejected(late, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "FAILED"
    assert await balance(client, any_platform, customer.account_id) == 0
    [event] = await decision_events(client, any_platform, "PAY_IN_FAILED")
    assert (event["objectId"], event["message"]) == (pay_in_id, "Never arrived.")
    await assert_ledger_holds(db, any_platform.id)


async def _pay_out(client: httpx.AsyncClient, platform: PlatformHandle, c: Customer) -> str:
    bank_account_id = await add_bank_account(client, platform, c.user_id)
    input = pay_out_input(c.account_id, bank_account_id, 400)
    payload = await mutate(client, platform, CREATE_PAY_OUT, input)
    pay_out_id: str = success(payload, "CreatePayOutSuccess")["payOut"]["id"]
    return pay_out_id


async def test_a_pay_out_fails_or_succeeds_and_a_returned_one_brings_its_funds_back(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    operator = customer.operator
    pay_in_id = await create_wire(client, any_platform, customer.account_id, 1_000)
    success(await record_wire(client, operator, pay_in_id, 1_000), "DecidePayInSuccess")
    failing, returning = (
        await _pay_out(client, any_platform, customer),
        await _pay_out(client, any_platform, customer),
    )
    assert await balance(client, any_platform, customer.account_id) == 200

    early = await decide_pay_out(client, operator, returning, "RETURNED")
    failed = await decide_pay_out(client, operator, failing, "FAILED", reason="Closed account.")
    succeeded = await decide_pay_out(client, operator, returning, "SUCCEEDED")
    assert await balance(client, any_platform, customer.account_id) == 600
    returned = await decide_pay_out(client, operator, returning, "RETURNED", reason="Refused.")
    twice = await decide_pay_out(client, operator, returning, "RETURNED")

    assert rejected(early, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "CREATED"
    assert success(failed, "DecidePayOutSuccess")["payOut"]["status"] == "FAILED"
    assert success(succeeded, "DecidePayOutSuccess")["payOut"]["status"] == "SUCCEEDED"
    pay_out = success(returned, "DecidePayOutSuccess")["payOut"]
    assert (pay_out["status"], pay_out["failureReason"]) == ("RETURNED", "Refused.")
    assert rejected(twice, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "RETURNED"
    assert await balance(client, any_platform, customer.account_id) == 1_000
    lines = entry_lines(await entries(client, any_platform, customer.account_id))
    assert lines[0] == ("PAY_OUT_RETURN", 400, 1_000, "PayOut", returning)
    [event] = await decision_events(client, any_platform, "PAY_OUT_RETURNED")
    assert (event["objectId"], event["previousStatus"], event["message"]) == (
        returning,
        "SUCCEEDED",
        "Refused.",
    )
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.balances[uuid.UUID(customer.account_id)] == 1_000


async def _direct_debit(
    client: httpx.AsyncClient, platform: PlatformHandle, c: Customer, amount: int
) -> str:
    bank_account_id = await add_bank_account(client, platform, c.user_id)
    mandate_id = await create_mandate(client, platform, c.user_id, bank_account_id)
    activated = await decide_mandate(client, c.operator, mandate_id, "ACTIVE")
    assert success(activated, "DecideMandateSuccess")["mandate"]["status"] == "ACTIVE"
    input = wire_input(c.account_id, amount, method="DIRECT_DEBIT", mandateId=mandate_id)
    payload = await mutate(client, platform, CREATE_PAY_IN, input)
    pay_in_id: str = success(payload, "CreatePayInSuccess")["payIn"]["id"]
    return pay_in_id


async def test_a_direct_debit_settles_and_a_charge_back_takes_its_funds_back(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    operator = customer.operator
    pay_in_id = await _direct_debit(client, any_platform, customer, 700)

    early = await settle_direct_debit(client, operator, pay_in_id, "CHARGED_BACK")
    settled = await settle_direct_debit(client, operator, pay_in_id, "SUCCEEDED")
    assert await balance(client, any_platform, customer.account_id) == 700
    charged = await settle_direct_debit(
        client, operator, pay_in_id, "CHARGED_BACK", reason="Disputed by the payer."
    )
    twice = await settle_direct_debit(client, operator, pay_in_id, "CHARGED_BACK")
    as_wire = await record_wire(client, operator, pay_in_id, 700)

    assert rejected(early, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "CREATED"
    assert success(settled, "DecidePayInSuccess")["payIn"]["status"] == "SUCCEEDED"
    pay_in = success(charged, "DecidePayInSuccess")["payIn"]
    assert (pay_in["status"], pay_in["failureReason"]) == ("CHARGED_BACK", "Disputed by the payer.")
    assert rejected(twice, "InvalidStateRejection", "INVALID_STATE")["currentState"] == (
        "CHARGED_BACK"
    )
    rejected(as_wire, "InvalidStateRejection", "INVALID_STATE")
    assert await balance(client, any_platform, customer.account_id) == 0
    lines = entry_lines(await entries(client, any_platform, customer.account_id))
    assert lines[0] == ("CHARGEBACK", -700, 0, "PayIn", pay_in_id)
    found = await decision_events(client, any_platform, "DIRECT_DEBIT_CHARGED_BACK")
    assert [(e["objectId"], e["previousStatus"]) for e in found] == [(pay_in_id, "SUCCEEDED")]
    await assert_ledger_holds(db, any_platform.id)


async def test_a_charge_back_beyond_the_balance_is_refused_naming_what_is_available(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await _direct_debit(client, any_platform, customer, 700)
    success(
        await settle_direct_debit(client, customer.operator, pay_in_id, "SUCCEEDED"),
        "DecidePayInSuccess",
    )
    second = await open_account(client, any_platform, customer.user_id)
    moved = await mutate(
        client, any_platform, CREATE_TRANSFER, transfer_input(customer.account_id, second, 500)
    )
    success(moved, "CreateTransferSuccess")
    before = await state(client, any_platform, pay_in_id, customer.account_id)

    payload = await settle_direct_debit(client, customer.operator, pay_in_id, "CHARGED_BACK")

    short = rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
    assert short["available"]["amount"] == 200
    assert await state(client, any_platform, pay_in_id, customer.account_id) == before
    await assert_ledger_holds(db, any_platform.id)


async def test_a_mandate_fails_with_its_reason_and_stays_decided(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    bank_account_id = await add_bank_account(client, any_platform, customer.user_id)
    mandate_id = await create_mandate(client, any_platform, customer.user_id, bank_account_id)
    key = new_key()

    failed = await decide_mandate(
        client, customer.operator, mandate_id, "FAILED", reason="Unknown IBAN.", idempotencyKey=key
    )
    replay = await decide_mandate(
        client, customer.operator, mandate_id, "FAILED", reason="Unknown IBAN.", idempotencyKey=key
    )
    again = await decide_mandate(client, customer.operator, mandate_id, "ACTIVE")

    mandate = success(failed, "DecideMandateSuccess")["mandate"]
    assert (mandate["status"], mandate["failureReason"]) == ("FAILED", "Unknown IBAN.")
    assert success(replay, "DecideMandateSuccess")["idempotentReplay"] is True
    assert rejected(again, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "FAILED"
    found = await decision_events(client, any_platform, "MANDATE_FAILED")
    assert [(e["objectId"], e["message"]) for e in found] == [(mandate_id, "Unknown IBAN.")]


async def test_a_backend_key_may_not_settle_a_pay_out(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await create_wire(client, any_platform, customer.account_id, 1_000)
    success(await record_wire(client, customer.operator, pay_in_id, 1_000), "DecidePayInSuccess")
    pay_out_id = await _pay_out(client, any_platform, customer)
    before = await state(client, any_platform, pay_out_id, customer.account_id)

    input = {"payOutId": pay_out_id, "outcome": "FAILED"}
    error = await top_level_error(client, any_platform, DECIDE_PAY_OUT, input)

    assert error["extensions"]["code"] == "FORBIDDEN", error
    assert await state(client, any_platform, pay_out_id, customer.account_id) == before


async def test_on_a_sandbox_simulations_the_settler_and_operators_share_one_state_machine(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    customer = await _customer(client, db, sandbox)
    wire_id = await create_wire(client, sandbox, customer.account_id, 300)
    debit_id = await _direct_debit(client, sandbox, customer, 500)
    success(await fail_wire(client, customer.operator, wire_id), "DecidePayInSuccess")

    await settle_due(db, delay_s=0)  # decides the direct debit, leaves the failed wire
    simulated = await settle_pay_in(client, sandbox, wire_id, "SUCCEEDED")
    charged = await settle_direct_debit(client, customer.operator, debit_id, "CHARGED_BACK")

    rejected(simulated, "InvalidStateRejection", "INVALID_STATE")
    assert "FAILED" in simulated["message"]
    assert success(charged, "DecidePayInSuccess")["payIn"]["status"] == "CHARGED_BACK"
    assert await balance(client, sandbox, customer.account_id) == 0
    await assert_ledger_holds(db, sandbox.id)
