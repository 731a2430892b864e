"""Server-sent events that a browser's native `EventSource` resumes by itself.

`EventSource` reconnects on its own when a stream breaks, after the `retry:` delay the
server last sent, and repeats the last `id:` it received in a `Last-Event-ID` header. So:

- every SSE stream opens with `retry: <MPS_SSE_RETRY_MS>`;
- a `Subscription.events` stream then sends, before any event, an id-only block with the
  cursor it starts after (its `after`, its `Last-Event-ID`, or the log's head when it has
  neither): a browser that reconnects before the first event resumes from there, so the
  events committed while it was away are replayed instead of lost. A block with no data
  fires no event in the browser; it only sets the last event id;
- every `next` event that carries a `Subscription.events` event has `id: <its cursor>`,
  whatever the selection (the resolver notes the cursor in the context, `process_result`
  stamps it on that one result, `EventStream.encode_next` writes it);
- a `Last-Event-ID` on an SSE request resumes the subscription right after that cursor, in
  place of its `after` argument (the event log replays what the client missed, then goes
  live: nothing lost, nothing twice). One that is not an event cursor of the caller's
  platform is a 400 `INVALID_LAST_EVENT_ID` before anything streams.

`EventSource` can only GET and cannot set headers: a subscription over GET is served as SSE
(`GET /graphql?query=...&variables=...&operationName=...`, `Accept: text/event-stream`, the
graphql-sse distinct connections mode), and such a request may carry its credential as an
`access_token` query parameter. Only a user token (short-lived, one user's scope) is taken
there: a platform API key in a URL is refused (`API_KEY_IN_URL`), since URLs end up in
browser history, proxy logs and Referer headers. The parameter is taken out of the request's
query string as soon as it is read, so nothing downstream (the access log included) sees it;
gateway.logs also masks any `access_token=` in uvicorn's access log.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from strawberry.http import GraphQLHTTPResponse

from gateway.domain.credentials import key_prefix
from gateway.domain.errors import InvalidArgument
from gateway.domain.pagination import decode_event_cursor
from gateway.graphql.runtime.negotiation import negotiate

ACCESS_TOKEN_PARAMETER = "access_token"  # noqa: S105 (a parameter name)
LAST_EVENT_ID = "last-event-id"
LAST_EVENT_ID_LENGTH_MAX = 200
EVENT_ID = "__event_id"  # on a processed result only between process_result and encode_next


class Refused(Exception):
    """A request this module refuses, before any GraphQL: status, message, code."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def take_access_tokens(request: Request) -> list[str]:
    """The `access_token` query parameters, removed from the request's query string (the
    scope is shared with the server, whose access log reads it after the response starts).
    Called before the request's query parameters are first read."""
    raw: bytes = request.scope.get("query_string", b"")
    if ACCESS_TOKEN_PARAMETER.encode() not in raw:
        return []
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    tokens = [value for name, value in pairs if name == ACCESS_TOKEN_PARAMETER]
    if tokens:
        kept = [(name, value) for name, value in pairs if name != ACCESS_TOKEN_PARAMETER]
        request.scope["query_string"] = urlencode(kept).encode("latin-1")
    return tokens


def url_authorization(request: Request, tokens: list[str], *, event_stream: bool) -> str | None:
    """The Authorization to check: the header, or a user token from `access_token` on a GET
    for an event stream. Refused: a token elsewhere, two credentials, an API key in a URL."""
    header = request.headers.get("authorization")
    if not tokens:
        return header
    if len(tokens) > 1:
        raise Refused(400, "Send one `access_token`.", "BAD_REQUEST")
    token = tokens[0]
    if request.method != "GET" or not event_stream:
        raise Refused(
            400,
            "`access_token` is only taken on a GET for an event stream (`Accept:"
            " text/event-stream`); send `Authorization: Bearer <token>` otherwise.",
            "BAD_REQUEST",
        )
    if header is not None:
        raise Refused(
            400, "Send either `Authorization` or `access_token`, not both.", "BAD_REQUEST"
        )
    if key_prefix(token) is not None:
        raise Refused(
            400,
            "A platform API key is never taken in a URL (URLs end up in logs and browser"
            " history): issue a user token (createUserToken) and pass it as `access_token`.",
            "API_KEY_IN_URL",
        )
    return f"Bearer {token}"


def resume_sequence(request: Request, *, platform_id: uuid.UUID) -> int | None:
    """The event sequence a `Last-Event-ID` resumes after, or None without one."""
    last_event_id = request.headers.get(LAST_EVENT_ID)
    if last_event_id is None or not last_event_id.strip():
        return None
    if len(last_event_id) > LAST_EVENT_ID_LENGTH_MAX:
        raise Refused(400, "`Last-Event-ID` is not an event cursor.", "INVALID_LAST_EVENT_ID")
    try:
        return decode_event_cursor(
            last_event_id.strip(), platform_id=platform_id, argument="Last-Event-ID"
        )
    except InvalidArgument as error:
        raise Refused(400, str(error), "INVALID_LAST_EVENT_ID") from None


def stamp_event_id(response: GraphQLHTTPResponse, cursor: str | None) -> GraphQLHTTPResponse:
    """The result of one event, with its cursor for `EventStream.encode_next`."""
    if cursor is not None:
        cast("dict[str, Any]", response)[EVENT_ID] = cursor
    return response


def take_event_id(response: GraphQLHTTPResponse) -> str | None:
    found = cast("dict[str, Any]", response).pop(EVENT_ID, None)
    return found if isinstance(found, str) else None


TextStream = Callable[[], AsyncIterator[str]]


class StreamStart:
    """Where an SSE subscription starts: noted by the events resolver once it knows, so that
    the stream can send it as an id before any event."""

    def __init__(self) -> None:
        self.cursor: str | None = None
        self.known = asyncio.Event()

    def note(self, cursor: str) -> None:
        self.cursor = cursor
        self.known.set()


def with_retry(stream: TextStream, retry_ms: int, start: StreamStart | None = None) -> TextStream:
    """An SSE stream that first tells the browser how long to wait before reconnecting, then
    (with `start`) where the subscription starts, as soon as the resolver has noted it (the
    first result may be long in coming: a subscription waits for its first event)."""

    async def opened() -> AsyncGenerator[str, None]:
        yield f"retry: {retry_ms}\n\n"
        chunks = aiter(stream())
        if start is not None:
            first = asyncio.ensure_future(anext(chunks))
            known = asyncio.ensure_future(start.known.wait())
            try:
                await asyncio.wait({first, known}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:  # the client went away: stop the stream's first read too
                first.cancel()
                with contextlib.suppress(BaseException):
                    await first
                raise
            finally:
                known.cancel()
            if start.cursor is not None:
                yield f"id: {start.cursor}\n\n"
            try:
                yield await first
            except StopAsyncIteration:
                return
        async for chunk in chunks:
            yield chunk

    return opened


def wants_event_stream(request: Request) -> bool:
    return negotiate(request.headers.get("accept")).stream == "sse"


def is_event_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("Content-Type", "").startswith("text/event-stream")
