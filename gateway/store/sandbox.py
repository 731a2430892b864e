"""The sandbox settler's queue: sandbox items waiting for a decision, read in keyset batches."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import Environment
from gateway.store.tables import Platform


async def due_sandbox_items(
    session: AsyncSession,
    *,
    model: Any,
    status: Any,
    statuses: Sequence[Any],
    since: dt.datetime,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(platform id, row id) of sandbox rows of `model` in one of `statuses`, unchanged since
    `since`, oldest first, after the row `after` (None: from the first)."""
    statement = (
        sa.select(model.platform_id, model.id)
        .join(Platform, col(Platform.id) == model.platform_id)
        .where(col(Platform.environment) == Environment.SANDBOX)
        .where(status.in_(statuses), model.updated_at <= since)
        .where(sa.true() if after is None else model.id > after)
        .order_by(model.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]
