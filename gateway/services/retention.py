"""Retention: old idempotency records and finished webhook deliveries are purged.

- Idempotency records older than `idempotency_retention_hours` (at least 24: the documented
  guarantee). A request repeating such a key afterwards is a new request: it runs again.
- Webhook deliveries created longer ago than `delivery_retention_days`, SUCCEEDED or FAILED,
  with their attempts; a PENDING delivery is never purged, however old.

The job deletes in batches of `batch_size` rows, each batch a short transaction of its own
(ids read through the `created_at` index, deleted by primary key; see
`gateway.store.retention`), with `pause_s` between batches so that other writers get the
tables, until a batch comes back short. The deletes are idempotent: several instances may
purge at once. The app runs it every `interval_s` (`run_retention`); `mps-gateway purge` runs
it once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from gateway.store import retention
from gateway.store.column_types import utcnow
from gateway.store.engine import Database, Session

logger = logging.getLogger("gateway.retention")

IDEMPOTENCY_RETENTION_HOURS_MIN = 24
BATCHES_PER_KIND_MAX = 1_000_000  # a bound on one run, far beyond any backlog


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    idempotency_retention_hours: int = 48
    delivery_retention_days: int = 30
    batch_size: int = 500
    pause_s: float = 0.2
    interval_s: float = 3600.0

    def __post_init__(self) -> None:
        assert self.idempotency_retention_hours >= IDEMPOTENCY_RETENTION_HOURS_MIN
        assert min(self.delivery_retention_days, self.batch_size) >= 1
        assert self.pause_s >= 0
        assert self.interval_s > 0


@dataclass(frozen=True, slots=True)
class Batch:
    kind: str  # "idempotency records" or "webhook deliveries"
    number: int  # 1, 2, ... within its kind
    deleted: int


@dataclass
class PurgeReport:
    idempotency_records: int = 0
    webhook_deliveries: int = 0
    batches: list[Batch] = field(default_factory=list)


Purge = Callable[..., Awaitable[int]]
Progress = Callable[[Batch], None]


async def _purge_kind(
    db: Database,
    kind: str,
    purge: Purge,
    *,
    before: dt.datetime,
    policy: RetentionPolicy,
    report: PurgeReport,
    progress: Progress | None,
) -> int:
    total = 0
    for number in range(1, BATCHES_PER_KIND_MAX + 1):
        work: Callable[[Session], Awaitable[int]] = partial(
            purge, before=before, limit=policy.batch_size
        )
        deleted = await db.write(work)
        total += deleted
        if deleted == 0 and number > 1:  # the last batch was exactly full: nothing left
            break
        batch = Batch(kind, number, deleted)
        report.batches.append(batch)
        if progress is not None:
            progress(batch)
        if deleted < policy.batch_size:
            break
        await asyncio.sleep(policy.pause_s)
    return total


async def purge_once(
    db: Database, *, policy: RetentionPolicy, progress: Progress | None = None
) -> PurgeReport:
    """Purge what is past its window, batch by batch; `progress` hears of every batch."""
    now = utcnow()
    report = PurgeReport()
    report.idempotency_records = await _purge_kind(
        db,
        "idempotency records",
        retention.purge_idempotency_records,
        before=now - dt.timedelta(hours=policy.idempotency_retention_hours),
        policy=policy,
        report=report,
        progress=progress,
    )
    report.webhook_deliveries = await _purge_kind(
        db,
        "webhook deliveries",
        retention.purge_deliveries,
        before=now - dt.timedelta(days=policy.delivery_retention_days),
        policy=policy,
        report=report,
        progress=progress,
    )
    return report


async def run_retention(db: Database, *, policy: RetentionPolicy) -> None:
    """Purge every `interval_s` until cancelled (the first purge one interval after the
    start); a failed purge is logged and the next one runs."""
    while True:
        await asyncio.sleep(policy.interval_s)
        try:
            report = await purge_once(db, policy=policy)
        except Exception:
            logger.exception("retention purge failed")
            continue
        if report.idempotency_records or report.webhook_deliveries:
            logger.info(
                "retention purged %d idempotency records and %d webhook deliveries",
                report.idempotency_records,
                report.webhook_deliveries,
            )
