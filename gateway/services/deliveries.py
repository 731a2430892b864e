"""The webhook delivery queue: deliveries enqueued for committed events, claimed with a lease,
and moved on by the result of each attempt. Each step is a short transaction of its own.

- Enqueue. Each enabled endpoint remembers the platform event sequence it has enqueued
  through (set at creation to the platform's last one, so it receives later events only). With
  the endpoint row locked, a pass reads the next events of its platform (at most
  `enqueue_span_max` sequence numbers), inserts a PENDING delivery for each one of the
  endpoint's types, and moves the mark. A delivery is unique per (endpoint, event).
- Claim. Due deliveries (PENDING, `next_attempt_at` passed, endpoint enabled) are claimed in
  one transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has a single writer), a
  fresh `claim_id`, and `next_attempt_at` moved a lease ahead. So no other gateway instance
  sends a claimed delivery at the same moment. The lease is short (`lease_s`, 10 s) and renewed
  while its instance lives and sends (`renew`), so one that dies mid-send leaves its deliveries
  due again within seconds.
- Record. The result of an attempt is recorded only while the claim is still ours: the attempt
  is logged, and the delivery SUCCEEDED, due again after the policy's retry delay, or FAILED
  when no attempt is left. An endpoint whose last `disable_after_failures` attempts all failed,
  over at least `disable_after_s`, is disabled with the reason recorded, and its pending
  deliveries fail; a success resets the count. A deleted endpoint's pending deliveries fail too.

Every state lives in the database, so a restarted dispatcher goes on where the last one
stopped. The SQL is `gateway.store.deliveries`'; the loop that drives these steps is
`gateway.services.webhook_dispatcher`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from dataclasses import dataclass

from gateway.domain.enums import EventType
from gateway.domain.ids import new_id
from gateway.services import instruments
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.webhook_requests import AttemptResult, rfc3339
from gateway.store import deliveries, readers, webhooks
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import (
    ERROR_LENGTH_MAX,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
)
from gateway.store.engine import Database, Session
from gateway.store.journal_tables import Event, WebhookEndpoint

PENDING, SUCCEEDED, FAILED = (
    WebhookDeliveryStatus.PENDING,
    WebhookDeliveryStatus.SUCCEEDED,
    WebhookDeliveryStatus.FAILED,
)

logger = logging.getLogger("gateway.webhooks")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this pass holds: what it takes to send it, and the claim to record it."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    claim_id: uuid.UUID
    url: str
    secret: str
    event: Event
    attempts_before: int = 0  # attempts recorded before this claim
    previous_secret: str | None = None  # during a rotation's overlap


async def enqueue(db: Database, *, policy: DeliveryPolicy) -> int:
    """Enqueue what endpoints behind their platform's log are owed; the number enqueued."""
    async with db.session() as session:
        endpoint_ids = await deliveries.endpoints_behind(
            session, limit=policy.endpoints_per_pass_max
        )
    enqueued = 0
    for endpoint_id in endpoint_ids:
        enqueued += await db.write(
            functools.partial(_enqueue, endpoint_id=endpoint_id, policy=policy)
        )
    return enqueued


async def _enqueue(session: Session, *, endpoint_id: uuid.UUID, policy: DeliveryPolicy) -> int:
    endpoint = await deliveries.lock_endpoint_to_enqueue(session, endpoint_id=endpoint_id)
    if endpoint is None:  # gone, or another instance is enqueueing for it
        return 0
    last = await readers.last_event_sequence(session, platform_id=endpoint.platform_id)
    through = endpoint.enqueued_through
    upper = min(last, through + policy.enqueue_span_max)
    if upper <= through:
        return 0
    types: list[EventType] | None = None
    if endpoint.event_types:
        known = EventType.__members__
        types = [known[name] for name in endpoint.event_types if name in known]
    event_ids = await deliveries.events_to_enqueue(
        session, platform_id=endpoint.platform_id, after=through, through=upper, types=types
    )
    await deliveries.add_pending(
        session,
        platform_id=endpoint.platform_id,
        endpoint_id=endpoint.id,
        event_ids=event_ids,
        now=utcnow(),
    )
    endpoint.enqueued_through = upper
    await session.flush()
    return len(event_ids)


async def measure_backlog(db: Database) -> None:
    """Set the age of the oldest pending delivery (for /metrics)."""
    async with db.session() as session:
        oldest = await deliveries.oldest_pending(session)
    instruments.oldest_pending_age(oldest, now=utcnow())


async def claim_due(db: Database, *, policy: DeliveryPolicy) -> list[Claimed]:
    """Claim up to `claim_batch_max` due deliveries for `lease_s`, oldest due first."""
    now = utcnow()
    async with db.session() as session:  # a read first: an idle pass takes no write lock
        if not await deliveries.any_due(session, now=now):
            return []
    return await db.write(functools.partial(_claim, now=now, policy=policy))


async def _claim(session: Session, *, now: dt.datetime, policy: DeliveryPolicy) -> list[Claimed]:
    ids = await deliveries.lock_due(session, now=now, limit=policy.claim_batch_max)
    if not ids:
        return []
    claim_id = new_id()
    until = now + dt.timedelta(seconds=policy.lease_s)
    await deliveries.lease(session, delivery_ids=ids, claim_id=claim_id, until=until)
    rows = await deliveries.claimed(session, delivery_ids=ids)
    return [
        Claimed(
            row[0],
            row[1],
            claim_id,
            row[2],
            row[3],
            row[4],
            attempts_before=row[5],
            previous_secret=_overlapping(row[6], row[7], now),
        )
        for row in rows
    ]


def _overlapping(
    previous: str | None, expires_at: dt.datetime | None, now: dt.datetime
) -> str | None:
    """The replaced secret while its rotation's overlap lasts, else None."""
    return (
        previous if previous is not None and expires_at is not None and now < expires_at else None
    )


async def renew(db: Database, claim_id: uuid.UUID, *, policy: DeliveryPolicy) -> int:
    """Extend the lease of what `claim_id` still holds by `lease_s` from now."""
    until = utcnow() + dt.timedelta(seconds=policy.lease_s)

    async def work(session: Session) -> int:
        return await deliveries.renew(session, claim_id=claim_id, until=until)

    return await db.write(work)


async def record(
    db: Database, item: Claimed, result: AttemptResult, *, policy: DeliveryPolicy
) -> bool:
    """Log an attempt and move its delivery on; False when the claim was lost meanwhile."""
    return await db.write(functools.partial(_record, item=item, result=result, policy=policy))


async def _record(
    session: Session, *, item: Claimed, result: AttemptResult, policy: DeliveryPolicy
) -> bool:
    # The endpoint first, then the delivery: the order every writer of both takes.
    endpoint = await webhooks.lock_endpoint(session, endpoint_id=item.endpoint_id)
    delivery = await deliveries.lock_claimed(
        session, delivery_id=item.delivery_id, claim_id=item.claim_id
    )
    if endpoint is None or delivery is None:
        return False
    delivery.attempt_count += 1
    session.add(
        WebhookAttempt(
            id=new_id(),
            platform_id=delivery.platform_id,
            delivery_id=delivery.id,
            attempt=delivery.attempt_count,
            attempted_at=result.attempted_at,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
    )
    delivery.claim_id, delivery.last_status_code = None, result.status_code
    delivery.last_error = result.error
    if result.succeeded:
        delivery.status, delivery.next_attempt_at = SUCCEEDED, None
        delivery.delivered_at = result.attempted_at
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
    else:
        _schedule_retry(delivery, policy)
        await _count_failure(session, endpoint, result, policy)
    await session.flush()
    return True


def _schedule_retry(delivery: WebhookDelivery, policy: DeliveryPolicy) -> None:
    if delivery.status is not PENDING:  # given up meanwhile (endpoint disabled or deleted)
        return
    delay_s = policy.retry_delay_s(delivery.attempt_count - delivery.attempts_before_replay)
    if delay_s is None:
        delivery.status, delivery.next_attempt_at = FAILED, None
    else:
        delivery.next_attempt_at = utcnow() + dt.timedelta(seconds=delay_s)


async def _count_failure(
    session: Session, endpoint: WebhookEndpoint, result: AttemptResult, policy: DeliveryPolicy
) -> None:
    endpoint.consecutive_failures += 1
    since = endpoint.failing_since = endpoint.failing_since or result.attempted_at
    now = utcnow()
    if (
        not endpoint.enabled
        or endpoint.consecutive_failures < policy.disable_after_failures
        or now - since < dt.timedelta(seconds=policy.disable_after_s)
    ):
        return
    last = f"HTTP {result.status_code}" if result.error is None else result.error
    endpoint.enabled, endpoint.disabled_at = False, now
    endpoint.disabled_reason = (
        f"Disabled after {endpoint.consecutive_failures} consecutive failed attempts since"
        f" {rfc3339(since)}; the last: {last}"
    )[:ERROR_LENGTH_MAX]
    logger.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
    await deliveries.fail_pending(
        session,
        platform_id=endpoint.platform_id,
        endpoint_id=endpoint.id,
        reason="The endpoint was disabled after repeated failures.",
    )
