"""Settlement: the decisions that finish asynchronous money, whoever takes them.

Operators decide through their mutations on every platform, production and sandbox alike;
on a sandbox the `simulate*` mutations and the settler stand in for banks through the same
functions below, so each rule lives here once. A decision that does not apply to the
object's current state is an `InvalidState` naming that state.

- Mandate: `CREATED -> ACTIVE | FAILED` (a failure keeps its reason).
- Pay-in: `CREATED | PENDING -> SUCCEEDED | FAILED`; a CREATED pay-in passes through PENDING
  first (its own event), as at a bank. On success the account is credited (entry PAY_IN) and
  the platform's settlement account debited; on failure nothing moves and the reason is kept.
- A recorded wire (BANK_WIRE only; `recordWirePayIn`): the pay-in succeeds for the amount
  that actually arrived, which may differ from the announced one, as Mangopay and Swan do:
  the bank holds that money, so the account gets exactly that. Both are kept (`amount`
  announced, `amount_received` credited), with the value date and the bank's reference. A
  wire in another currency than the pay-in's is a `CurrencyMismatch` and changes nothing:
  the operator fails the pay-in and the bank sends the wire back.
- A charge-back (DIRECT_DEBIT only): `SUCCEEDED -> CHARGED_BACK`; the amount credited leaves
  the account again (entry CHARGEBACK), the platform's fee leaves its fee account, and the
  settlement account is credited with both: the payer's bank takes back the whole pay-in, less
  what its SUCCEEDED refunds already sent back to the payer. While a refund of the pay-in is
  in flight the charge-back is an `InvalidState` (the refund may still fail and bring its
  money back: decide it first). A pay-in refunded in full without its fee loses only the fee
  (no CHARGEBACK entry on the account); one refunded in full, fee included, has nothing left
  and is an `InvalidState`. The payer's bank
  takes it whatever the account's or user's status. If the account no longer holds it, the
  charge-back is `InsufficientFunds` naming what is available and nothing changes: the
  operator blocks the user (nothing more leaves) and records the charge-back once the funds
  are collected. The ledger never lets a user account go negative.
- Pay-out: `CREATED | PENDING -> SUCCEEDED | FAILED`; the funds left at creation and come back
  on failure (entry PAY_OUT_RETURN). `SUCCEEDED -> RETURNED` when the receiving bank sends it
  back after success: the funds come back with their own entries, of the same kind
  PAY_OUT_RETURN (it is the same movement, the pay-out's money coming home; a pay-out has at
  most one such pair, and its status and event, PAY_OUT_FAILED or PAY_OUT_RETURNED, tell a
  failure from a return), whatever the account's status. Either way the fee comes back too:
  a pay-out that does not reach its bank keeps nothing of what it took.
- Fees (services/fees.py) come out of the amount: a pay-in's fee is collected when it
  succeeds (the account gets the amount received minus the fee; a recorded wire must exceed
  the fee).

Every decision writes its event, with the reason as the event's message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.domain.enums import (
    EntryKind,
    EventType,
    MandateStatus,
    PayInMethod,
    PayInStatus,
    PayOutStatus,
)
from gateway.domain.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidState,
    ValidationFailed,
)
from gateway.domain.inputs import Checks, check_amount
from gateway.domain.states import MANDATE, PAY_IN, PAY_OUT, check_transition
from gateway.services import fees
from gateway.services.ledger import check_can_move_money, post, post_settlement, users_of
from gateway.services.lookups import find
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import accounts as account_rows
from gateway.store import money_back
from gateway.store.engine import Database
from gateway.store.ledger_tables import DirectDebitMandate, PayIn, PayOut
from gateway.store.tables import Account, Model

M = TypeVar("M", bound=Model)
REASON_LENGTH_MAX = 500
BANK_REFERENCE_LENGTH_MAX = 100


# ---- the decisions, within the caller's transaction ------------------------------------


async def _account(tx: Tx, account_id: uuid.UUID) -> Account:
    return await find(
        tx.session,
        Account,
        platform_id=tx.platform_id,
        id_text=str(account_id),
        what="account",
        lock=True,
    )


def _reason(reason: str | None, default: str) -> str:
    return ((reason or "").strip() or default)[:REASON_LENGTH_MAX]


def _require_method(pay_in: PayIn, method: PayInMethod, decision: str) -> None:
    if pay_in.method is not method:
        raise InvalidState(
            f"The pay-in is a {pay_in.method.value} pay-in; {decision} applies to"
            f" {method.value} pay-ins only."
        )


def _check_can_succeed(pay_in: PayIn) -> None:
    """Only CREATED and PENDING pay-ins settle: refuse the others, naming their state, before
    the wire itself is looked at."""
    if pay_in.status is not PayInStatus.CREATED:
        check_transition(PAY_IN, pay_in.status, PayInStatus.SUCCEEDED, "The pay-in")


def _to_pending(tx: Tx, row: PayIn | PayOut, event: EventType, user_id: uuid.UUID) -> None:
    """Submitted to the bank: CREATED -> PENDING, on the way to a decision."""
    if row.status.value == "CREATED":
        pending = PayInStatus.PENDING if isinstance(row, PayIn) else PayOutStatus.PENDING
        tx.move(row, pending, event, user_id=user_id)


async def settle_mandate(
    tx: Tx, mandate: DirectDebitMandate, active: bool, reason: str | None
) -> DirectDebitMandate:
    """Activate or fail a CREATED mandate."""
    target = MandateStatus.ACTIVE if active else MandateStatus.FAILED
    check_transition(MANDATE, mandate.status, target, "The mandate")
    if not active:
        mandate.failure_reason = _reason(reason, "Refused by the payer's bank.")
    event = EventType.MANDATE_ACTIVATED if active else EventType.MANDATE_FAILED
    tx.move(
        mandate,
        target,
        event,
        user_id=mandate.user_id,
        message=mandate.failure_reason,
    )
    await tx.session.flush()
    return mandate


@dataclass(frozen=True, slots=True)
class ReceivedWire:
    """A wire as the bank booked it."""

    amount: int
    currency: str
    value_date: dt.date
    bank_reference: str | None = None


async def settle_pay_in(
    tx: Tx, pay_in: PayIn, succeeded: bool, reason: str | None, wire: ReceivedWire | None = None
) -> PayIn:
    """Decide a pay-in: credit the account on success (the received amount of a recorded
    wire, else the announced one), keep the reason of a failure."""
    target = PayInStatus.SUCCEEDED if succeeded else PayInStatus.FAILED
    account = await _account(tx, pay_in.credited_account_id)
    _to_pending(tx, pay_in, EventType.PAY_IN_PENDING, account.user_id)
    check_transition(PAY_IN, pay_in.status, target, "The pay-in")
    direct_debit = pay_in.method is PayInMethod.DIRECT_DEBIT
    message = None
    if succeeded:
        check_can_move_money(account, (await users_of(tx, [account]))[account.user_id], "credited")
        if wire is not None:
            pay_in.amount_received = wire.amount
            pay_in.value_date = wire.value_date
            pay_in.bank_reference = (wire.bank_reference or "").strip() or None
        gross = pay_in.amount_received or pay_in.amount
        credited = gross - pay_in.fee  # the fee comes out of the amount (services/fees.py)
        assert credited > 0, "a recorded wire exceeds the pay-in's fee (record_wire checks)"
        await post(tx, account, delta=credited, kind=EntryKind.PAY_IN, operation=pay_in)
        await post_settlement(
            tx, currency=pay_in.currency, delta=-gross, kind=EntryKind.PAY_IN, operation=pay_in
        )
        await fees.collect(tx, currency=pay_in.currency, fee=pay_in.fee, operation=pay_in)
        event = EventType.DIRECT_DEBIT_SUCCESSFUL if direct_debit else EventType.PAY_IN_SUCCESSFUL
    else:
        pay_in.failure_reason = message = _reason(reason, "Refused by the bank.")
        event = EventType.DIRECT_DEBIT_FAILED if direct_debit else EventType.PAY_IN_FAILED
    tx.move(pay_in, target, event, user_id=account.user_id, message=message)
    await tx.session.flush()
    return pay_in


async def record_wire(tx: Tx, pay_in: PayIn, wire: ReceivedWire) -> PayIn:
    """A BANK_WIRE pay-in's wire arrived: it succeeds for the amount received."""
    _require_method(pay_in, PayInMethod.BANK_WIRE, "recording a wire")
    _check_can_succeed(pay_in)
    if wire.currency != pay_in.currency:
        raise CurrencyMismatch(
            f"The pay-in is in {pay_in.currency}; the wire brought {wire.currency}. Fail the"
            " pay-in and have the bank return the wire."
        )
    if wire.amount <= pay_in.fee:
        raise ValidationFailed.one(
            "amountReceived.amount",
            f"The pay-in's fee is {pay_in.fee} minor units: a wire of {wire.amount} would"
            " credit nothing. Fail the pay-in and have the bank return the wire.",
        )
    return await settle_pay_in(tx, pay_in, True, None, wire)


async def charge_back(tx: Tx, pay_in: PayIn, reason: str | None) -> PayIn:
    """A DIRECT_DEBIT that succeeded is taken back by the payer's bank (entry CHARGEBACK)."""
    _require_method(pay_in, PayInMethod.DIRECT_DEBIT, "a charge-back")
    check_transition(PAY_IN, pay_in.status, PayInStatus.CHARGED_BACK, "The pay-in")
    account = await _account(tx, pay_in.credited_account_id)
    if await money_back.refunds_in_flight(tx.session, pay_in_id=pay_in.id):
        raise InvalidState(
            "A refund of this pay-in is still in flight: decide it first (a refund that fails"
            " comes back to the account, and the charge-back then takes it).",
            state=pay_in.status.value,
        )
    # What the account was credited and the platform's fee, less what succeeded refunds
    # already sent back to the payer: the bank takes back the rest.
    refunded, fee_refunded = await money_back.refunded_totals(tx.session, pay_in_id=pay_in.id)
    amount = (pay_in.amount_received or pay_in.amount) - pay_in.fee - refunded
    fee = pay_in.fee - fee_refunded
    if amount + fee <= 0:
        raise InvalidState(
            "The pay-in was refunded in full: nothing is left to charge back.",
            state=pay_in.status.value,
        )
    try:
        if amount:  # a pay-in refunded in full but not its fee: only the fee is taken back
            await post(tx, account, delta=-amount, kind=EntryKind.CHARGEBACK, operation=pay_in)
    except InsufficientFunds as short:
        raise InsufficientFunds(
            f"The account holds {short.available.amount} of the {amount} minor units charged"
            " back: block the user and collect the difference before recording it.",
            available=short.available,
        ) from None
    await post_settlement(
        tx,
        currency=pay_in.currency,
        delta=amount + fee,
        kind=EntryKind.CHARGEBACK,
        operation=pay_in,
    )
    await fees.give_back(tx, currency=pay_in.currency, fee=fee, operation=pay_in)
    pay_in.failure_reason = _reason(reason, "Charged back by the payer's bank.")
    tx.move(
        pay_in,
        PayInStatus.CHARGED_BACK,
        EventType.DIRECT_DEBIT_CHARGED_BACK,
        user_id=account.user_id,
        message=pay_in.failure_reason,
    )
    await tx.session.flush()
    return pay_in


async def _give_back(tx: Tx, account: Account, pay_out: PayOut) -> None:
    """The pay-out's funds come back, its fee included: the account credited with everything
    it gave, the settlement account debited with what the bank had (amount - fee), the fee
    account with the fee."""
    await post(tx, account, delta=pay_out.amount, kind=EntryKind.PAY_OUT_RETURN, operation=pay_out)
    await post_settlement(
        tx,
        currency=pay_out.currency,
        delta=-(pay_out.amount - pay_out.fee),
        kind=EntryKind.PAY_OUT_RETURN,
        operation=pay_out,
    )
    await fees.give_back(tx, currency=pay_out.currency, fee=pay_out.fee, operation=pay_out)


async def settle_pay_out(tx: Tx, pay_out: PayOut, succeeded: bool, reason: str | None) -> PayOut:
    """Decide a pay-out: on failure the funds come back to the account (PAY_OUT_RETURN)."""
    target = PayOutStatus.SUCCEEDED if succeeded else PayOutStatus.FAILED
    account = await _account(tx, pay_out.debited_account_id)
    _to_pending(tx, pay_out, EventType.PAY_OUT_PENDING, account.user_id)
    check_transition(PAY_OUT, pay_out.status, target, "The pay-out")
    await account_rows.move_reserved(tx.session, account_id=account.id, delta=-pay_out.amount)
    message = None
    if succeeded:
        event = EventType.PAY_OUT_SUCCESSFUL
    else:
        pay_out.failure_reason = message = _reason(reason, "Rejected by the receiving bank.")
        await _give_back(tx, account, pay_out)
        event = EventType.PAY_OUT_FAILED
    tx.move(pay_out, target, event, user_id=account.user_id, message=message)
    await tx.session.flush()
    return pay_out


async def return_pay_out(tx: Tx, pay_out: PayOut, reason: str | None) -> PayOut:
    """A SUCCEEDED pay-out sent back by the receiving bank: its funds come back."""
    check_transition(PAY_OUT, pay_out.status, PayOutStatus.RETURNED, "The pay-out")
    account = await _account(tx, pay_out.debited_account_id)
    await _give_back(tx, account, pay_out)
    pay_out.failure_reason = _reason(reason, "Returned by the receiving bank.")
    tx.move(
        pay_out,
        PayOutStatus.RETURNED,
        EventType.PAY_OUT_RETURNED,
        user_id=account.user_id,
        message=pay_out.failure_reason,
    )
    await tx.session.flush()
    return pay_out


# ---- the operator's decisions: one transaction each, optional idempotency key ------------


@dataclass(frozen=True, slots=True)
class MandateDecision:
    mandate_id: str
    active: bool
    reason: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class WireReceipt:
    pay_in_id: str
    wire: ReceivedWire
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class PayInDecision:
    """`outcome`: SUCCEEDED, FAILED or CHARGED_BACK."""

    pay_in_id: str
    outcome: PayInStatus
    reason: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class PayOutDecision:
    """`outcome`: SUCCEEDED, FAILED or RETURNED."""

    pay_out_id: str
    outcome: PayOutStatus
    reason: str | None = None
    idempotency_key: str | None = None


def _check_reason(reason: str | None) -> None:
    checks = Checks()
    checks.text("reason", reason, required=False, length_max=REASON_LENGTH_MAX)
    checks.done()


Decision = MandateDecision | WireReceipt | PayInDecision | PayOutDecision


async def _decide(
    db: Database,
    platform_id: uuid.UUID,
    operation: str,
    decision: Decision,
    model: type[M],
    work: Callable[[Tx], Awaitable[M]],
) -> Outcome[M]:
    """Run one decision in its own transaction, under its optional idempotency key."""
    return await perform(
        db,
        platform_id=platform_id,
        operation=operation,
        key=decision.idempotency_key,
        payload=input_payload(decision),
        model=model,
        work=work,
    )


async def _locked(tx: Tx, model: type[M], id_text: str, what: str) -> M:
    return await find(
        tx.session, model, platform_id=tx.platform_id, id_text=id_text, what=what, lock=True
    )


async def decide_mandate(
    db: Database, *, platform_id: uuid.UUID, decision: MandateDecision
) -> Outcome[DirectDebitMandate]:
    """An operator activates or fails a CREATED mandate."""
    _check_reason(decision.reason)

    async def work(tx: Tx) -> DirectDebitMandate:
        mandate = await _locked(tx, DirectDebitMandate, decision.mandate_id, "mandate")
        return await settle_mandate(tx, mandate, decision.active, decision.reason)

    return await _decide(db, platform_id, "decideMandate", decision, DirectDebitMandate, work)


async def record_wire_pay_in(
    db: Database, *, platform_id: uuid.UUID, receipt: WireReceipt
) -> Outcome[PayIn]:
    """An operator records the wire that arrived for a BANK_WIRE pay-in (see the module)."""
    checks = Checks()
    check_amount(checks, "amountReceived.amount", receipt.wire.amount)
    checks.text(
        "bankReference",
        receipt.wire.bank_reference,
        required=False,
        length_max=BANK_REFERENCE_LENGTH_MAX,
    )
    checks.done()

    async def work(tx: Tx) -> PayIn:
        pay_in = await _locked(tx, PayIn, receipt.pay_in_id, "pay-in")
        return await record_wire(tx, pay_in, receipt.wire)

    return await _decide(db, platform_id, "recordWirePayIn", receipt, PayIn, work)


async def fail_wire_pay_in(
    db: Database, *, platform_id: uuid.UUID, decision: PayInDecision
) -> Outcome[PayIn]:
    """An operator fails a BANK_WIRE pay-in: the wire never came, or was rejected."""
    _check_reason(decision.reason)

    async def work(tx: Tx) -> PayIn:
        pay_in = await _locked(tx, PayIn, decision.pay_in_id, "pay-in")
        _require_method(pay_in, PayInMethod.BANK_WIRE, "failing a wire")
        return await settle_pay_in(tx, pay_in, False, decision.reason)

    return await _decide(db, platform_id, "failWirePayIn", decision, PayIn, work)


async def settle_direct_debit(
    db: Database, *, platform_id: uuid.UUID, decision: PayInDecision
) -> Outcome[PayIn]:
    """An operator settles a DIRECT_DEBIT pay-in, or records its charge-back."""
    _check_reason(decision.reason)

    async def work(tx: Tx) -> PayIn:
        pay_in = await _locked(tx, PayIn, decision.pay_in_id, "pay-in")
        _require_method(pay_in, PayInMethod.DIRECT_DEBIT, "settling a direct debit")
        if decision.outcome is PayInStatus.CHARGED_BACK:
            return await charge_back(tx, pay_in, decision.reason)
        succeeded = decision.outcome is PayInStatus.SUCCEEDED
        return await settle_pay_in(tx, pay_in, succeeded, decision.reason)

    return await _decide(db, platform_id, "settleDirectDebit", decision, PayIn, work)


async def decide_pay_out(
    db: Database, *, platform_id: uuid.UUID, decision: PayOutDecision
) -> Outcome[PayOut]:
    """An operator settles a pay-out, or records its return after success."""
    _check_reason(decision.reason)

    async def work(tx: Tx) -> PayOut:
        pay_out = await _locked(tx, PayOut, decision.pay_out_id, "pay-out")
        if decision.outcome is PayOutStatus.RETURNED:
            return await return_pay_out(tx, pay_out, decision.reason)
        succeeded = decision.outcome is PayOutStatus.SUCCEEDED
        return await settle_pay_out(tx, pay_out, succeeded, decision.reason)

    return await _decide(db, platform_id, "decidePayOut", decision, PayOut, work)
