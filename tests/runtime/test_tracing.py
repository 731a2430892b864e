"""Traces through a running gateway (uvicorn, real HTTP and WebSocket), spans caught by the
SDK's in-memory exporter: the operation span with its name, cost and statement count, its SQL
children, the caller's trace continued, trace ids in the JSON log lines, and nothing at all
when tracing is off."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.logs import JsonFormatter, RequestIdFilter
from gateway.settings import Settings
from gateway.store import tracing as sql_tracing
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support.accounts import open_account
from tests.support.server import LiveServer, serve
from tests.support.websocket import EVENTS, create_user, init, receive, socket

# A client's document (queries/): no new text for tests/compiled, which runs every one it finds.
USERS = (Path(__file__).parents[2] / "queries" / "PlatformUsers.graphql").read_text()
WAIT_S = 10.0
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@asynccontextmanager
async def traced_server(
    settings: Settings, db: Database, *, tracing: bool = True
) -> AsyncIterator[tuple[LiveServer, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    changed = settings.model_copy(update={"tracing": tracing, "webhook_delivery": False})
    async for live in serve(changed, db, span_exporter=exporter):
        yield live, exporter


async def post(
    live: LiveServer, platform: PlatformHandle, query: str, **headers: str
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.http) as http:
        response = await http.post(
            "/graphql", json={"query": query}, headers={**platform.headers, **headers}
        )
    body: dict[str, Any] = response.json()
    return body


async def spans_when(
    exporter: InMemorySpanExporter, done: Callable[[list[ReadableSpan]], bool]
) -> list[ReadableSpan]:
    """The finished spans once `done` holds (a server span ends after its response is sent)."""
    async with asyncio.timeout(WAIT_S):
        while not done(found := list(exporter.get_finished_spans())):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return found


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


def sql_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [
        s for s in spans if s.instrumentation_scope and "sqlalchemy" in s.instrumentation_scope.name
    ]


def served(count: int) -> Callable[[list[ReadableSpan]], bool]:
    return lambda spans: len(named(spans, "POST /graphql")) >= count


async def test_a_named_query_makes_one_operation_span_with_its_cost_and_its_statements(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db, natural_users=2)
    async with traced_server(settings, db) as (live, exporter):
        first = await post(live, platform, USERS)
        second = await post(live, platform, USERS)  # the lean path, once the plan answered
        spans = await spans_when(exporter, served(2))

    requests = named(spans, "POST /graphql")
    operations = named(spans, "query PlatformUsers")
    assert len(requests) == 2
    assert len(operations) == 2
    for request, operation, body in zip(requests, operations, (first, second), strict=True):
        attributes = operation.attributes or {}
        assert attributes["graphql.operation.name"] == "PlatformUsers"
        assert attributes["graphql.operation.type"] == "query"
        assert attributes["mps.graphql.cost"] == body["extensions"]["cost"]["requested"]
        assert attributes["mps.graphql.outcome"] == "ok"
        statements = sql_spans(children(spans, operation))
        assert len(statements) == attributes["mps.sql.statements"]
        assert len(statements) >= 1
        assert all(span.kind is SpanKind.CLIENT for span in statements)
        under_request = children(spans, request)
        assert operation in under_request
        assert sql_spans(under_request) == [s for s in under_request if s is not operation]
        assert operation.context is not None
        assert request.context is not None
        assert operation.context.trace_id == request.context.trace_id
        assert request.kind is SpanKind.SERVER
        assert (request.attributes or {})["http.response.status_code"] == 200
    assert "users" in first["data"]["platform"]


async def test_a_traceparent_header_continues_the_callers_trace(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    async with traced_server(settings, db) as (live, exporter):
        await post(live, platform, USERS, traceparent=traceparent)
        spans = await spans_when(exporter, served(1))

    [request] = named(spans, "POST /graphql")
    assert request.parent is not None
    assert request.parent.is_remote
    assert format(request.parent.span_id, "016x") == CALLER_SPAN
    assert {format(span.context.trace_id, "032x") for span in spans if span.context} == {
        CALLER_TRACE
    }


async def test_an_export_is_a_server_span_named_by_its_route_with_its_statements(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db, natural_users=1)
    async with traced_server(settings, db) as (live, exporter):
        async with httpx.AsyncClient(base_url=live.http) as http:
            user_id = await create_user(live, platform)
            account_id = await open_account(http, platform, user_id)
            window = {"from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}
            url = f"/exports/accounts/{account_id}/statement.csv"
            answered = await http.get(url, params=window, headers=platform.headers)
        route = "GET /exports/accounts/{account_id}/statement.csv"
        spans = await spans_when(exporter, lambda found: bool(named(found, route)))

    assert answered.status_code == 200
    [export] = named(spans, route)  # one name for every account: the template, not the path
    attributes = export.attributes or {}
    assert export.kind is SpanKind.SERVER
    assert attributes["http.route"] == "/exports/accounts/{account_id}/statement.csv"
    assert attributes["url.path"] == url
    assert attributes["http.response.status_code"] == 200
    assert sql_spans(children(spans, export))  # its reads, under it


@contextmanager
def json_log_lines() -> Iterator[io.StringIO]:
    """The gateway's log records as production writes them (gateway.logs.configure_logging)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gateway")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def client_errors(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["message"].startswith("client error")]


async def test_a_log_line_inside_a_traced_request_carries_its_trace_and_span_ids(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async with traced_server(settings, db) as (live, exporter):
        with json_log_lines() as stream:
            body = await post(live, platform, "query Typo { platform { nosuchfield } }")
        spans = await spans_when(exporter, served(1))

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    [operation] = named(spans, "query Typo")
    assert operation.context is not None
    [line] = client_errors(stream)
    assert line["trace_id"] == format(operation.context.trace_id, "032x")
    assert line["span_id"] == format(operation.context.span_id, "016x")
    attributes = operation.attributes or {}
    assert attributes["mps.graphql.outcome"] == "refused"
    assert attributes["mps.graphql.error_codes"] == ("GRAPHQL_VALIDATION_FAILED",)


async def test_with_tracing_off_there_is_no_span_no_listener_and_no_trace_id_in_the_log(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async with traced_server(settings, db, tracing=False) as (live, exporter):
        listening = _listening(db)
        with json_log_lines() as stream:
            await post(live, platform, USERS)
            await post(live, platform, "query Typo { platform { nosuchfield } }")

    assert exporter.get_finished_spans() == ()
    assert listening == {"counts": False, "engine tracers": 0}
    [line] = client_errors(stream)
    assert "trace_id" not in line
    assert "span_id" not in line


def _listening(db: Database) -> dict[str, Any]:
    engines = {engine.sync_engine for engine in (db.engine, db.write_engine, db.read_engine)}
    registry = EngineTracer._remove_event_listener_params
    return {
        "counts": any(
            sa.event.contains(engine, "before_cursor_execute", sql_tracing._count)
            for engine in engines
        ),
        "engine tracers": sum(1 for target, _name, _fn in registry if target() in engines),
    }


async def test_tracing_stops_listening_to_the_engines_when_the_app_stops(
    db: Database, settings: Settings
) -> None:
    async with traced_server(settings, db) as (_live, _exporter):
        during = _listening(db)
    assert during["counts"]
    assert during["engine tracers"] > 0
    assert _listening(db) == {"counts": False, "engine tracers": 0}


async def test_a_subscription_over_a_websocket_is_one_operation_span_under_the_connection(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    traceparent = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    async with traced_server(settings, db) as (live, exporter):
        async with socket(live, additional_headers={"traceparent": traceparent}) as ws:
            await init(ws, platform)
            payload = {"query": "subscription Watch " + EVENTS.removeprefix("subscription ")}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            await create_user(live, platform)
            message = await receive(ws)
            assert message["type"] == "next", message
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            spans = await spans_when(exporter, lambda s: bool(named(s, "subscription Watch")))
        spans = await spans_when(exporter, lambda s: bool(named(s, "WebSocket /graphql")))

    [connection] = named(spans, "WebSocket /graphql")
    [operation] = named(spans, "subscription Watch")
    assert operation.parent is not None
    assert connection.context is not None
    assert operation.parent.span_id == connection.context.span_id
    assert format(connection.context.trace_id, "032x") == CALLER_TRACE
    attributes = operation.attributes or {}
    assert attributes["graphql.operation.type"] == "subscription"
    assert attributes["mps.graphql.results"] == 1
    assert attributes["mps.graphql.outcome"] == "cancelled"  # by the client's `complete`
    assert operation.status.is_ok
    assert "mps.graphql.cost" in attributes
    # What the cancelled operation had started (a batch of the `object` edge) may end after it.
    statements = sql_spans(children(spans, operation))
    assert operation.end_time is not None
    before_its_end = [span for span in statements if (span.start_time or 0) < operation.end_time]
    assert len(before_its_end) == attributes["mps.sql.statements"]


async def test_a_subscription_over_server_sent_events_is_one_operation_span(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    query = "subscription Watch " + EVENTS.removeprefix("subscription ")
    headers = {**platform.headers, "accept": "text/event-stream"}
    async with traced_server(settings, db) as (live, exporter):
        async with (
            httpx.AsyncClient(base_url=live.http, timeout=WAIT_S) as http,
            http.stream("POST", "/graphql", json={"query": query}, headers=headers) as stream,
        ):
            assert stream.status_code == 200
            await create_user(live, platform)
            lines = stream.aiter_lines()
            async with asyncio.timeout(WAIT_S):
                while (await anext(lines)) != "event: next":
                    pass
        spans = await spans_when(
            exporter, lambda s: bool(named(s, "subscription Watch")) and served(2)(s)
        )

    [operation] = named(spans, "subscription Watch")
    attributes = operation.attributes or {}
    assert attributes["graphql.operation.type"] == "subscription"
    assert attributes["mps.graphql.results"] == 1
    assert operation.parent is not None
    [request] = [
        span
        for span in named(spans, "POST /graphql")
        if span.context is not None and span.context.span_id == operation.parent.span_id
    ]
    assert request.kind is SpanKind.SERVER
