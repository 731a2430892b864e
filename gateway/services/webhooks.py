"""Webhook endpoints of a platform: registered with a signing secret shown once, listed,
deleted (kept for the delivery log, never listed or delivered to again); enabled again after
the dispatcher disabled them; their secret rotated with an overlap (both secrets sign until it
ends); their finished deliveries replayed, one or a range of them (bounded).

An endpoint receives the events appended after its creation: it starts enqueued through the
platform's last event sequence. Deleting it gives up its pending deliveries
(`gateway.services.webhook_dispatcher` sends them)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from gateway.domain.enums import EventType
from gateway.domain.errors import InvalidState, NotFound
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks
from gateway.domain.webhooks import new_secret, url_problem
from gateway.services.lookups import object_id
from gateway.services.unit_of_work import Tx, perform
from gateway.store import deliveries, readers, webhooks
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookDelivery, WebhookDeliveryStatus
from gateway.store.engine import Database
from gateway.store.journal_tables import WebhookEndpoint

ENDPOINTS_PER_PLATFORM_MAX = 20
ROTATION_OVERLAP_S_MAX = 7 * 86_400
REPLAY_DELIVERIES_MAX = 10_000
Work = Callable[[Tx], Awaitable[WebhookEndpoint]]


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    url: str
    event_types: Sequence[EventType] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


async def create_endpoint(
    db: Database, *, platform_id: uuid.UUID, new: NewEndpoint, allow_private: bool
) -> CreatedEndpoint:
    checks = Checks()
    problem = url_problem(new.url, allow_private=allow_private)
    if problem:
        checks.add("url", problem)
    checks.text("description", new.description, required=False)
    checks.done()
    secret = new_secret()

    async def work(tx: Tx) -> WebhookEndpoint:
        count = await webhooks.live_endpoint_count(tx.session, platform_id=tx.platform_id)
        if count >= ENDPOINTS_PER_PLATFORM_MAX:
            limit = Checks()
            limit.add("url", f"A platform has at most {ENDPOINTS_PER_PLATFORM_MAX} endpoints.")
            limit.done()
        last_sequence = await readers.last_event_sequence(tx.session, platform_id=tx.platform_id)
        endpoint = WebhookEndpoint(
            id=new_id(),
            platform_id=tx.platform_id,
            url=new.url.strip(),
            event_types=sorted({event_type.value for event_type in new.event_types}),
            description=(new.description or "").strip() or None,
            secret=secret,
            enqueued_through=last_sequence,
        )
        tx.session.add(endpoint)
        await tx.session.flush()
        return endpoint

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="createWebhookEndpoint",
        key=None,
        payload={},
        model=WebhookEndpoint,
        work=work,
    )
    return CreatedEndpoint(endpoint=outcome.value, secret=secret)


async def delete_endpoint(db: Database, *, platform_id: uuid.UUID, endpoint_id: str) -> uuid.UUID:
    key = object_id(endpoint_id, "webhook endpoint")

    async def work(tx: Tx) -> WebhookEndpoint:
        endpoint = await webhooks.lock_live_endpoint(
            tx.session, platform_id=tx.platform_id, endpoint_id=key
        )
        if endpoint is None:
            raise NotFound(f"No webhook endpoint with id {endpoint_id[:64]!r}.")
        endpoint.deleted_at = utcnow()
        endpoint.enabled = False
        await deliveries.fail_pending(
            tx.session,
            platform_id=tx.platform_id,
            endpoint_id=endpoint.id,
            reason="The endpoint was deleted.",
        )
        await tx.session.flush()
        return endpoint

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="deleteWebhookEndpoint",
        key=None,
        payload={},
        model=WebhookEndpoint,
        work=work,
    )
    return outcome.value.id


async def _live_endpoint(tx: Tx, endpoint_id: str) -> WebhookEndpoint:
    key = object_id(endpoint_id, "webhook endpoint")
    endpoint = await webhooks.lock_live_endpoint(
        tx.session, platform_id=tx.platform_id, endpoint_id=key
    )
    if endpoint is None:
        raise NotFound(f"No webhook endpoint with id {endpoint_id[:64]!r}.")
    return endpoint


async def _endpoint_work(
    db: Database, platform_id: uuid.UUID, operation: str, work: Work
) -> WebhookEndpoint:
    outcome = await perform(
        db,
        platform_id=platform_id,
        operation=operation,
        key=None,
        payload={},
        model=WebhookEndpoint,
        work=work,
    )
    return outcome.value


async def enable_endpoint(
    db: Database, *, platform_id: uuid.UUID, endpoint_id: str
) -> WebhookEndpoint:
    """Deliver to a disabled endpoint again (an enabled one stays as it is). It resumes where
    its log mark stands: the events appended while it was disabled are delivered too; the
    deliveries given up when it was disabled stay FAILED (replay them)."""

    async def work(tx: Tx) -> WebhookEndpoint:
        endpoint = await _live_endpoint(tx, endpoint_id)
        if not endpoint.enabled:
            endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, None
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            await tx.session.flush()
        return endpoint

    return await _endpoint_work(db, platform_id, "enableWebhookEndpoint", work)


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once


async def rotate_secret(
    db: Database, *, platform_id: uuid.UUID, endpoint_id: str, overlap_s: int
) -> RotatedSecret:
    """A new signing secret for the endpoint. For `overlap_s` seconds (at most
    ROTATION_OVERLAP_S_MAX) every delivery is signed with the new secret and the replaced one,
    so that the receiver can switch at its pace; then with the new one only. A rotation during
    an overlap ends it: only the secret being replaced still signs."""
    if not 0 <= overlap_s <= ROTATION_OVERLAP_S_MAX:
        checks = Checks()
        checks.add("overlapSeconds", f"From 0 to {ROTATION_OVERLAP_S_MAX} seconds (7 days).")
        checks.done()
    secret = new_secret()

    async def work(tx: Tx) -> WebhookEndpoint:
        endpoint = await _live_endpoint(tx, endpoint_id)
        if overlap_s > 0:
            endpoint.previous_secret = endpoint.secret
            endpoint.previous_secret_expires_at = utcnow() + dt.timedelta(seconds=overlap_s)
        else:
            endpoint.previous_secret = endpoint.previous_secret_expires_at = None
        endpoint.secret = secret
        await tx.session.flush()
        return endpoint

    endpoint = await _endpoint_work(db, platform_id, "rotateWebhookSecret", work)
    return RotatedSecret(endpoint=endpoint, secret=secret)


def _check_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise InvalidState(
            "The webhook endpoint is disabled: enable it before replaying its deliveries.",
            state="DISABLED",
        )


async def replay_delivery(
    db: Database, *, platform_id: uuid.UUID, delivery_id: str
) -> WebhookDelivery:
    """Send a finished delivery (SUCCEEDED or FAILED) again, from now, with a fresh retry
    schedule; the same `webhook-id`, so a receiver that keeps ids sees a duplicate. A PENDING
    delivery is on its way already (InvalidState)."""
    key = object_id(delivery_id, "webhook delivery")

    async def work(tx: Tx) -> WebhookDelivery:
        # The endpoint first, then the delivery: the order every writer of both takes.
        owner = await webhooks.endpoint_of_delivery(
            tx.session, platform_id=tx.platform_id, delivery_id=key
        )
        endpoint = None if owner is None else await _live_endpoint(tx, str(owner))
        delivery = await webhooks.lock_delivery(
            tx.session, platform_id=tx.platform_id, delivery_id=key
        )
        if endpoint is None or delivery is None:
            raise NotFound(f"No webhook delivery with id {delivery_id[:64]!r}.")
        _check_enabled(endpoint)
        if delivery.status is WebhookDeliveryStatus.PENDING:
            raise InvalidState("The delivery is still pending: it is being sent.", state="PENDING")
        delivery.status, delivery.next_attempt_at = WebhookDeliveryStatus.PENDING, utcnow()
        delivery.attempts_before_replay = delivery.attempt_count
        delivery.claim_id = delivery.delivered_at = None
        await tx.session.flush()
        return delivery

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="replayWebhookDelivery",
        key=None,
        payload={},
        model=WebhookDelivery,
        work=work,
    )
    return outcome.value


@dataclass(frozen=True, slots=True)
class ReplayedDeliveries:
    endpoint: WebhookEndpoint
    count: int


async def replay_deliveries(
    db: Database,
    *,
    platform_id: uuid.UUID,
    endpoint_id: str,
    start: dt.datetime,
    end: dt.datetime,
) -> ReplayedDeliveries:
    """Send again every finished delivery of the endpoint created in [start, end) (PENDING
    ones are on their way already), at most REPLAY_DELIVERIES_MAX of them: a range holding
    more is refused whole (narrow it)."""
    checks = Checks()
    if end <= start:
        checks.add("to", "Must come after `from`.")
    checks.done()
    counted: list[int] = []

    async def work(tx: Tx) -> WebhookEndpoint:
        endpoint = await _live_endpoint(tx, endpoint_id)
        _check_enabled(endpoint)
        span = webhooks.DeliverySpan(tx.platform_id, endpoint.id, start, end)
        count = await webhooks.count_finished_deliveries(tx.session, span=span)
        if count > REPLAY_DELIVERIES_MAX:
            limit = Checks()
            limit.add(
                "to",
                f"The range holds {count} finished deliveries; at most"
                f" {REPLAY_DELIVERIES_MAX} are replayed at once: narrow it.",
            )
            limit.done()
        counted.append(
            await webhooks.replay_finished_deliveries(tx.session, span=span, now=utcnow())
        )
        return endpoint

    endpoint = await _endpoint_work(db, platform_id, "replayWebhookDeliveries", work)
    return ReplayedDeliveries(endpoint=endpoint, count=counted[-1])
