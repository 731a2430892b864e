"""Prometheus metrics: the instruments of the serving layer and the /metrics exposition.

Served when `MPS_METRICS=true`: at /metrics on the public port, or only on a port of its own
(`MPS_METRICS_PORT`, gateway.graphql.runtime.metrics_server). The README lists every metric.

Each GraphQL request (an HTTP request, a stream's opening, an operation on a WebSocket) keeps a
`RequestNote` in a context variable while it runs; the pipeline's hooks write into it (the
operation chosen, errors, rejections) and it is recorded once at the end: one count by
operation, transport and outcome, its duration, and the SQL statements it sent
(gateway.store.instruments). Outcomes: `ok`; `rejected` (a mutation answered with a typed
rejection); `error` (GraphQL errors in the result, or the database out of reach); `refused`
(never run: no valid credential, a rate limit, a malformed request).

Label values are bounded: operation names are the first `OPERATION_NAMES_MAX` distinct ones a
process sees (later ones count as `other`), `anonymous` for an unnamed operation and `unknown`
when no document was read; error codes and fallback reasons likewise (`other` past their caps).

Several processes (`mps-gateway serve --workers N`) share `PROMETHEUS_MULTIPROC_DIR`, as
prometheus-client's multiprocess mode documents: every process writes its values there, and
a scrape of any of them (or of the parent's metrics port) merges them.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from gateway.store.instruments import StatementTally, count_statements

if TYPE_CHECKING:
    from gateway.settings import Settings

OPERATION_NAMES_MAX = 200
CODES_MAX = 50
OTHER = "other"
ANONYMOUS = "anonymous"
UNKNOWN = "unknown"
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "mps_graphql_requests",
    "GraphQL requests by operation name, transport and outcome.",
    ["operation", "transport", "outcome"],
)
DURATION = Histogram(
    "mps_graphql_request_duration_seconds",
    "Seconds from a GraphQL request's arrival to its answer (a stream: to its first byte).",
    ["operation", "transport"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ERRORS = Counter("mps_graphql_errors", "GraphQL errors by extensions.code.", ["code"])
REJECTIONS = Counter(
    "mps_graphql_rejections", "Typed rejections answered by mutations, by __typename.", ["type"]
)
STATEMENTS = Histogram(
    "mps_sql_statements_per_request",
    "SQL statements sent for one GraphQL request (BEGIN, COMMIT and ROLLBACK apart).",
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128),
)
SUBSCRIPTIONS_OPEN = Gauge(
    "mps_subscriptions_open",
    "Subscriptions streaming events now, by transport.",
    ["transport"],
    multiprocess_mode="livesum",
)
SUBSCRIPTION_EVENTS = Counter(
    "mps_subscription_events", "Events delivered to subscriptions, by transport.", ["transport"]
)
RATE_LIMIT_REFUSALS = Counter(
    "mps_rate_limit_refusals", "Requests refused by a rate limit, by limit.", ["limit"]
)
COMPILED_FALLBACKS = Counter(
    "mps_compiled_fallbacks",
    "Queries the compiled executor handed to the general one, by reason.",
    ["reason"],
)


class BoundedLabel:
    """The first `size_max` distinct values as they are; any later one as `other`."""

    def __init__(self, size_max: int) -> None:
        self.size_max = size_max
        self.known: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.known:
            return value
        if len(self.known) >= self.size_max:
            return OTHER
        self.known.add(value)
        return value


operation_label = BoundedLabel(OPERATION_NAMES_MAX)
code_label = BoundedLabel(CODES_MAX)
reason_label = BoundedLabel(CODES_MAX)


@dataclass(slots=True)
class RequestNote:
    transport: str
    started: float = field(default_factory=perf_counter)
    operation: str | None = None  # None: no document was read
    errors: bool = False
    refused: bool = False
    rejected: bool = False
    recorded: bool = False
    tally: StatementTally | None = None

    @property
    def outcome(self) -> str:
        if self.refused:
            return "refused"
        if self.errors:
            return "error"
        return "rejected" if self.rejected else "ok"


_note: ContextVar[RequestNote | None] = ContextVar("mps_request_note", default=None)


@contextmanager
def measuring(transport: str) -> Iterator[RequestNote]:
    """Note one request while the block runs, and record it at its end."""
    note = RequestNote(transport)
    token = _note.set(note)
    try:
        with count_statements() as tally:
            note.tally = tally
            yield note
    finally:
        _note.reset(token)
        record(note)


def record(note: RequestNote) -> None:
    """Count the request once (at its end, or when its stream started)."""
    if note.recorded:
        return
    note.recorded = True
    operation = note.operation or UNKNOWN
    REQUESTS.labels(operation, note.transport, note.outcome).inc()
    DURATION.labels(operation, note.transport).observe(perf_counter() - note.started)
    if note.tally is not None:
        STATEMENTS.observe(note.tally.statements)


def stream_started() -> None:
    """A subscription's stream starts: the request is recorded now, not when it closes."""
    note = _note.get()
    if note is not None:
        record(note)


def note_operation(name: str | None) -> None:
    """The operation the request runs (its name, or None for an anonymous one)."""
    note = _note.get()
    if note is not None:
        note.operation = operation_label(name) if name else ANONYMOUS


def note_error(code: object, *, refused: bool = False) -> None:
    """An error of the current request, by code; `refused`: the request was not run."""
    ERRORS.labels(code_label(code if isinstance(code, str) else UNKNOWN)).inc()
    note = _note.get()
    if note is not None:
        note.errors = True
        note.refused = note.refused or refused


def note_rejection(type_name: str) -> None:
    REJECTIONS.labels(type_name).inc()
    note = _note.get()
    if note is not None:
        note.rejected = True


def rate_limited(limit: str) -> None:
    RATE_LIMIT_REFUSALS.labels(limit).inc()


# The variable parts of a fallback's reason (field names, exception types, messages) go, so
# that its label says which kind of fallback it was.
_REASON_KINDS = (
    (re.compile(r"^retired after"), "retired"),
    (re.compile(r"^(@defer|@stream)$"), "defer_or_stream"),
    (re.compile(r"^introspection field"), "introspection"),
    (re.compile(r"^(mutation|subscription)$"), "not_a_query"),
    (re.compile(r"^type "), "unsupported_type"),
    (re.compile(r"^unknown field"), "unknown_field"),
    (re.compile(r"has no resolver$"), "no_resolver"),
    (re.compile(r"^null at "), "null"),
    (re.compile(r" is an error$"), "error_value"),
    (re.compile(r"serialized to null$|does not serialize$"), "serialization"),
    (re.compile(r"^arguments of "), "arguments"),
    (re.compile(r" raised \w+$|: \w+$"), "raised"),
)


def fallback_kind(reason: str) -> str:
    for pattern, kind in _REASON_KINDS:
        if pattern.search(reason):
            return kind
    return OTHER


def fell_back(reason: str) -> None:
    COMPILED_FALLBACKS.labels(reason_label(fallback_kind(reason))).inc()


def transport_of(connection: HTTPConnection) -> str:
    """The transport a connection's request came by (`http`, `sse`, `multipart`, `websocket`)."""
    if connection.scope["type"] == "websocket":
        return "websocket"
    transport: str = getattr(connection.state, "transport", "http")
    return transport


@contextmanager
def subscription_open(transport: str) -> Iterator[None]:
    SUBSCRIPTIONS_OPEN.labels(transport).inc()
    try:
        yield
    finally:
        SUBSCRIPTIONS_OPEN.labels(transport).dec()


def event_delivered(transport: str) -> None:
    SUBSCRIPTION_EVENTS.labels(transport).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def exposition_registry() -> CollectorRegistry:
    """What a scrape reads: this process's registry, or every process's values when several
    share a multiprocess directory."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> bytes:
    return generate_latest(exposition_registry())


CHALLENGE = 'Bearer realm="metrics"'
REFUSAL = "Send the metrics token: `Authorization: Bearer <MPS_METRICS_TOKEN>`.\n"


def token_of(settings: Settings) -> str | None:
    """The metrics token (`MPS_METRICS_TOKEN`), if one is set."""
    token = settings.metrics_token
    return token.get_secret_value() if token is not None else None


def authorized(authorization: str | None, token: str | None) -> bool:
    """Whether a scrape may read the metrics: any without `token`, else one that sends it as
    a bearer token (compared in constant time)."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """GET /metrics on the public port, behind `token` when one is set."""

    async def endpoint(request: Request) -> Response:
        if not authorized(request.headers.get("authorization"), token):
            return Response(
                REFUSAL,
                status_code=401,
                headers={"www-authenticate": CHALLENGE},
                media_type="text/plain",
            )
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return endpoint


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def reap_dead_processes(directory: str) -> list[int]:
    """Mark dead the processes of `directory` that are gone without marking themselves (a
    killed worker): their live gauges leave the scrape. The processes marked."""
    pids: set[int] = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        named = path.stem.rsplit("_", 1)[-1]
        if named.isdigit():
            pids.add(int(named))
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, path=directory)  # type: ignore[no-untyped-call]
    return dead


def process_exited() -> None:
    """Drop this process's live gauges from the shared directory (a worker that stops)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
