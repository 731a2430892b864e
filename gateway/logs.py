"""Request ids and log records.

Every HTTP request and WebSocket connection gets a request id: the client's `X-Request-Id` when
it is sane (1 to 64 characters of `[A-Za-z0-9._-]`, so it cannot forge log lines or headers),
else a new random one. `RequestIdMiddleware` keeps it in a context variable for the request's
duration (tasks the request starts inherit it), echoes it in the `X-Request-Id` response header,
and `RequestIdFilter` stamps it on log records, so "request X failed" finds its log lines.

In production the log is one JSON object per line (`JsonFormatter`): time, level, logger,
message, request id, the record's structured extras (`extra=`), and for an exception its type
and traceback, escaped inside the JSON string, so a multi-line traceback never splits a record
and log shippers need no multi-line rules. Development keeps the human-readable format.

A user token in a URL (`access_token`, for a browser's EventSource) is masked in uvicorn's
access log (`scrub_access_logs`), in both formats; the view also takes it out of the request's
query string before the access line is written.

With traces on (gateway.graphql.runtime.tracing), a line logged inside a traced request or
operation also carries `trace_id` and `span_id` (hex, as trace backends show them), so a trace
finds its log lines and a log line its trace; lines logged outside any trace have neither key.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id: ContextVar[str | None] = ContextVar("mps_request_id", default=None)

HUMAN_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Not extras: a record's own attributes, and uvicorn's ANSI-coloured copy of its message.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


def current_trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the span being recorded, in hex; None outside any trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def accept_request_id(candidate: str | None) -> str:
    """The client's request id when it is sane, else a new one."""
    if candidate is not None and _SANE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each HTTP request and WebSocket connection its request id (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Stamps `request_id` on records that lack one (None outside any request), and the trace
    ids inside a trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        if getattr(record, "trace_id", None) is None:
            ids = current_trace_ids()
            if ids is not None:
                record.trace_id, record.span_id = ids
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        ids = current_trace_ids() if getattr(record, "trace_id", None) is None else None
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        entry.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RECORD_ATTRIBUTES and key not in entry
        )
        if record.exc_info and record.exc_info[0] is not None:
            kind = record.exc_info[0]
            entry["exception_type"] = f"{kind.__module__}.{kind.__qualname__}"
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


_ACCESS_TOKEN = re.compile(r"(access_token=)[^&\s\"']*")


def mask_access_tokens(text: str) -> str:
    return _ACCESS_TOKEN.sub(r"\1***", text)


class ScrubAccessTokens(logging.Filter):
    """Masks `access_token=...` in a record's message and arguments (uvicorn's access log
    passes the path and query as an argument, which its formatter reads back)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_access_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_access_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def scrub_access_logs() -> None:
    """Mask tokens in uvicorn's access log (once per process; logging configurations applied
    later keep a logger's filters)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(found, ScrubAccessTokens) for found in access.filters):
        access.addFilter(ScrubAccessTokens())


def configure_logging(*, level: str, structured: bool) -> None:
    """Root logging to standard error: JSON lines when `structured`, else human-readable."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if structured else logging.Formatter(HUMAN_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
