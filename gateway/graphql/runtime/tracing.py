"""Traces (OpenTelemetry): a span per request to /graphql, per GraphQL operation, per SQL
statement and per webhook attempt. Off unless `MPS_TRACING`; off, nothing here is installed.

One app, one `Tracing`: its own tracer providers (never the process-global one, so several
apps live in one process, each exporting where it was told), started in the app's lifespan
(SQL instrumentation on its engines, the exporter's processor) and shut down at its end
(spans flushed). Spans go to the OTLP/HTTP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, else to standard output with
`MPS_TRACING_CONSOLE`, else nowhere (trace ids still reach the log lines). The SDK reads the
other standard variables itself (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`...).

The spans:

- `POST /graphql` (`WebSocket /graphql`), SERVER, by `TracedRequests`: the request or the whole
  WebSocket connection (an SSE stream lasts as long as its request). It continues the caller's
  trace when the request (the WebSocket upgrade) carries a W3C `traceparent`. The URL's query
  string is not recorded: a GET request carries its variables there.
- `query Name` / `mutation Name` / `subscription Name` (`GraphQL Operation` when the document
  does not parse), by `OperationTracing` (a schema extension: every transport) and by the lean
  HTTP path: `graphql.operation.name`, `graphql.operation.type`, `mps.graphql.cost` (the cost
  the query limits computed), `mps.sql.statements` (the statements the operation sent: its SQL
  child spans), `mps.graphql.outcome` (`ok`, `errors`, `refused`: not executed, `failed`: an
  exception, `cancelled`: the client ended a stream), `mps.graphql.error_codes`, and for a
  stream `mps.graphql.results`. Its status is ERROR only for an error of ours
  (`INTERNAL_SERVER_ERROR`, `SERVICE_UNAVAILABLE`, an exception), not for a client's mistake.
  The document and variables are never recorded.
- SQL statements (gateway.store.tracing), children of the operation or request that sent them.
- Webhook attempts (gateway.services.webhook_traces), each a trace of its own.

No span per field: on a list of a thousand objects it would cost more than the query.

An operation runs from its start to its end in one task on every transport (the request's;
graphql-transport-ws's operation task; the SSE stream's drain task), so the span it makes
current is current exactly while it runs.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway import __version__
from gateway.store.engine import Database
from gateway.store.tracing import SqlTracing, StatementCount, counting_statements

SERVICE_NAME_DEFAULT = "mps-gateway"
TRACER_NAME = "gateway"
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
UNKNOWN_OPERATION = "GraphQL Operation"  # OpenTelemetry's name when the type is unknown
OUR_ERRORS = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
ERROR_CODES_MAX = 20
NAME_LENGTH_MAX = 100
W3C = TraceContextTextMapPropagator()


def service_resource() -> Resource:
    """The environment's resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), named
    `mps-gateway` when it names no service."""
    found = Resource.create({SERVICE_VERSION: __version__})
    if str(found.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        found = found.merge(Resource({SERVICE_NAME: SERVICE_NAME_DEFAULT}))
    return found


def exporter_from_environment(*, console: bool) -> tuple[SpanExporter | None, bool]:
    """The exporter the environment configures, and whether it sends in batches."""
    if any(os.environ.get(name) for name in OTLP_ENDPOINT_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(), True
    if console:
        return ConsoleSpanExporter(), False
    return None, False


class Tracing:
    """One app's tracing (see the module). `exporter`: where spans go; a batch exporter
    (OTLP) sends from a background thread, any other gets each span as it ends (tests)."""

    def __init__(self, exporter: SpanExporter | None = None, *, batch: bool = False) -> None:
        resource = service_resource()
        self.processors = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        self.provider = TracerProvider(
            resource=resource, shutdown_on_exit=False, active_span_processor=self.processors
        )
        # The same processors; a statement outside any trace is not recorded.
        self.sql_provider = TracerProvider(
            sampler=ParentBased(ALWAYS_OFF),
            resource=resource,
            shutdown_on_exit=False,
            active_span_processor=self.processors,
        )
        self.tracer: Tracer = self.provider.get_tracer(TRACER_NAME, __version__)
        self.exporter = exporter
        self.batch = batch
        self._sql: SqlTracing | None = None

    def start(self, database: Database) -> None:
        """Export, and trace the statements of `database`'s engines (the app's lifespan)."""
        if self.exporter is not None:
            processor = (BatchSpanProcessor if self.batch else SimpleSpanProcessor)(self.exporter)
            self.processors.add_span_processor(processor)
        self._sql = SqlTracing(
            self.sql_provider, database.engine, database.write_engine, database.read_engine
        )
        self._sql.install()

    def stop(self) -> None:
        """Stop tracing statements; export what is left and shut the exporter down."""
        if self._sql is not None:
            self._sql.remove()
            self._sql = None
        self.provider.shutdown()


# -- requests --


class TracedRequests:
    """The SERVER span of each HTTP request and WebSocket connection to the wrapped app."""

    def __init__(self, app: ASGIApp, tracing: Tracing, *, route: str | None = None) -> None:
        self.app = app
        self.tracer = tracing.tracer
        self.route = route  # the path template, for a path that holds ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("route_path") or scope.get("path", "")
        route = self.route or path
        method = scope.get("method", "GET")
        name = f"{method} {route}" if scope["type"] == "http" else f"WebSocket {route}"
        client = scope.get("client")
        attributes = {
            "http.request.method": method,
            "url.path": path,
            "url.scheme": scope.get("scheme", "http"),
            "http.route": route,
            "client.address": client[0] if client else "",
        }
        parent = W3C.extract(Headers(scope=scope))
        with self.tracer.start_as_current_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def send_noted(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
                await send(message)

            await self.app(scope, receive, send_noted)


def traced(app: ASGIApp, tracing: Tracing | None) -> ASGIApp:
    return app if tracing is None else TracedRequests(app, tracing)


# -- operations --


@dataclass(slots=True)
class OperationTrace:
    """What the span of the running operation records when it ends."""

    span: Span
    statements: StatementCount
    type: str | None = None
    name: str | None = None
    cost: int | None = None
    codes: list[str] = field(default_factory=list)
    outcome: str = "ok"
    results: int | None = None

    def note_errors(self, errors: Sequence[GraphQLError] | None, *, refused: bool) -> None:
        for error in errors or ():
            code = str((error.extensions or {}).get("code", "UNKNOWN"))
            if code not in self.codes and len(self.codes) < ERROR_CODES_MAX:
                self.codes.append(code)
        if errors and self.outcome == "ok":
            self.outcome = "refused" if refused else "errors"

    def finish(self) -> None:
        span = self.span
        if self.type is not None:
            span.update_name(f"{self.type} {self.name}" if self.name else self.type)
            span.set_attribute("graphql.operation.type", self.type)
        if self.name is not None:
            span.set_attribute("graphql.operation.name", self.name)
        if self.cost is not None:
            span.set_attribute("mps.graphql.cost", self.cost)
        if self.results is not None:
            span.set_attribute("mps.graphql.results", self.results)
        span.set_attribute("mps.sql.statements", self.statements.statements)
        span.set_attribute("mps.graphql.outcome", self.outcome)
        if self.codes:
            span.set_attribute("mps.graphql.error_codes", self.codes)
        ours = [code for code in self.codes if code in OUR_ERRORS]
        if ours:
            span.set_status(Status(StatusCode.ERROR, ours[0]))


_operation: ContextVar[OperationTrace | None] = ContextVar("mps_operation_trace", default=None)


@contextlib.contextmanager
def operation_span(tracing: Tracing, *, start_ns: int | None = None) -> Iterator[OperationTrace]:
    """The span of one operation, current (with its statement count) until the block ends."""
    with (
        tracing.tracer.start_as_current_span(
            UNKNOWN_OPERATION,
            start_time=start_ns,
            record_exception=False,
            set_status_on_exception=False,
        ) as span,
        counting_statements() as statements,
    ):
        trace = OperationTrace(span, statements)
        token = _operation.set(trace)
        try:
            yield trace
        except Exception as error:
            trace.outcome = "failed"
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        except BaseException:  # the client ended it (a `complete`, a closed stream)
            trace.outcome = "cancelled"
            raise
        finally:
            _operation.reset(token)
            trace.finish()


def note_cost(cost: int) -> None:
    """Record the running operation's cost on its span (nothing when not traced)."""
    trace = _operation.get()
    if trace is not None:
        trace.cost = cost


def _describe(trace: OperationTrace, context: ExecutionContext) -> None:
    """The operation's name, type and errors, read from Strawberry's execution context."""
    try:
        trace.type = context.operation_type.value
        name = context.operation_name
        trace.name = name[:NAME_LENGTH_MAX] if name else None
    except Exception:  # no document, or no such operation: a request error says which
        trace.type = None
    result: Any = context.result
    errors = getattr(result, "errors", None) or context.pre_execution_errors
    data = getattr(result, "data", None)
    refused = data is None and all(error.path is None for error in errors or ())
    trace.note_errors(errors, refused=refused)


class OperationTracing(SchemaExtension):
    """The span of each operation on every transport; first among the extensions, so that it
    spans the others and reads the errors once they are classified.

    The span starts (dated from the operation's start) once the document parsed and its
    operation type is one the transport runs, or once it failed to parse: the HTTP protocol
    first tries a subscription as a single result and, refused, runs it again as a stream
    (gateway.graphql.runtime.protocol), and that first try is no operation of its own."""

    def __init__(self, *, tracing: Tracing) -> None:
        super().__init__()
        self.tracing = tracing
        self.trace: OperationTrace | None = None
        self.started_ns = 0
        self.stack = contextlib.ExitStack()

    def on_operation(self) -> Iterator[None]:
        self.started_ns = time.time_ns()
        with self.stack:
            try:
                yield
            finally:
                if self.trace is not None:
                    _describe(self.trace, self.execution_context)

    def _begin(self) -> None:
        if self.trace is None:
            span = operation_span(self.tracing, start_ns=self.started_ns)
            self.trace = self.stack.enter_context(span)

    def on_parse(self) -> Iterator[None]:
        yield
        if self.execution_context.pre_execution_errors:  # refused: no validation follows
            self._begin()

    def on_validate(self) -> Iterator[None]:
        self._begin()
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        yield  # after the error policy classified the result's errors
        trace = self.trace
        if trace is not None:
            trace.results = (trace.results or 0) + 1
            errors = getattr(result, "errors", None)
            trace.note_errors(errors, refused=getattr(result, "data", None) is None)
