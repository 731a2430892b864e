"""The read connection a request's reads share (gateway/store/engine.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from gateway.store.engine import Database, ReadConnection
from tests.conftest import make_platform


@pytest.fixture
def checkouts(db: Database) -> Iterator[list[object]]:
    taken: list[object] = []

    def checked_out(connection: object, *_args: object) -> None:
        taken.append(connection)

    pool = db.read_engine.sync_engine.pool
    sa.event.listen(pool, "checkout", checked_out)
    yield taken
    sa.event.remove(pool, "checkout", checked_out)


def _held(db: Database) -> int:
    """Connections out of the pool now."""
    return int(db.read_engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def _one(reads: ReadConnection, statement: str = "SELECT 1") -> object:
    async with reads.use() as connection:
        return (await connection.execute(sa.text(statement))).scalar()


async def test_reads_queued_together_share_one_connection_and_give_it_back(
    db: Database, checkouts: list[object]
) -> None:
    reads = ReadConnection(db)
    assert await asyncio.gather(*(_one(reads) for _ in range(5))) == [1] * 5
    assert len(checkouts) == 1
    assert _held(db) == 0  # not held between levels
    assert await _one(reads) == 1
    assert len(checkouts) == 2


async def test_a_failed_read_drops_the_connection_and_the_next_read_works(
    db: Database, checkouts: list[object]
) -> None:
    reads = ReadConnection(db)
    with pytest.raises(DBAPIError):
        await _one(reads, "SELECT * FROM no_such_table")
    assert _held(db) == 0
    assert await _one(reads) == 1
    assert _held(db) == 0


async def test_a_read_cancelled_while_queued_leaves_no_connection_behind(db: Database) -> None:
    reads = ReadConnection(db)
    first = asyncio.create_task(_one(reads, "SELECT 1"))
    queued = asyncio.create_task(_one(reads))
    await asyncio.sleep(0)
    queued.cancel()
    assert await first == 1
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert _held(db) == 0
    await reads.close()


async def test_a_read_connection_sees_what_was_committed_after_its_last_read(
    db: Database,
) -> None:
    """No snapshot outlives a read: a connection kept for the next batch (or a mutation's
    payload, read after its write) sees every commit made since."""
    count = sa.text("SELECT count(*) FROM platforms")
    connection = await db.read_connection()
    try:
        before = int((await connection.execute(count)).scalar_one())
        await db.end_read(connection)
        await make_platform(db)  # committed by its own write transaction
        after = int((await connection.execute(count)).scalar_one())
        await db.end_read(connection)
    finally:
        await connection.close()
    assert after == before + 1
