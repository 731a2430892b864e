"""Webhook endpoints of a platform: registered with a signing secret shown once, listed,
deleted (kept for the delivery log, never listed or delivered to again).

An endpoint receives the events appended after its creation: it starts enqueued through the
platform's last event sequence. Deleting it gives up its pending deliveries
(`gateway.services.webhook_dispatcher` sends them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.enums import EventType
from gateway.domain.errors import NotFound
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks
from gateway.domain.webhooks import new_secret, url_problem
from gateway.services.lookups import object_id
from gateway.services.unit_of_work import Tx, perform
from gateway.store import deliveries, readers, webhooks
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.journal_tables import WebhookEndpoint

ENDPOINTS_PER_PLATFORM_MAX = 20


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
