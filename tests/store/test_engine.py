"""The read connection a request's reads share (gateway/store/engine.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import engine as engine_module
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


_SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000)"
    " SELECT count(*) FROM c"
)


async def test_a_write_cancelled_mid_statement_leaves_the_sqlite_file_writable(
    sqlite_url: str,
) -> None:
    """A cancelled write's connection is hard-closed while its cursor lives on (here in the
    kept traceback): the transaction must end with it, not linger until the cursor is
    collected with the file's write lock."""
    db = Database.from_url(sqlite_url)
    started = asyncio.Event()

    async def slow(session: AsyncSession) -> None:
        await session.execute(sa.text("CREATE TABLE IF NOT EXISTS cancelled_write (x INTEGER)"))
        started.set()
        await session.execute(sa.text(_SLOW))

    writing = asyncio.create_task(db.write(slow))
    await started.wait()
    await asyncio.sleep(0.05)
    writing.cancel()
    kept: list[BaseException] = []
    try:
        await writing
    except asyncio.CancelledError as cancelled:
        kept.append(cancelled)  # its traceback holds the interrupted cursor
    try:
        path = make_url(sqlite_url).database
        assert path is not None
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the lock lingers
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert kept
    finally:
        await db.dispose()


async def _backend_pid(db: Database) -> int:
    async with db.reading() as connection:
        pid: int = (await connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


@pytest.fixture
async def postgresql(postgresql_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(postgresql_url)
    yield db
    await db.dispose()


@pytest.mark.parametrize("idle_s", [0.0, 60.0])
async def test_a_connection_that_died_in_the_pool_is_replaced_when_it_sat_idle(
    postgresql: Database, monkeypatch: pytest.MonkeyPatch, idle_s: float
) -> None:
    """Pinged when taken after `PING_IDLE_S` in the pool (0: always), not before: a connection
    reused at once costs no round trip, and one that died while idle never reaches a read."""
    db = postgresql
    monkeypatch.setattr(engine_module, "PING_IDLE_S", idle_s)
    pid = await _backend_pid(db)
    async with db.transaction() as session:
        await session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    if idle_s == 0.0:
        assert await _backend_pid(db) != pid  # replaced before the read
    else:
        with pytest.raises(DBAPIError):  # taken at once: not pinged, so the read meets it
            await _backend_pid(db)
        assert await _backend_pid(db) != pid  # and the pool replaced it after the failure
