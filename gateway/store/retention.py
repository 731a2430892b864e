"""The retention job's SQL: one batch of old rows deleted by primary key, inside the short
transaction the caller opens for it.

A batch reads at most `limit` ids through the table's `created_at` index, oldest first, with
the rows locked `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has a single writer): a row
another transaction holds, a purge of another instance included, is left for a later batch,
so nothing waits. The DELETE repeats every condition, so a row that changed since (a delivery
replayed, PENDING again) is kept, and a row already gone deletes nothing: running several
purges at once deletes each row once. A delivery's attempts go first (they reference it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.delivery_tables import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus
from gateway.store.journal_tables import IdempotencyRecord


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _locked_ids(session: AsyncSession, model: Any, where: list[Any], limit: int) -> list[Any]:
    found = await session.scalars(
        sa.select(model.id)
        .where(*where)
        .order_by(model.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(found.all())


async def purge_idempotency_records(
    session: AsyncSession, *, before: dt.datetime, limit: int
) -> int:
    """Delete up to `limit` idempotency records created before `before`; how many."""
    where = [col(IdempotencyRecord.created_at) < before]
    ids = await _locked_ids(session, IdempotencyRecord, where, limit)
    if not ids:
        return 0
    deleted = await session.execute(
        sa.delete(IdempotencyRecord).where(col(IdempotencyRecord.id).in_(ids), *where)
    )
    return _rowcount(deleted)


async def purge_deliveries(session: AsyncSession, *, before: dt.datetime, limit: int) -> int:
    """Delete up to `limit` finished webhook deliveries (never PENDING) created before
    `before`, with their attempts; how many deliveries."""
    where = [
        col(WebhookDelivery.created_at) < before,
        col(WebhookDelivery.status) != WebhookDeliveryStatus.PENDING,
    ]
    ids = await _locked_ids(session, WebhookDelivery, where, limit)
    if not ids:
        return 0
    await session.execute(sa.delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(ids)))
    deleted = await session.execute(
        sa.delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids), *where)
    )
    return _rowcount(deleted)
