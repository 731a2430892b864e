"""The database handle: engines per process, sessions per unit of work.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout.
Transactions are begun explicitly: reads with a deferred BEGIN (a consistent snapshot that
never blocks the writer), writes with BEGIN IMMEDIATE, so concurrent writers queue for the one
write lock at the start instead of failing half-way. PostgreSQL is reached through asyncpg;
writers there serialise on row locks that the services take in a fixed order.

`Database.write` runs a unit of work in a write transaction and runs it again, from the start,
when the database reports a transient failure (SQLite busy, PostgreSQL serialisation failure
or deadlock), so callers never see those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gateway.store.credential_cache import CredentialCache
from gateway.store.group_commit import GroupCommit, GroupCommitPolicy, Work
from gateway.store.instruments import CountedPool, count_statements_of
from gateway.store.notify import LocalNotifications, Notifications

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_ATTEMPTS_MAX = 8
_RETRY_DELAY_S = 0.005
PING_IDLE_S = 1.0  # see _ping_when_idle
_TRANSIENT_PGCODES = {"40001", "40P01", "55P03"}

T = TypeVar("T")
# What the store hands out, under names the layers above type their parameters with (they
# import neither SQLAlchemy nor SQLModel): a unit of work's session, a read connection.
Session = AsyncSession
Connection = AsyncConnection
logger = logging.getLogger("gateway.store")


class _SQLiteConnection(sqlite3.Connection):
    """Rolls back before it closes. SQLAlchemy hard-closes a connection whose statement was
    interrupted (a cancelled task); if a cursor of that statement is still referenced (by the
    cancellation's traceback, say), SQLite only marks the connection a zombie and keeps its
    transaction, and so the write lock, until the cursor is collected: every other writer of
    the file then fails with "database is locked"."""

    def close(self) -> None:
        if self.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.rollback()
        super().close()


def _sqlite_engine(url: str, *, begin: str, echo: bool) -> AsyncEngine:
    in_memory = make_url(url).database in (None, "", ":memory:")
    pool: dict[str, Any] = {} if in_memory else {"poolclass": CountedPool}
    engine = create_async_engine(
        url, echo=echo, connect_args={"factory": _SQLiteConnection}, **pool
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    sa.event.listen(engine.sync_engine, "connect", on_connect)
    sa.event.listen(engine.sync_engine, "begin", on_begin)
    count_statements_of(engine)
    return engine


def create_engine(
    url: str, *, echo: bool = False, writer: bool = False, autocommit: bool = False
) -> AsyncEngine:
    """An AsyncEngine for `url` (`sqlite+aiosqlite:///...` or `postgresql+asyncpg://...`).
    `autocommit` (PostgreSQL): the pool of the graph's reads, each statement on its own, whose
    ping (see `_ping_when_idle`) is then one round trip instead of three (BEGIN, ping,
    ROLLBACK)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, begin="BEGIN IMMEDIATE" if writer else "BEGIN", echo=echo)
    if parsed.get_backend_name() == "postgresql":
        if autocommit:
            engine = create_async_engine(
                url,
                echo=echo,
                pool_size=5,
                max_overflow=10,
                isolation_level="AUTOCOMMIT",
                poolclass=CountedPool,
            )
        else:
            engine = create_async_engine(
                url, echo=echo, pool_size=10, max_overflow=20, poolclass=CountedPool
            )
        _ping_when_idle(engine)
        count_statements_of(engine)
        return engine
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use when it sat idle in the pool for more than
    `PING_IDLE_S` (SQLAlchemy's pessimistic recipe with a grace period): a dead one is replaced
    before any statement meets it, as `pool_pre_ping` does, without a round trip for each of
    the several connections a request takes in quick succession. A server restart within the
    grace period fails the statements of the connections used in it once; SQLAlchemy then
    replaces every connection of the pool made before the failure."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def connected(_dbapi: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine.sync_engine, "checkin")
    def returned(_dbapi: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine.sync_engine, "checkout")
    def taken(dbapi: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) <= PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as error:
            raise DisconnectionError(str(error)) from error


def is_transient(error: DBAPIError) -> bool:
    """A failure that a fresh attempt of the same transaction may not meet again."""
    original = error.orig
    pgcode = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    if pgcode in _TRANSIENT_PGCODES:
        return True
    text = str(original).lower()
    return "database is locked" in text or "database is busy" in text


class Database:
    """Owns the engines; hands out sessions. Services open one transaction per use case."""

    def __init__(
        self,
        engine: AsyncEngine,
        write_engine: AsyncEngine | None = None,
        *,
        read_engine: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        self.write_engine = write_engine or engine
        # The graph's reads (read_connection): on PostgreSQL, autocommit.
        if read_engine is None and engine.dialect.name == "postgresql":
            read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_engine = read_engine or engine
        self.notifications: Notifications = LocalNotifications()
        # Off until an app turns it on (`create_app`): a CLI or a script reads every time.
        self.credential_cache = CredentialCache(ttl_s=0)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._writer_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.group_commit_policy = GroupCommitPolicy()
        self._groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            return cls(engine, create_engine(url, writer=True))
        return cls(engine, read_engine=create_engine(url, autocommit=True))

    def with_own_pools(self) -> Database:
        """A handle on the same database with engines (connection pools) of its own, to dispose
        of when done; this one itself for an in-memory SQLite database, which no other engine
        would see."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return self
        return Database.from_url(url.render_as_string(hide_password=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session: nothing it does is committed."""
        async with self._sessions() as session:
            yield session

    async def read_connection(self) -> AsyncConnection:
        """A pooled connection for reads, each statement on its own (pinged when taken after a
        pause, see `_ping_when_idle`): autocommit on PostgreSQL, so a read costs one statement
        and no BEGIN/ROLLBACK; on SQLite each statement's deferred transaction is ended by
        `end_read`. No snapshot outlives a statement, so a mutation's payload, read after
        its write, sees the write. Close it when done."""
        return await self.read_engine.connect()

    async def end_read(self, connection: AsyncConnection) -> None:
        """End what a read statement began (a SQLite read transaction; nothing in autocommit)."""
        if connection.in_transaction():
            await connection.rollback()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A read connection for one statement or a few, returned to the pool afterwards."""
        connection = await self.read_connection()
        try:
            yield connection
        finally:
            await connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write session: committed when the block ends, rolled back on any exception."""
        async with self._writer_turn(), self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time. Writers of this process take turns here, in order,
        and each gets the write lock the moment the previous one commits; left to SQLite, they
        would wait in its busy handler, which polls with sleeps of up to 100 ms, so the lock
        stays idle between writers and the unlucky wait for seconds. (Other processes still
        queue in the busy handler.) PostgreSQL writers need no turn: they lock rows."""
        if self.write_engine.dialect.name != "sqlite":
            yield
            return
        loop = asyncio.get_running_loop()
        turn = self._writer_turns.get(loop)
        if turn is None:
            turn = self._writer_turns[loop] = asyncio.Lock()
        async with turn:
            yield

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a write transaction, again from the start on transient failures."""
        for attempt in range(1, WRITE_ATTEMPTS_MAX + 1):
            try:
                async with self.transaction() as session:
                    return await work(session)
            except DBAPIError as error:
                if attempt == WRITE_ATTEMPTS_MAX or not is_transient(error):
                    raise
                delay = _RETRY_DELAY_S * 2**attempt * random.uniform(0.5, 1.5)  # noqa: S311
                logger.info("transient database failure, attempt %d: %s", attempt, error.orig)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def write_grouped(self, work: Work[T]) -> T:
        """Run `work` as one command of the next group commit (see `group_commit`): in a savepoint
        of a write transaction shared with the commands sent at the same time, its events
        numbered and written at the end of the batch; its value once the batch committed."""
        return await self.group_commit().run(work)

    def group_commit(self) -> GroupCommit:
        """The batches of this handle in the running event loop."""
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            group = self._groups[loop] = GroupCommit(
                self.write,
                lambda: self.notifications,
                is_transient=is_transient,
            )
        group.policy = self.group_commit_policy  # an app may set it after the first batch
        return group

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
        if self.read_engine.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.read_engine.dispose()


class ReadConnection:
    """The connection a request's reads share: taken from the pool by the first read, used by
    one statement at a time (a connection runs one at a time; the batches of one level of a
    query are issued in the same tick and queue here), and returned to the pool as soon as no
    read is waiting for it, so a request never holds a connection while it computes or waits
    for a write lock. A connection that sat idle is pinged when taken (`_ping_when_idle`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._queued = 0

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncConnection]:
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        try:
            if self._connection is None:
                self._connection = await self._db.read_connection()
            connection = self._connection
            try:
                yield connection
                await self._db.end_read(connection)
            except BaseException:  # a failed or cancelled statement: drop the connection
                self._connection = None
                with contextlib.suppress(Exception):
                    await connection.close()
                raise
            if self._queued == 0:  # nobody waits: back to the pool until the next level
                self._connection = None
                await connection.close()
        finally:
            self._lock.release()

    async def close(self) -> None:
        """Return the connection if a cancelled read left it out (normally a no-op)."""
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()
