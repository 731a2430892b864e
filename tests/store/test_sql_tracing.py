"""gateway.store.tracing builds OpenTelemetry's SQLAlchemy `EngineTracer` itself (an internal
class) on SQLAlchemy 2.1 (outside the range the instrumentation declares). These tests fail
loudly when either changes underneath, and check what the module promises: a span per
statement inside a trace only, the count of an operation's statements, and listeners removed
again."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from packaging.requirements import Requirement
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.store import tracing
from gateway.store.tracing import SqlTracing, counting_statements


def test_the_engine_tracer_still_takes_what_the_store_passes_it() -> None:
    parameters = list(inspect.signature(EngineTracer.__init__).parameters)
    assert parameters[:4] == ["self", "tracer", "engine", "connections_usage"]
    assert isinstance(EngineTracer._remove_event_listener_params, list)


def test_the_instrumentation_still_declares_a_sqlalchemy_older_than_the_one_we_run() -> None:
    """When this fails, the instrumentation supports our SQLAlchemy: the note about its
    dependency check in gateway.store.tracing can go (the engine tracer stays: the
    instrumentor is still one per process)."""
    [declared] = SQLAlchemyInstrumentor().instrumentation_dependencies()
    assert sa.__version__ not in Requirement(declared).specifier


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    found = create_async_engine("sqlite+aiosqlite:///:memory:")
    yield found
    await found.dispose()


async def test_statements_make_spans_inside_a_trace_only_and_the_operation_counts_them(
    engine: AsyncEngine,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    parent = TracerProvider(shutdown_on_exit=False)
    parent.add_span_processor(SimpleSpanProcessor(exporter))
    sql = SqlTracing(provider, engine)
    sql.install()
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))  # outside any trace: no span
            with (
                parent.get_tracer("test").start_as_current_span("operation") as operation,
                counting_statements() as count,
            ):
                await connection.execute(sa.text("SELECT 2"))
                await connection.execute(sa.text("SELECT 3"))
    finally:
        sql.remove()

    statements = [span for span in exporter.get_finished_spans() if span.name != "operation"]
    assert count.statements == 2
    assert len(statements) == 2
    context = operation.get_span_context()
    assert all(span.parent and span.parent.span_id == context.span_id for span in statements)
    sync_engine = engine.sync_engine
    assert not sa.event.contains(sync_engine, "before_cursor_execute", tracing._count)
    registry = EngineTracer._remove_event_listener_params
    assert [entry for entry in registry if entry[0]() is sync_engine] == []
