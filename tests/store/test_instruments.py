"""The store's instruments on each backend: statements tallied per context, connections in use
and callers waiting in the pools (through the two methods of SQLAlchemy's pool that
CountedPool overrides: these tests fail if SQLAlchemy stops calling them)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.store.engine import Database
from gateway.store.instruments import (
    POOL_IN_USE,
    POOL_WAITING,
    CountedPool,
    count_statements,
)

POLLS_MAX = 500  # bounded: 500 polls of 0.01 s


def _gauge(gauge: Gauge) -> float:
    (family,) = gauge.collect()
    sample = next(iter(family.samples))
    return float(sample.value)


async def test_statements_in_a_tally_count_without_the_transaction_control(db: Database) -> None:
    with count_statements() as tally:
        async with db.session() as session:
            await session.execute(sa.text("SELECT 1"))
            await session.execute(sa.text("SELECT 2"))
        async with db.reading() as connection:
            await connection.execute(sa.text("SELECT 3"))
    assert tally.statements == 3
    async with db.session() as session:
        await session.execute(sa.text("SELECT 4"))  # outside the tally: not counted
    assert tally.statements == 3


async def test_a_held_connection_is_in_use_until_it_returns_to_its_pool(db: Database) -> None:
    before = _gauge(POOL_IN_USE)
    async with db.reading() as reads, db.session() as session:
        await reads.execute(sa.text("SELECT 1"))
        await session.execute(sa.text("SELECT 1"))
        assert _gauge(POOL_IN_USE) == before + 2
    assert _gauge(POOL_IN_USE) == before


def test_every_pool_of_a_file_or_server_database_is_counted(db: Database) -> None:
    """SQLite: the readers' pool and the writer's; PostgreSQL: the sessions' pool and the
    graph's autocommit reads, whose engine is its own on a Database.from_url."""
    engines = {db.engine, db.write_engine, db.read_engine}
    assert all(isinstance(engine.pool, CountedPool) for engine in engines)
    if db.dialect == "sqlite":
        assert db.write_engine.pool is not db.engine.pool
    else:
        assert db.write_engine is db.engine


async def test_a_caller_of_a_full_pool_waits_until_a_connection_returns(db: Database) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    engine = create_async_engine(url, poolclass=CountedPool, pool_size=1, max_overflow=0)
    waiting, in_use = _gauge(POOL_WAITING), _gauge(POOL_IN_USE)
    try:
        held = await engine.connect()
        assert _gauge(POOL_IN_USE) == in_use + 1

        async def second() -> None:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))

        queued = asyncio.create_task(second())
        for _ in range(POLLS_MAX):
            if _gauge(POOL_WAITING) == waiting + 1:
                break
            await asyncio.sleep(0.01)
        assert _gauge(POOL_WAITING) == waiting + 1
        await held.close()
        await asyncio.wait_for(queued, timeout=30)
        assert _gauge(POOL_WAITING) == waiting
        assert _gauge(POOL_IN_USE) == in_use
    finally:
        await engine.dispose()
