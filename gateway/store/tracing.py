"""SQL in traces: a span per statement, and the statements an operation sends, counted.

Installed on an app's engines only while tracing is on (`SqlTracing.install` at start-up,
`remove` at shutdown); with tracing off nothing listens, so a statement costs nothing more.

- Spans: OpenTelemetry's SQLAlchemy instrumentation, one `EngineTracer` per engine, built here
  rather than through `SQLAlchemyInstrumentor().instrument(...)`. The instrumentor is a
  process-wide singleton that also wraps `create_engine` and `Engine.connect` for every engine
  of the process (a `connect` span per checkout), and its dependency check refuses the
  SQLAlchemy 2.1 this project runs (it declares `< 2.1.0`). An engine tracer listens to one
  engine's cursor events and nothing else, so several apps in one process each trace their
  own engines. It is the instrumentation's internal class: tests/store/test_sql_tracing.py
  fails loudly when it changes (or when the instrumentation starts declaring SQLAlchemy 2.1).
  The tracer comes from a provider whose sampler records a statement only inside a trace (a
  request, an operation): the background loops' polling (events, webhooks, settler) would
  otherwise make a trace of every statement.
- Count: `counting_statements()` gives the operation its `StatementCount`, which every
  statement sent in that context (tasks it starts included) adds to; the same cursor event as
  the spans', so the count is the number of SQL spans under the operation's.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as instrumentation_version
from opentelemetry.metrics import NoOpUpDownCounter
from opentelemetry.trace import TracerProvider
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

INSTRUMENTATION_NAME = "opentelemetry.instrumentation.sqlalchemy"


@dataclass(slots=True)
class StatementCount:
    statements: int = 0


_counting: ContextVar[StatementCount | None] = ContextVar("mps_sql_statements", default=None)


@contextlib.contextmanager
def counting_statements() -> Iterator[StatementCount]:
    """Count the statements sent in this context until the block ends (only while some app's
    `SqlTracing` is installed)."""
    count = StatementCount()
    token = _counting.set(count)
    try:
        yield count
    finally:
        _counting.reset(token)


def _count(*_args: Any) -> None:
    count = _counting.get()
    if count is not None:
        count.statements += 1


def _distinct_engines(engines: tuple[AsyncEngine, ...]) -> list[Engine]:
    return list(dict.fromkeys(engine.sync_engine for engine in engines))


class SqlTracing:
    """Statement spans and counts on an app's engines (see the module)."""

    def __init__(self, provider: TracerProvider, *engines: AsyncEngine) -> None:
        self.tracer = provider.get_tracer(INSTRUMENTATION_NAME, instrumentation_version)
        self.engines = _distinct_engines(engines)
        self._installed: list[tuple[weakref.ref[Engine], EngineTracer]] = []

    def install(self) -> None:
        for engine in self.engines:
            sa.event.listen(engine, "before_cursor_execute", _count)
            tracer = EngineTracer(  # type: ignore[no-untyped-call]
                self.tracer, engine, NoOpUpDownCounter("db.client.connections.usage")
            )
            self._installed.append((weakref.ref(engine), tracer))

    def remove(self) -> None:
        """Stop listening to this app's engines (other apps' tracers stay)."""
        for engine in self.engines:
            if sa.event.contains(engine, "before_cursor_execute", _count):
                sa.event.remove(engine, "before_cursor_execute", _count)
        ours = {id(engine) for engine in self.engines}
        registry = EngineTracer._remove_event_listener_params
        for entry in list(registry):
            target_ref, identifier, listener = entry
            target = target_ref()
            if target is not None and id(target) in ours and _belongs(listener, self._installed):
                if sa.event.contains(target, identifier, listener):
                    sa.event.remove(target, identifier, listener)
                registry.remove(entry)
        self._installed.clear()


def _belongs(listener: Any, installed: list[tuple[weakref.ref[Engine], EngineTracer]]) -> bool:
    """Whether `listener` is one of our engine tracers' (a bound method of one, or one of the
    instrumentation's module functions, which every engine tracer registers)."""
    owner = getattr(listener, "__self__", None)
    if owner is None:
        return True
    return any(owner is tracer for _engine, tracer in installed)
