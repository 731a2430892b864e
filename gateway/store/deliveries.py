"""The webhook delivery queue: what the dispatcher (gateway/services/deliveries.py) reads,
claims and moves on, inside the transactions it opens.

- Enqueue: endpoints behind their platform's log, one of them locked `SKIP LOCKED` (another
  instance enqueueing for it is left alone), its next events, a PENDING delivery per event.
- Claim: due deliveries of enabled, live endpoints, locked `FOR UPDATE SKIP LOCKED` (only the
  delivery rows), oldest due first; then a claim id and a lease set on them, then read back
  with what sending takes.
- Record: the endpoint first, then the delivery while the claim is still ours, both locked:
  the order every writer of both takes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import EventType
from gateway.domain.ids import new_id
from gateway.store.delivery_tables import ERROR_LENGTH_MAX, WebhookDelivery, WebhookDeliveryStatus
from gateway.store.journal_tables import Event, WebhookEndpoint
from gateway.store.tables import Platform

PENDING, FAILED = WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.FAILED
# delivery, endpoint, url, secret, event, attempts made before this claim, previous secret and
# until when it signs
ClaimedRow = tuple[uuid.UUID, uuid.UUID, str, str, Event, int, str | None, dt.datetime | None]


async def endpoints_behind(session: AsyncSession, *, limit: int) -> list[uuid.UUID]:
    """Ids of enabled, live endpoints enqueued short of their platform's last event."""
    behind = await session.scalars(
        sa.select(col(WebhookEndpoint.id))
        .join(Platform, col(Platform.id) == col(WebhookEndpoint.platform_id))
        .where(
            col(WebhookEndpoint.enabled),
            col(WebhookEndpoint.deleted_at).is_(None),
            col(WebhookEndpoint.enqueued_through) < col(Platform.event_sequence),
        )
        .order_by(col(WebhookEndpoint.id))
        .limit(limit)
    )
    return list(behind.all())


async def lock_endpoint_to_enqueue(
    session: AsyncSession, *, endpoint_id: uuid.UUID
) -> WebhookEndpoint | None:
    """The endpoint, row-locked, if enabled and live and not locked by another transaction."""
    endpoint: WebhookEndpoint | None = await session.scalar(
        sa.select(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.enabled),
            col(WebhookEndpoint.deleted_at).is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    return endpoint


async def events_to_enqueue(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    after: int,
    through: int,
    types: Sequence[EventType] | None,
) -> list[uuid.UUID]:
    """Ids of the platform's events with a sequence in (after, through], in order; of `types`
    only unless None (an empty list matches nothing)."""
    where: list[Any] = [
        col(Event.platform_id) == platform_id,
        col(Event.sequence) > after,
        col(Event.sequence) <= through,
    ]
    if types is not None:
        where.append(col(Event.type).in_(types))
    found = await session.scalars(
        sa.select(col(Event.id)).where(*where).order_by(col(Event.sequence))
    )
    return list(found.all())


async def add_pending(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    event_ids: Sequence[uuid.UUID],
    now: dt.datetime,
) -> None:
    """A PENDING delivery, due `now`, of each event to the endpoint (one INSERT)."""
    if not event_ids:
        return
    await session.execute(
        sa.insert(WebhookDelivery),
        [
            {
                "id": new_id(),
                "platform_id": platform_id,
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "status": PENDING,
                "attempt_count": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event_id in event_ids
        ],
    )


def _due(now: dt.datetime) -> list[Any]:
    return [col(WebhookDelivery.status) == PENDING, col(WebhookDelivery.next_attempt_at) <= now]


def _of_endpoint() -> Any:
    return sa.and_(
        col(WebhookEndpoint.platform_id) == col(WebhookDelivery.platform_id),
        col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id),
    )


async def any_due(session: AsyncSession, *, now: dt.datetime) -> bool:
    """Whether a delivery is due (a plain read: an idle pass takes no write lock)."""
    due = await session.scalar(sa.select(col(WebhookDelivery.id)).where(*_due(now)).limit(1))
    return due is not None


def oldest_pending_statement() -> Any:
    """The oldest pending delivery's creation time: the first entry under PENDING of the
    (status, created_at) index, however many finished deliveries the table keeps."""
    return sa.select(sa.func.min(col(WebhookDelivery.created_at))).where(
        col(WebhookDelivery.status) == PENDING
    )


async def oldest_pending(session: AsyncSession) -> dt.datetime | None:
    """When the oldest pending delivery was enqueued."""
    oldest: dt.datetime | None = await session.scalar(oldest_pending_statement())
    return oldest


async def lock_due(session: AsyncSession, *, now: dt.datetime, limit: int) -> list[uuid.UUID]:
    """Ids of up to `limit` due deliveries of enabled, live endpoints, oldest due first, their
    rows locked; rows another transaction holds are skipped."""
    locked = await session.scalars(
        sa.select(col(WebhookDelivery.id))
        .join(WebhookEndpoint, _of_endpoint())
        .where(*_due(now), col(WebhookEndpoint.enabled), col(WebhookEndpoint.deleted_at).is_(None))
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    return list(locked.all())


async def lease(
    session: AsyncSession,
    *,
    delivery_ids: Sequence[uuid.UUID],
    claim_id: uuid.UUID,
    until: dt.datetime,
) -> None:
    """Mark the deliveries claimed by `claim_id`, not due again before `until`."""
    await session.execute(
        sa.update(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(delivery_ids))
        .values(claim_id=claim_id, next_attempt_at=until)
    )


async def renew(session: AsyncSession, *, claim_id: uuid.UUID, until: dt.datetime) -> int:
    """Hold the deliveries `claim_id` still holds (none recorded yet) until `until`; how many."""
    result = await session.execute(
        sa.update(WebhookDelivery)
        .where(col(WebhookDelivery.claim_id) == claim_id, col(WebhookDelivery.status) == PENDING)
        .values(next_attempt_at=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claimed(session: AsyncSession, *, delivery_ids: Sequence[uuid.UUID]) -> list[ClaimedRow]:
    """What sending each delivery takes: its endpoint's id, URL and secrets (the one a rotation
    replaced, with the end of its overlap), its event, and the attempts made so far; in event
    sequence order."""
    rows = await session.execute(
        sa.select(
            col(WebhookDelivery.id),
            col(WebhookDelivery.endpoint_id),
            col(WebhookEndpoint.url),
            col(WebhookEndpoint.secret),
            Event,
            col(WebhookDelivery.attempt_count),
            col(WebhookEndpoint.previous_secret),
            col(WebhookEndpoint.previous_secret_expires_at),
        )
        .join(WebhookEndpoint, _of_endpoint())
        .join(
            Event,
            sa.and_(
                col(Event.platform_id) == col(WebhookDelivery.platform_id),
                col(Event.id) == col(WebhookDelivery.event_id),
            ),
        )
        .where(col(WebhookDelivery.id).in_(delivery_ids))
        .order_by(col(Event.sequence))
    )
    return [(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]) for row in rows.all()]


async def lock_claimed(
    session: AsyncSession, *, delivery_id: uuid.UUID, claim_id: uuid.UUID
) -> WebhookDelivery | None:
    """The delivery, row-locked, if `claim_id` still holds it."""
    delivery: WebhookDelivery | None = await session.scalar(
        sa.select(WebhookDelivery)
        .where(col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.claim_id) == claim_id)
        .with_for_update()
    )
    return delivery


async def fail_pending(
    session: AsyncSession, *, platform_id: uuid.UUID, endpoint_id: uuid.UUID, reason: str
) -> None:
    """Give up every pending delivery of an endpoint (disabled or deleted)."""
    await session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.platform_id) == platform_id,
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.status) == PENDING,
        )
        .values(status=FAILED, next_attempt_at=None, last_error=reason[:ERROR_LENGTH_MAX])
    )
