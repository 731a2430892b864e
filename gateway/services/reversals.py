"""Reversals: all or part of a transfer moved back, from the account it credited to the one
it debited. Immediate, like a transfer: it succeeds in the request or leaves no trace but its
idempotency record.

- A transfer can be reversed many times, partially, up to what it credited (its amount minus
  its fee): the sum of its reversals never exceeds that. The transfer's row is locked before
  the sum is read, so two concurrent reversals of one transfer run one after the other.
- Without an amount, a reversal takes back everything still reversible.
- `refund_fee`: the reversal also gives the transfer's fee back to the debited account, from
  the platform's fee account (the part of the fee not given back yet; the fee account must
  hold it, else InsufficientFunds).
- The credited account must hold the amount (else InsufficientFunds), and neither account may
  be blocked or closed.
- `reverse_transfers` takes up to 500 reversals at once, each on its own (services/money_back).

Legs: TRANSFER_REVERSAL_OUT (-x) on the transfer's credited account, TRANSFER_REVERSAL_IN
(+x) on its debited account; with the fee, FEE_REFUND (-f) on the fee account and FEE_REFUND
(+f) on the debited account. Event TRANSFER_REVERSED.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.enums import EntryKind, EventType, TransferStatus
from gateway.domain.errors import CurrencyMismatch, Rejected
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks, check_amount
from gateway.services import fees
from gateway.services.ledger import check_can_move_money, post, users_of
from gateway.services.lookups import find
from gateway.services.money_back import each_on_its_own, room_left
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import accounts as account_rows
from gateway.store import money_back
from gateway.store.engine import Database
from gateway.store.ledger_tables import Transfer, TransferReversal


@dataclass(frozen=True, slots=True)
class NewReversal:
    transfer_id: str
    idempotency_key: str
    amount: int | None = None  # None: everything still reversible
    currency: str | None = None
    refund_fee: bool = False
    label: str | None = None


def _check(new: NewReversal) -> None:
    checks = Checks()
    if new.amount is not None:
        check_amount(checks, "amount.amount", new.amount)
    checks.text("label", new.label, required=False)
    checks.done()


async def _reverse(tx: Tx, new: NewReversal) -> TransferReversal:
    transfer = await find(
        tx.session,
        Transfer,
        platform_id=tx.platform_id,
        id_text=new.transfer_id,
        what="transfer",
        lock=True,
    )
    if new.currency is not None and new.currency != transfer.currency:
        raise CurrencyMismatch(f"The transfer is in {transfer.currency}, not {new.currency}.")
    reversed_amount, fee_given_back = await money_back.reversed_totals(
        tx.session, transfer_id=transfer.id
    )
    credited_total = transfer.amount - transfer.fee
    amount = room_left(credited_total, reversed_amount, new.amount, transfer.currency, "transfer")
    fee = transfer.fee - fee_given_back if new.refund_fee else 0
    locked = await account_rows.lock_accounts(
        tx.session,
        platform_id=tx.platform_id,
        ids=[transfer.debited_account_id, transfer.credited_account_id],
    )
    back_from, back_to = locked[transfer.credited_account_id], locked[transfer.debited_account_id]
    owners = await users_of(tx, [back_from, back_to])
    check_can_move_money(back_from, owners[back_from.user_id], "credited")
    check_can_move_money(back_to, owners[back_to.user_id], "debited")
    reversal = TransferReversal(
        id=new_id(),
        platform_id=tx.platform_id,
        transfer_id=transfer.id,
        amount=amount,
        fee_refunded=fee,
        currency=transfer.currency,
        label=(new.label or "").strip() or None,
        status=TransferStatus.SUCCEEDED,
    )
    kinds = (EntryKind.TRANSFER_REVERSAL_OUT, EntryKind.TRANSFER_REVERSAL_IN)
    await post(tx, back_from, delta=-amount, kind=kinds[0], operation=reversal)
    await post(tx, back_to, delta=amount, kind=kinds[1], operation=reversal)
    if fee:
        await fees.give_back(tx, currency=transfer.currency, fee=fee, operation=reversal)
        await post(tx, back_to, delta=fee, kind=EntryKind.FEE_REFUND, operation=reversal)
    tx.session.add(reversal)
    await tx.session.flush()
    tx.emit(
        EventType.TRANSFER_REVERSED,
        reversal,
        user_id=back_from.user_id,
        counterpart_user_id=back_to.user_id,
        status=reversal.status,
    )
    return reversal


async def reverse_transfer(
    db: Database, *, platform_id: uuid.UUID, new: NewReversal
) -> Outcome[TransferReversal]:
    """Move all or part of a transfer back; see the module docstring."""
    _check(new)

    async def work(tx: Tx) -> TransferReversal:
        return await _reverse(tx, new)

    return await perform(
        db,
        platform_id=platform_id,
        operation="reverseTransfer",
        key=new.idempotency_key,
        payload=input_payload(new),
        model=TransferReversal,
        work=work,
    )


async def reverse_transfers(
    db: Database, *, platform_id: uuid.UUID, items: Sequence[NewReversal]
) -> list[Outcome[TransferReversal] | Rejected]:
    """Each reversal on its own, in order: its outcome or its rejection (money_back)."""

    async def run(item: NewReversal) -> Outcome[TransferReversal]:
        return await reverse_transfer(db, platform_id=platform_id, new=item)

    return await each_on_its_own(items, run)
