"""Fees and the operators' money decisions, through the API on PRODUCTION and SANDBOX platforms:
a recorded wire collects its fee from what arrived, a pay-out that fails or comes back returns
its fee, a charge-back takes back the fee less what refunds already gave back. The ledger
checker recomputes every leg after each scenario; a refused decision changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from gateway.store.engine import Database
from tests.decisions import decision_events
from tests.ledger.invariants import assert_ledger_holds
from tests.support.accounts import add_bank_account, balance, entries, entry_lines, open_account
from tests.support.calls import field_paths, mutate, rejected, state, success
from tests.support.decisions import (
    decide_mandate,
    decide_pay_out,
    operator_of,
    operator_validates,
    record_wire,
    settle_direct_debit,
)
from tests.support.documents import CREATE_PAY_IN, CREATE_PAY_OUT
from tests.support.inputs import money, pay_out_input, wire_input
from tests.support.kyc import request_validation, submit_document
from tests.support.money_back import (
    DECIDE_REFUND,
    fee_balances,
    refund,
    refund_input,
    refunded,
)
from tests.support.payments import create_mandate
from tests.support.platforms import PlatformHandle
from tests.support.users import create_natural_user


@dataclass(frozen=True)
class Customer:
    operator: PlatformHandle
    user_id: str
    account_id: str


async def _customer(client: httpx.AsyncClient, db: Database, platform: PlatformHandle) -> Customer:
    """A user validated by compliance, with an empty account, and the operator's key."""
    user_id = await create_natural_user(client, platform)
    account_id = await open_account(client, platform, user_id)
    success(await submit_document(client, platform, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    await operator_validates(client, db, platform, user_id)
    return Customer(await operator_of(db, platform), user_id, account_id)


async def _pay_in(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    c: Customer,
    amount: int,
    fee: int,
    **more: str,
) -> str:
    new = wire_input(c.account_id, amount, fee=money(fee), **more)
    payload = await mutate(client, platform, CREATE_PAY_IN, new)
    pay_in_id: str = success(payload, "CreatePayInSuccess")["payIn"]["id"]
    return pay_in_id


async def _direct_debit(
    client: httpx.AsyncClient, platform: PlatformHandle, c: Customer, amount: int, fee: int
) -> str:
    """A DIRECT_DEBIT pay-in with a fee, on a mandate the operator activated, that succeeded."""
    bank_account_id = await add_bank_account(client, platform, c.user_id)
    mandate_id = await create_mandate(client, platform, c.user_id, bank_account_id)
    success(await decide_mandate(client, c.operator, mandate_id, "ACTIVE"), "DecideMandateSuccess")
    pay_in_id = await _pay_in(
        client, platform, c, amount, fee, method="DIRECT_DEBIT", mandateId=mandate_id
    )
    settled = await settle_direct_debit(client, c.operator, pay_in_id, "SUCCEEDED")
    assert success(settled, "DecidePayInSuccess")["payIn"]["status"] == "SUCCEEDED"
    return pay_in_id


async def _pay_out(
    client: httpx.AsyncClient, platform: PlatformHandle, c: Customer, amount: int, fee: int
) -> str:
    bank_account_id = await add_bank_account(client, platform, c.user_id)
    new = pay_out_input(c.account_id, bank_account_id, amount, fee=money(fee))
    payload = await mutate(client, platform, CREATE_PAY_OUT, new)
    pay_out_id: str = success(payload, "CreatePayOutSuccess")["payOut"]["id"]
    return pay_out_id


async def _kinds(
    client: httpx.AsyncClient, platform: PlatformHandle, account_id: str
) -> list[tuple[str, int, str]]:
    """The account's entries as (kind, amount, operation id), oldest first."""
    lines = entry_lines(await entries(client, platform, account_id))
    return [(kind, amount, operation_id) for kind, amount, _, _, operation_id in reversed(lines)]


# ---- recorded wires --------------------------------------------------------------------


async def test_a_recorded_wire_with_a_fee_credits_what_arrived_less_the_fee(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    more = await _pay_in(client, any_platform, customer, 1_000, 50)
    less = await _pay_in(client, any_platform, customer, 1_000, 50)
    assert await fee_balances(client, any_platform) == {}  # nothing before the wire arrives

    over = await record_wire(client, customer.operator, more, 1_200)
    under = await record_wire(client, customer.operator, less, 800, bankReference="REF-800")

    for payload, received in ((over, 1_200), (under, 800)):
        pay_in = success(payload, "DecidePayInSuccess")["payIn"]
        assert (pay_in["status"], pay_in["amount"]["amount"]) == ("SUCCEEDED", 1_000)
        assert pay_in["amountReceived"] == {"amount": received, "currency": "EUR"}
    assert await balance(client, any_platform, customer.account_id) == 1_150 + 750
    assert await fee_balances(client, any_platform) == {"EUR": 100}
    assert await _kinds(client, any_platform, customer.account_id) == [
        ("PAY_IN", 1_150, more),
        ("PAY_IN", 750, less),
    ]
    found = await decision_events(client, any_platform, "PAY_IN_SUCCESSFUL")
    assert [(e["objectId"], e["previousStatus"]) for e in found] == [
        (more, "PENDING"),
        (less, "PENDING"),
    ]
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.settlement_balances == {"EUR": -2_000}  # the bank holds what arrived

    # Refunds of a recorded wire are capped by what it credited: amountReceived - fee.
    before = await state(client, any_platform, less, customer.account_id)
    too_much = await refund(client, any_platform, refund_input(less, 751))
    rejected(too_much, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, any_platform, less, customer.account_id) == before
    whole = await refunded(client, any_platform, refund_input(less, refund_fee=True))
    assert (whole["amount"]["amount"], whole["feeRefunded"]["amount"]) == (750, 50)
    assert await balance(client, any_platform, customer.account_id) == 1_150
    assert await fee_balances(client, any_platform) == {"EUR": 50}
    await assert_ledger_holds(db, any_platform.id)


async def test_a_wire_not_above_its_fee_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await _pay_in(client, any_platform, customer, 1_000, 50)
    before = await state(client, any_platform, pay_in_id, customer.account_id)

    for amount in (50, 30):
        payload = await record_wire(client, customer.operator, pay_in_id, amount)
        rejected(payload, "ValidationRejection", "VALIDATION_FAILED")
        assert field_paths(payload) == ["amountReceived.amount"]

    assert await state(client, any_platform, pay_in_id, customer.account_id) == before
    assert await fee_balances(client, any_platform) == {}
    assert await decision_events(client, any_platform, "PAY_IN_PENDING", "PAY_IN_SUCCESSFUL") == []
    assert await _kinds(client, any_platform, customer.account_id) == []
    await assert_ledger_holds(db, any_platform.id)

    just = await record_wire(client, customer.operator, pay_in_id, 51)
    assert success(just, "DecidePayInSuccess")["payIn"]["status"] == "SUCCEEDED"
    assert await balance(client, any_platform, customer.account_id) == 1
    assert await fee_balances(client, any_platform) == {"EUR": 50}
    await assert_ledger_holds(db, any_platform.id)


# ---- pay-outs --------------------------------------------------------------------------


async def test_a_failed_or_returned_pay_out_gives_its_fee_back(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    operator = customer.operator
    new = wire_input(customer.account_id, 1_000)
    funded = success(await mutate(client, any_platform, CREATE_PAY_IN, new), "CreatePayInSuccess")
    success(await record_wire(client, operator, funded["payIn"]["id"], 1_000), "DecidePayInSuccess")
    failing = await _pay_out(client, any_platform, customer, 400, 20)
    returning = await _pay_out(client, any_platform, customer, 300, 10)
    assert await balance(client, any_platform, customer.account_id) == 300
    assert await fee_balances(client, any_platform) == {"EUR": 30}
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.settlement_balances == {"EUR": -1_000 + 380 + 290}

    failed = await decide_pay_out(client, operator, failing, "FAILED", reason="Closed account.")
    assert success(failed, "DecidePayOutSuccess")["payOut"]["status"] == "FAILED"
    assert await balance(client, any_platform, customer.account_id) == 700
    assert await fee_balances(client, any_platform) == {"EUR": 10}
    succeeded = await decide_pay_out(client, operator, returning, "SUCCEEDED")
    assert success(succeeded, "DecidePayOutSuccess")["payOut"]["status"] == "SUCCEEDED"
    assert await fee_balances(client, any_platform) == {"EUR": 10}  # a success keeps its fee
    returned = await decide_pay_out(client, operator, returning, "RETURNED", reason="Refused.")
    assert success(returned, "DecidePayOutSuccess")["payOut"]["status"] == "RETURNED"

    before = await state(client, any_platform, returning, customer.account_id)
    twice = await decide_pay_out(client, operator, returning, "RETURNED")
    assert rejected(twice, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "RETURNED"
    assert await state(client, any_platform, returning, customer.account_id) == before
    assert await balance(client, any_platform, customer.account_id) == 1_000
    assert await fee_balances(client, any_platform) == {"EUR": 0}
    assert (await _kinds(client, any_platform, customer.account_id))[1:] == [
        ("PAY_OUT", -400, failing),
        ("PAY_OUT", -300, returning),
        ("PAY_OUT_RETURN", 400, failing),
        ("PAY_OUT_RETURN", 300, returning),
    ]
    found = await decision_events(client, any_platform, "PAY_OUT_FAILED", "PAY_OUT_RETURNED")
    assert [(e["type"], e["objectId"], e["message"]) for e in found] == [
        ("PAY_OUT_FAILED", failing, "Closed account."),
        ("PAY_OUT_RETURNED", returning, "Refused."),
    ]
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.settlement_balances == {"EUR": -1_000}  # the bank sent both back
    assert summary.balances[uuid.UUID(customer.account_id)] == 1_000


# ---- charge-backs ----------------------------------------------------------------------

# (refund amount or None for no refund, refundFee, refund decided SUCCEEDED first)
CHARGE_BACKS = {
    "no-refund": (None, False, False),
    "partial-refund-succeeded": (300, False, True),
    "partial-refund-with-fee-succeeded": (300, True, True),
    "full-refund-without-fee-succeeded": (900, False, True),
}


@pytest.mark.parametrize("case", list(CHARGE_BACKS), ids=list(CHARGE_BACKS))
async def test_a_charge_back_takes_the_fee_back_less_what_refunds_gave_back(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle, case: str
) -> None:
    refund_amount, refund_fee, decided = CHARGE_BACKS[case]
    customer = await _customer(client, db, any_platform)
    pay_in_id = await _direct_debit(client, any_platform, customer, 1_000, 100)
    assert await balance(client, any_platform, customer.account_id) == 900
    assert await fee_balances(client, any_platform) == {"EUR": 100}
    refunded_amount = fee_given_back = 0
    if refund_amount is not None:
        made = await refunded(
            client, any_platform, refund_input(pay_in_id, refund_amount, refund_fee=refund_fee)
        )
        refunded_amount, fee_given_back = made["amount"]["amount"], made["feeRefunded"]["amount"]
        assert (refunded_amount, fee_given_back) == (refund_amount, 100 if refund_fee else 0)
        if decided:
            decision = {"refundId": made["id"], "outcome": "SUCCEEDED"}
            payload = await mutate(client, customer.operator, DECIDE_REFUND, decision)
            assert success(payload, "DecideRefundSuccess")["refund"]["status"] == "SUCCEEDED"
    settlement_before = (await assert_ledger_holds(db, any_platform.id)).settlement_balances["EUR"]

    charged = await settle_direct_debit(
        client, customer.operator, pay_in_id, "CHARGED_BACK", reason="Disputed."
    )

    pay_in = success(charged, "DecidePayInSuccess")["payIn"]
    assert (pay_in["status"], pay_in["failureReason"]) == ("CHARGED_BACK", "Disputed.")
    taken, fee_taken = 900 - refunded_amount, 100 - fee_given_back
    assert await balance(client, any_platform, customer.account_id) == 0
    assert await fee_balances(client, any_platform) == {"EUR": 0}
    kinds = await _kinds(client, any_platform, customer.account_id)
    charge_backs = [line for line in kinds if line[0] == "CHARGEBACK"]
    # Refunded in full but not its fee: only the fee is taken back, the account has no leg.
    assert charge_backs == ([("CHARGEBACK", -taken, pay_in_id)] if taken else [])
    assert (kinds[-1] == charge_backs[-1]) if taken else (kinds[-1][0] == "REFUND")
    found = await decision_events(client, any_platform, "DIRECT_DEBIT_CHARGED_BACK")
    assert [(e["objectId"], e["previousStatus"], e["message"]) for e in found] == [
        (pay_in_id, "SUCCEEDED", "Disputed.")
    ]
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.settlement_balances["EUR"] == settlement_before + taken + fee_taken


async def test_a_pay_in_refunded_in_full_with_its_fee_cannot_be_charged_back(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await _direct_debit(client, any_platform, customer, 1_000, 100)
    whole = await refunded(client, any_platform, refund_input(pay_in_id, refund_fee=True))
    assert (whole["amount"]["amount"], whole["feeRefunded"]["amount"]) == (900, 100)
    decision = {"refundId": whole["id"], "outcome": "SUCCEEDED"}
    success(await mutate(client, customer.operator, DECIDE_REFUND, decision), "DecideRefundSuccess")
    before = await state(client, any_platform, pay_in_id, customer.account_id)
    fees_before = await fee_balances(client, any_platform)
    settlement_before = (await assert_ledger_holds(db, any_platform.id)).settlement_balances

    payload = await settle_direct_debit(client, customer.operator, pay_in_id, "CHARGED_BACK")

    refusal = rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert "refunded in full" in refusal["message"]
    assert refusal["currentState"] == "SUCCEEDED"
    assert await state(client, any_platform, pay_in_id, customer.account_id) == before
    assert fees_before == await fee_balances(client, any_platform) == {"EUR": 0}
    assert await decision_events(client, any_platform, "DIRECT_DEBIT_CHARGED_BACK") == []
    assert [k for k, _, _ in await _kinds(client, any_platform, customer.account_id)] == [
        "PAY_IN",
        "REFUND",
    ]
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.settlement_balances == settlement_before


async def test_a_charge_back_waits_for_a_refund_in_flight_then_takes_what_it_left(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    customer = await _customer(client, db, any_platform)
    pay_in_id = await _direct_debit(client, any_platform, customer, 1_000, 100)
    in_flight = await refunded(client, any_platform, refund_input(pay_in_id, 300, refund_fee=True))
    before = await state(client, any_platform, pay_in_id, customer.account_id)

    payload = await settle_direct_debit(client, customer.operator, pay_in_id, "CHARGED_BACK")

    refusal = rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert "in flight" in refusal["message"]
    assert refusal["currentState"] == "SUCCEEDED"
    assert await state(client, any_platform, pay_in_id, customer.account_id) == before
    # The payer's bank refused the refund: its money came back, and the charge-back takes all.
    decision = {"refundId": in_flight["id"], "outcome": "FAILED"}
    success(await mutate(client, customer.operator, DECIDE_REFUND, decision), "DecideRefundSuccess")
    settlement_before = (await assert_ledger_holds(db, any_platform.id)).settlement_balances["EUR"]
    charged = await settle_direct_debit(client, customer.operator, pay_in_id, "CHARGED_BACK")
    assert success(charged, "DecidePayInSuccess")["payIn"]["status"] == "CHARGED_BACK"
    assert await balance(client, any_platform, customer.account_id) == 0
    assert await fee_balances(client, any_platform) == {"EUR": 0}
    summary = await assert_ledger_holds(db, any_platform.id)
    assert summary.settlement_balances["EUR"] == settlement_before + 1_000
