"""The event log's writes: a platform's sequence numbers, reserved by one guarded UPDATE of its
row (which holds the platform's lock until commit, so numbers are gap-free and in commit
order), and the events themselves.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.journal_tables import Event
from gateway.store.statements import UNSYNCED, bind
from gateway.store.tables import Platform


async def reserve_event_sequences(
    session: AsyncSession, *, platform_id: uuid.UUID, count: int
) -> int:
    """Take `count` sequence numbers; returns the first. Locks the platform row to commit."""
    parameters = {"p_platform_id": platform_id, "p_count": count}
    last: int = (await session.execute(_reserve_event_sequences(), parameters)).scalar_one()
    return last - count + 1


@functools.cache
def _reserve_event_sequences() -> Any:
    return (
        sa.update(Platform)
        .execution_options(**UNSYNCED)
        .where(col(Platform.id) == sa.bindparam("p_platform_id"))
        .values(
            event_sequence=col(Platform.event_sequence) + bind(Platform, "event_sequence", "count")
        )
        .returning(col(Platform.event_sequence))
    )


def add_events(session: AsyncSession, events: Sequence[Event]) -> None:
    session.add_all(events)
