"""Retention: idempotency records and finished webhook deliveries past their window are purged
in small batches, by the job and by `mps-gateway purge`; young rows and PENDING deliveries
stay, and a key repeated after its record is gone is a new request.

Rows are aged by moving their `created_at` back in the database. The database is shared by the
session, so each test first purges what others may have left old (nothing, in practice), and
counts batches only over the rows it aged itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.ids import new_id
from gateway.services.deliveries import enqueue
from gateway.services.demo import populate
from gateway.services.retention import Batch, RetentionPolicy, purge_once
from gateway.settings import Settings
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus
from gateway.store.engine import Database
from gateway.store.journal_tables import IdempotencyRecord
from tests.conftest import make_platform
from tests.support.calls import mutate, success
from tests.support.documents import OPEN_ACCOUNT
from tests.support.users import create_natural_user
from tests.webhooks.conftest import FAST, Endpoints, deliveries_of

QUICK = RetentionPolicy(batch_size=2, pause_s=0)
LONG_AGO = utcnow() - dt.timedelta(days=400)
CLI_TIMEOUT_S = 120


@pytest.fixture
async def endpoints(db: Database) -> AsyncIterator[Endpoints]:
    made = Endpoints(db)
    yield made
    await made.delete_all()


async def _age(db: Database, model: type, ids: Sequence[uuid.UUID], moment: dt.datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            sa.update(model)
            .where(col(model.id).in_(ids))  # type: ignore[attr-defined]
            .values(created_at=moment)
        )


async def _open_account(client: httpx.AsyncClient, platform: object, user_id: str) -> str:
    input = {"userId": user_id, "currency": "EUR", "idempotencyKey": "open-main-account"}
    payload = await mutate(client, platform, OPEN_ACCOUNT, input)  # type: ignore[arg-type]
    account_id: str = success(payload, "OpenAccountSuccess")["account"]["id"]
    return account_id


async def test_a_key_repeated_after_its_record_is_purged_is_a_new_request(
    db: Database, client: httpx.AsyncClient
) -> None:
    platform = await make_platform(db)
    user_id = await create_natural_user(client, platform)
    first = await _open_account(client, platform, user_id)
    assert await _open_account(client, platform, user_id) == first  # within the window: replayed
    async with db.session() as session:
        record_ids = list(
            (
                await session.scalars(
                    sa.select(col(IdempotencyRecord.id)).where(
                        col(IdempotencyRecord.platform_id) == platform.id,
                        col(IdempotencyRecord.key) == "open-main-account",
                    )
                )
            ).all()
        )
    assert len(record_ids) == 1
    await _age(db, IdempotencyRecord, record_ids, utcnow() - dt.timedelta(hours=49))
    report = await purge_once(db, policy=QUICK)
    assert report.idempotency_records >= 1
    again = await _open_account(client, platform, user_id)
    assert again != first  # a new request: a second account


async def _finished(db: Database, ids: Sequence[uuid.UUID], *, with_attempt: bool) -> None:
    """Mark deliveries SUCCEEDED (with an attempt each when asked), as the dispatcher would."""
    async with db.transaction() as session:
        await session.execute(
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(ids))
            .values(status=WebhookDeliveryStatus.SUCCEEDED, next_attempt_at=None, attempt_count=1)
        )
        if with_attempt:
            rows = (
                await session.scalars(
                    sa.select(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids))
                )
            ).all()
            for row in rows:
                session.add(
                    WebhookAttempt(
                        id=new_id(),
                        platform_id=row.platform_id,
                        delivery_id=row.id,
                        attempt=1,
                        status_code=200,
                    )
                )


async def _deliveries_to_purge(db: Database, endpoints: Endpoints) -> list[WebhookDelivery]:
    """An endpoint owed at least 8 deliveries (never sent: nothing listens at its URL)."""
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, url="http://127.0.0.1:9/never")
    await populate(
        db, platform_id=platform.id, natural_users=3, legal_users=0, accounts_per_user=1, seed=7
    )
    await enqueue(db, policy=FAST)
    rows = await deliveries_of(db, endpoint.id)
    assert len(rows) >= 8
    return rows


async def test_old_finished_deliveries_are_purged_in_batches_and_young_or_pending_ones_stay(
    db: Database, endpoints: Endpoints
) -> None:
    await purge_once(db, policy=RetentionPolicy(pause_s=0))  # whatever others left old
    rows = await _deliveries_to_purge(db, endpoints)
    old = [row.id for row in rows[:5]]
    old_pending, young = rows[5].id, [row.id for row in rows[6:]]
    await _finished(db, old[:3], with_attempt=True)
    await _finished(db, old[3:], with_attempt=False)
    await _finished(db, young, with_attempt=True)
    await _age(db, WebhookDelivery, [*old, old_pending], LONG_AGO)
    batches: list[Batch] = []
    report = await purge_once(db, policy=QUICK, progress=batches.append)
    assert report.webhook_deliveries == 5
    delivery_batches = [b.deleted for b in batches if b.kind == "webhook deliveries"]
    assert delivery_batches == [2, 2, 1]
    left = {row.id: row for row in await deliveries_of(db, rows[0].endpoint_id)}
    assert set(left) == {old_pending, *young}
    assert left[old_pending].status is WebhookDeliveryStatus.PENDING
    async with db.session() as session:
        orphans = await session.scalar(
            sa.select(sa.func.count()).where(col(WebhookAttempt.delivery_id).in_(old))
        )
    assert orphans == 0


async def test_purges_running_at_once_delete_each_old_row_once(
    db: Database, endpoints: Endpoints
) -> None:
    await purge_once(db, policy=RetentionPolicy(pause_s=0))
    rows = await _deliveries_to_purge(db, endpoints)
    old = [row.id for row in rows[:6]]
    await _finished(db, old, with_attempt=True)
    await _age(db, WebhookDelivery, old, LONG_AGO)
    reports = await asyncio.gather(*(purge_once(db, policy=QUICK) for _ in range(3)))
    assert sum(report.webhook_deliveries for report in reports) == 6
    left = {row.id for row in await deliveries_of(db, rows[0].endpoint_id)}
    assert left.isdisjoint(old)


async def test_the_purge_command_prints_each_batch_and_the_totals(
    db: Database, settings: Settings, endpoints: Endpoints
) -> None:
    await purge_once(db, policy=RetentionPolicy(pause_s=0))
    rows = await _deliveries_to_purge(db, endpoints)
    old = [row.id for row in rows[:3]]
    await _finished(db, old, with_attempt=False)
    await _age(db, WebhookDelivery, old, LONG_AGO)
    environment = {
        **os.environ,
        "MPS_DATABASE_URL": settings.database_url,
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_RETENTION_BATCH_SIZE": "2",
        "MPS_RETENTION_PAUSE_S": "0",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "gateway", "purge"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=CLI_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "webhook deliveries: batch 1 deleted 2" in lines
    assert "webhook deliveries: batch 2 deleted 1" in lines
    assert lines[-1] == ("purged 0 idempotency records and 3 webhook deliveries in 3 batches"), (
        done.stdout
    )
