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
from gateway.store.deliveries import oldest_pending_statement
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


async def test_the_oldest_pending_delivery_is_read_through_the_status_created_index(
    db: Database,
) -> None:
    """The statement as the gateway sends it (status bound as a parameter) is an index search,
    not a scan of the finished deliveries the table keeps."""
    statement = oldest_pending_statement().compile(dialect=db.engine.dialect)
    parameters = tuple(getattr(value, "value", value) for value in statement.params.values())
    async with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            await connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
            explain = f"EXPLAIN {statement}"
            raw = await connection.get_raw_connection()
            rows = await raw.driver_connection.fetch(explain, *parameters)  # type: ignore[union-attr]
            plan = "\n".join(row[0] for row in rows)
        else:
            found = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = "\n".join(str(row[-1]) for row in found.all())
    assert "ix_webhook_deliveries_status_created" in plan, plan
