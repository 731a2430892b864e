"""The backlog gauge (`mps_webhook_oldest_pending_age_seconds`) is the age of the oldest
pending delivery since it was enqueued, counting one that waits out a retry's backoff."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlmodel import col

from gateway.domain.enums import EventType
from gateway.services.deliveries import enqueue, measure_backlog
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookDelivery
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.webhooks.conftest import FAST, Endpoints, add_users, deliveries_of
from tests.webhooks.receiver import Receiver

GAUGE = "mps_webhook_oldest_pending_age_seconds"
DAY_S = 86_400


async def test_a_delivery_waiting_out_its_backoff_still_ages_the_backlog(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await add_users(db, platform.id, 1)
    await enqueue(db, policy=FAST)
    [delivery] = await deliveries_of(db, endpoint.id)
    now = utcnow()
    async with db.transaction() as session:  # enqueued a day ago, its next retry an hour away
        await session.execute(
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == delivery.id)
            .values(
                created_at=now - dt.timedelta(days=1),
                next_attempt_at=now + dt.timedelta(hours=1),
            )
        )

    await measure_backlog(db)

    age = REGISTRY.get_sample_value(GAUGE)
    assert age is not None
    assert age >= DAY_S  # not 0: nothing is overdue, yet an event has waited a day
