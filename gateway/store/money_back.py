"""What was already moved back: the sums of a transfer's reversals and of a pay-in's refunds
(failed refunds gave their funds back, so they do not count). Read inside the caller's write
transaction, after it locked the transfer or pay-in row, so two requests never both see room
for the same money."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import RefundStatus
from gateway.store.ledger_tables import Refund, TransferReversal


async def reversed_totals(session: AsyncSession, *, transfer_id: uuid.UUID) -> tuple[int, int]:
    """(amount, fee) given back by the transfer's reversals so far."""
    statement = sa.select(
        sa.func.coalesce(sa.func.sum(col(TransferReversal.amount)), 0),
        sa.func.coalesce(sa.func.sum(col(TransferReversal.fee_refunded)), 0),
    ).where(col(TransferReversal.transfer_id) == transfer_id)
    amount, fee = (await session.execute(statement)).one()
    return int(amount), int(fee)


async def refunds_in_flight(session: AsyncSession, *, pay_in_id: uuid.UUID) -> int:
    """How many of the pay-in's refunds are still CREATED or PENDING."""
    statement = sa.select(sa.func.count()).where(
        col(Refund.pay_in_id) == pay_in_id,
        col(Refund.status).in_([RefundStatus.CREATED, RefundStatus.PENDING]),
    )
    return int((await session.execute(statement)).scalar_one())


async def refunded_totals(session: AsyncSession, *, pay_in_id: uuid.UUID) -> tuple[int, int]:
    """(amount, fee) of the pay-in's refunds that did not fail (in flight or succeeded)."""
    statement = sa.select(
        sa.func.coalesce(sa.func.sum(col(Refund.amount)), 0),
        sa.func.coalesce(sa.func.sum(col(Refund.fee_refunded)), 0),
    ).where(col(Refund.pay_in_id) == pay_in_id, col(Refund.status) != RefundStatus.FAILED)
    amount, fee = (await session.execute(statement)).one()
    return int(amount), int(fee)
