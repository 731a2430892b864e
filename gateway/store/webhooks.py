"""Webhook endpoints inside a write transaction: counted, found and row-locked; and the
replays of their deliveries (a finished delivery made PENDING again, due now).

A deleted endpoint keeps its row (`deleted_at`) for the delivery log; "live" means not deleted.
Writers lock the endpoint first, then its deliveries: the order the dispatcher takes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.delivery_tables import WebhookDelivery, WebhookDeliveryStatus
from gateway.store.journal_tables import WebhookEndpoint


async def live_endpoint_count(session: AsyncSession, *, platform_id: uuid.UUID) -> int:
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            col(WebhookEndpoint.platform_id) == platform_id,
            col(WebhookEndpoint.deleted_at).is_(None),
        )
    )
    return int(count or 0)


async def lock_live_endpoint(
    session: AsyncSession, *, platform_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint | None:
    """The platform's live endpoint with that id, row-locked, or None."""
    endpoint: WebhookEndpoint | None = await session.scalar(
        sa.select(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.platform_id) == platform_id,
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.deleted_at).is_(None),
        )
        .with_for_update()
    )
    return endpoint


async def lock_endpoint(session: AsyncSession, *, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    """The endpoint with that id, row-locked, deleted or not, or None."""
    endpoint: WebhookEndpoint | None = await session.scalar(
        sa.select(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id).with_for_update()
    )
    return endpoint


# ---- replays -------------------------------------------------------------------------------


async def endpoint_of_delivery(
    session: AsyncSession, *, platform_id: uuid.UUID, delivery_id: uuid.UUID
) -> uuid.UUID | None:
    """The endpoint of the platform's delivery with that id (a plain read), or None."""
    endpoint_id: uuid.UUID | None = await session.scalar(
        sa.select(col(WebhookDelivery.endpoint_id)).where(
            col(WebhookDelivery.platform_id) == platform_id,
            col(WebhookDelivery.id) == delivery_id,
        )
    )
    return endpoint_id


async def lock_delivery(
    session: AsyncSession, *, platform_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery | None:
    """The platform's delivery with that id, row-locked, or None."""
    delivery: WebhookDelivery | None = await session.scalar(
        sa.select(WebhookDelivery)
        .where(
            col(WebhookDelivery.platform_id) == platform_id,
            col(WebhookDelivery.id) == delivery_id,
        )
        .with_for_update()
    )
    return delivery


@dataclass(frozen=True, slots=True)
class DeliverySpan:
    """An endpoint's deliveries created in [start, end)."""

    platform_id: uuid.UUID
    endpoint_id: uuid.UUID
    start: dt.datetime
    end: dt.datetime


def _finished_in(span: DeliverySpan) -> list[Any]:
    return [
        col(WebhookDelivery.platform_id) == span.platform_id,
        col(WebhookDelivery.endpoint_id) == span.endpoint_id,
        col(WebhookDelivery.created_at) >= span.start,
        col(WebhookDelivery.created_at) < span.end,
        col(WebhookDelivery.status) != WebhookDeliveryStatus.PENDING,
    ]


async def count_finished_deliveries(session: AsyncSession, *, span: DeliverySpan) -> int:
    """How many of the span's deliveries are finished (SUCCEEDED or FAILED)."""
    count = await session.scalar(sa.select(sa.func.count()).where(*_finished_in(span)))
    return int(count or 0)


def _replayed_values(now: dt.datetime) -> dict[str, Any]:
    """What a replay sets on a finished delivery: PENDING, due `now`, its retry schedule
    counted from the attempts made so far."""
    return {
        "status": WebhookDeliveryStatus.PENDING,
        "next_attempt_at": now,
        "attempts_before_replay": col(WebhookDelivery.attempt_count),
        "claim_id": None,
        "delivered_at": None,
    }


async def replay_finished_deliveries(
    session: AsyncSession, *, span: DeliverySpan, now: dt.datetime
) -> int:
    """Make the span's finished deliveries PENDING again, due `now`; how many (one UPDATE)."""
    result = await session.execute(
        sa.update(WebhookDelivery)
        .where(*_finished_in(span))
        .values(_replayed_values(now))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
