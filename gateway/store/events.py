"""The event log's writes: a platform's sequence numbers, reserved by one guarded UPDATE of its
row (which holds the platform's lock until commit, so numbers are gap-free and in commit
order), and the events themselves, inserted as rows (no unit of work).

On PostgreSQL the reserving UPDATE also queues the log's NOTIFY ("platform P has events up to
S", gateway.store.notify), which the server sends if and when the transaction commits: the
statement that numbers a transaction's events announces them, and no statement is spent on it.
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
from gateway.store.notify import CHANNEL
from gateway.store.records import row_values
from gateway.store.statements import UNSYNCED, bind, dialect_of, insert_rows
from gateway.store.tables import Platform


async def reserve_event_sequences(
    session: AsyncSession, *, platform_id: uuid.UUID, count: int
) -> int:
    """Take `count` sequence numbers; returns the first. Locks the platform row to commit, and
    on PostgreSQL queues the NOTIFY of the last number for the commit."""
    parameters = {"p_platform_id": platform_id, "p_count": count}
    statement = _reserve_event_sequences(dialect_of(session))
    last: int = (await session.execute(statement, parameters)).scalars().one()
    return last - count + 1


@functools.cache
def _reserve_event_sequences(dialect_name: str) -> Any:
    sequence = col(Platform.event_sequence)
    statement = (
        sa.update(Platform)
        .execution_options(**UNSYNCED)
        .where(col(Platform.id) == sa.bindparam("p_platform_id"))
        .values(event_sequence=sequence + bind(Platform, "event_sequence", "count"))
    )
    if dialect_name != "postgresql":
        return statement.returning(sequence)
    # The payload is gateway.store.notify.encode(platform_id, sequence), written in SQL.
    payload = sa.cast(col(Platform.id), sa.Text) + ":" + sa.cast(sequence, sa.Text)
    return statement.returning(sequence, sa.func.pg_notify(CHANNEL, payload))


async def add_events(session: AsyncSession, events: Sequence[Event]) -> None:
    """Insert the events (numbered already) as rows: the objects stay out of the session."""
    await insert_rows(session, Event, [row_values(event) for event in events])
