"""What the store measures for /metrics (gateway.graphql.runtime.metrics): the SQL statements a
request sends and the connection pools' use. Kept here because only the store knows SQLAlchemy.

- Statements: `count_statements()` opens a tally in a context variable; every statement an
  engine sends in that context (tasks started from it included) adds one, the transactions'
  BEGIN, COMMIT and ROLLBACK and SQLite's PRAGMAs apart, as the tests' StatementCounter counts
  them. A statement sent by another task on the request's behalf (a group commit's leader
  writing a batch that holds this request's write) counts for that task's request.
- Pools: `CountedPool` is SQLAlchemy's pool for asyncio drivers, counting the connections
  checked out (in use) and the callers inside the pool's checkout (waiting: for a free
  connection, or for a new one to be opened). It overrides the two methods SQLAlchemy's pool
  classes implement (`_do_get`, `_do_return_conn`); tests/store/test_instruments.py fails if
  SQLAlchemy stops calling them. Every engine of a file or server database uses it (an
  in-memory SQLite database keeps its single static connection, uncounted).

The gauges are `livesum` across worker processes: a dead worker's connections are not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

POOL_IN_USE = Gauge(
    "mps_db_pool_connections_in_use",
    "Database connections checked out of the gateway's pools.",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "mps_db_pool_connections_waiting",
    "Callers waiting for a database connection (a free one, or a new one being opened).",
    multiprocess_mode="livesum",
)
_NOT_COUNTED = ("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")


@dataclass(slots=True)
class StatementTally:
    statements: int = 0


_tally: ContextVar[StatementTally | None] = ContextVar("mps_statement_tally", default=None)


@contextmanager
def count_statements() -> Iterator[StatementTally]:
    """A tally of the statements sent in this context until the block ends."""
    tally = StatementTally()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)


def _statement_sent(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    tally = _tally.get()
    if tally is not None and not statement.lstrip()[:8].upper().startswith(_NOT_COUNTED):
        tally.statements += 1


def count_statements_of(engine: AsyncEngine) -> None:
    """Count `engine`'s statements in the tally of the context that sends them."""
    sa.event.listen(engine.sync_engine, "before_cursor_execute", _statement_sent)


class CountedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, counting connections in use and callers waiting."""

    def _do_get(self) -> ConnectionPoolEntry:
        POOL_WAITING.inc()
        try:
            entry = super()._do_get()
        finally:
            POOL_WAITING.dec()
        POOL_IN_USE.inc()
        return entry

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        POOL_IN_USE.dec()
        super()._do_return_conn(record)


# SQLAlchemy names a pool's logger after its class's module, and quiets only its own loggers
# (`sqlalchemy`, WARN unless configured): this pool logs as one of SQLAlchemy's pools.
CountedPool.__module__ = AsyncAdaptedQueuePool.__module__
