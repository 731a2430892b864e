"""Refunds: funds of a SUCCEEDED pay-in sent back to the payer's bank, a pay-out of its own.

- Only a SUCCEEDED pay-in is refunded, up to what it credited (its amount minus its fee)
  minus its earlier refunds that did not fail. The pay-in's row is locked before that sum is
  read, so concurrent refunds of one pay-in never exceed it. Without an amount, a refund
  takes everything still refundable.
- Funds leave the account when the refund is created (entry REFUND, the amount `reserved`
  as for pay-outs; settlement account on the other leg), and come back if it fails (entry
  REFUND_RETURN). `refund_fee` also sends the pay-in's fee (what is left of it) back to the
  payer, from the platform's fee account (FEE_REFUND; FEE again if the refund fails).
- `CREATED -> PENDING -> SUCCEEDED | FAILED`, decided like a pay-out's: by an operator
  (`decide_refund`), the sandbox (`sandbox.simulate_refund`) or the sandbox settler, all through
  `settle_refund`. Events REFUND_CREATED, REFUND_PENDING, REFUND_SUCCESSFUL, REFUND_FAILED.
- `refund_pay_ins` takes up to REFUNDS_PER_REQUEST_MAX items (a failed crowdfunding campaign
  refunds its backers): each item is its own transaction with its own idempotency key, and
  one item's rejection never touches another.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.enums import EntryKind, EventType, PayInStatus, RefundStatus
from gateway.domain.errors import CurrencyMismatch, InvalidState, Rejected
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks, check_amount
from gateway.domain.states import REFUND, check_transition
from gateway.services import fees
from gateway.services.ledger import check_can_move_money, post, post_settlement, users_of
from gateway.services.lookups import find
from gateway.services.money_back import BULK_ITEMS_MAX, each_on_its_own, room_left
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import accounts as account_rows
from gateway.store import money_back
from gateway.store.engine import Database
from gateway.store.ledger_tables import PayIn, Refund
from gateway.store.tables import Account

REFUNDS_PER_REQUEST_MAX = BULK_ITEMS_MAX


@dataclass(frozen=True, slots=True)
class NewRefund:
    pay_in_id: str
    idempotency_key: str
    amount: int | None = None  # None: everything still refundable
    currency: str | None = None
    refund_fee: bool = False


def _check(new: NewRefund) -> None:
    checks = Checks()
    if new.amount is not None:
        check_amount(checks, "amount.amount", new.amount)
    checks.done()


async def _refund(tx: Tx, new: NewRefund) -> Refund:
    pay_in = await find(
        tx.session,
        PayIn,
        platform_id=tx.platform_id,
        id_text=new.pay_in_id,
        what="pay-in",
        lock=True,
    )
    if pay_in.status is not PayInStatus.SUCCEEDED:
        raise InvalidState(
            f"Only a SUCCEEDED pay-in is refunded; this one is {pay_in.status.value}."
        )
    if new.currency is not None and new.currency != pay_in.currency:
        raise CurrencyMismatch(f"The pay-in is in {pay_in.currency}, not {new.currency}.")
    refunded, fee_given_back = await money_back.refunded_totals(tx.session, pay_in_id=pay_in.id)
    credited = (pay_in.amount_received or pay_in.amount) - pay_in.fee  # a recorded wire's
    amount = room_left(credited, refunded, new.amount, pay_in.currency, "pay-in")
    fee = pay_in.fee - fee_given_back if new.refund_fee else 0
    account = await find(
        tx.session,
        Account,
        platform_id=tx.platform_id,
        id_text=str(pay_in.credited_account_id),
        what="account",
        lock=True,
    )
    check_can_move_money(account, (await users_of(tx, [account]))[account.user_id], "debited")
    refund = Refund(
        id=new_id(),
        platform_id=tx.platform_id,
        pay_in_id=pay_in.id,
        debited_account_id=account.id,
        amount=amount,
        fee_refunded=fee,
        currency=pay_in.currency,
        status=RefundStatus.CREATED,
    )
    await post(tx, account, delta=-amount, kind=EntryKind.REFUND, operation=refund)
    await account_rows.move_reserved(tx.session, account_id=account.id, delta=amount)
    await fees.give_back(tx, currency=pay_in.currency, fee=fee, operation=refund)
    await post_settlement(
        tx, currency=pay_in.currency, delta=amount + fee, kind=EntryKind.REFUND, operation=refund
    )
    tx.session.add(refund)
    await tx.session.flush()
    tx.emit(EventType.REFUND_CREATED, refund, user_id=account.user_id, status=refund.status)
    return refund


async def refund_pay_in(db: Database, *, platform_id: uuid.UUID, new: NewRefund) -> Outcome[Refund]:
    """Send all or part of a SUCCEEDED pay-in back to the payer; see the module docstring."""
    _check(new)

    async def work(tx: Tx) -> Refund:
        return await _refund(tx, new)

    return await perform(
        db,
        platform_id=platform_id,
        operation="refundPayIn",
        key=new.idempotency_key,
        payload=input_payload(new),
        model=Refund,
        work=work,
    )


async def refund_pay_ins(
    db: Database, *, platform_id: uuid.UUID, items: Sequence[NewRefund]
) -> list[Outcome[Refund] | Rejected]:
    """Each refund on its own, in order: its outcome or its rejection (money_back)."""

    async def run(item: NewRefund) -> Outcome[Refund]:
        return await refund_pay_in(db, platform_id=platform_id, new=item)

    return await each_on_its_own(items, run)


def _to_pending(tx: Tx, refund: Refund, user_id: uuid.UUID) -> None:
    """Submitted to the bank: CREATED -> PENDING, on the way to a decision."""
    if refund.status is RefundStatus.CREATED:
        tx.move(refund, RefundStatus.PENDING, EventType.REFUND_PENDING, user_id=user_id)


async def settle_refund(tx: Tx, refund: Refund, succeeded: bool, reason: str | None) -> Refund:
    """Decide a refund (row locked by the caller): on failure its funds, and its fee, come back."""
    account = await find(
        tx.session,
        Account,
        platform_id=tx.platform_id,
        id_text=str(refund.debited_account_id),
        what="account",
        lock=True,
    )
    _to_pending(tx, refund, account.user_id)
    target = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
    check_transition(REFUND, refund.status, target, "The refund")
    await account_rows.move_reserved(tx.session, account_id=account.id, delta=-refund.amount)
    event = EventType.REFUND_SUCCESSFUL
    if not succeeded:
        refund.failure_reason = (reason or "Rejected by the payer's bank.")[:500]
        kind = EntryKind.REFUND_RETURN
        await post(tx, account, delta=refund.amount, kind=kind, operation=refund)
        back = refund.amount + refund.fee_refunded
        await post_settlement(
            tx, currency=refund.currency, delta=-back, kind=kind, operation=refund
        )
        await fees.collect(tx, currency=refund.currency, fee=refund.fee_refunded, operation=refund)
        event = EventType.REFUND_FAILED
    tx.move(refund, target, event, user_id=account.user_id)
    await tx.session.flush()
    return refund


async def decide_refund(
    db: Database,
    *,
    platform_id: uuid.UUID,
    refund_id: str,
    succeeded: bool,
    reason: str | None = None,
) -> Refund:
    """The bank's answer on a refund, as an operator records it (any platform)."""

    async def work(tx: Tx) -> Refund:
        refund = await find(
            tx.session,
            Refund,
            platform_id=tx.platform_id,
            id_text=refund_id,
            what="refund",
            lock=True,
        )
        return await settle_refund(tx, refund, succeeded, reason)

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="decideRefund",
        key=None,
        payload={},
        model=Refund,
        work=work,
    )
    return outcome.value
