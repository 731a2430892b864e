"""GraphQL over HTTP at /graphql: credentials first, JSON errors always.

- GET from a browser (Accept: text/html, no `query`): the self-hosted GraphiQL playground,
  which needs no credentials (the key is typed into its headers editor).
- Everything else needs `Authorization: Bearer <key>`; without a valid key the answer is
  HTTP 401 with a GraphQL error whose `extensions.code` is `UNAUTHENTICATED`. A GET for an
  event stream (a browser's `EventSource`) may send a user token as `access_token` instead,
  and resume with `Last-Event-ID` (gateway.graphql.runtime.event_source).
- Malformed requests (bad JSON, wrong content type, oversized body, missing query) answer with
  a GraphQL-shaped JSON error and a 4xx status, never a plain-text page or a 500. A body is
  cut off at its limit while it is read (413 even without a Content-Length), a JSON array
  (batching, which is off) is refused before it is decoded, and JSON nested beyond the
  recursion limit is malformed JSON. The document itself is bounded by
  gateway.graphql.runtime.limits.
- Responses are negotiated from `Accept` (gateway.graphql.runtime.protocol): one result as
  `application/graphql-response+json` or `application/json`, a subscription as SSE or
  multipart HTTP, 406 when nothing offered is acceptable.
- On a WebSocket, graphql-transport-ws as gateway.graphql.runtime.websocket serves it.
- Mutations only over POST with a JSON or multipart body (no CSRF through forms or links): a
  mutation over GET is 405 `METHOD_NOT_ALLOWED`. In production the playground is a 404 and a
  multipart request must carry `Apollo-Require-Preflight` or `X-Apollo-Operation-Name` (a
  header no form can send, so a browser must preflight it).
- Rate limits (gateway.graphql.runtime.rate_limits), 429 `RATE_LIMITED` with `Retry-After`: failed
  authentications per client address (counted once a presented credential fails to verify, so
  a valid key is never refused for them), then requests per credential, SSE requests also as
  new subscriptions; on a WebSocket each `subscribe` message is a new subscription, refused
  with an `error` message for that operation.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.unset import UNSET, UnsetType

from gateway.graphql.compiled import EXECUTION_HEADER, GENERAL
from gateway.graphql.context import Context, Services
from gateway.graphql.runtime import metrics
from gateway.graphql.runtime.errors import UNAVAILABLE_RETRY_AFTER_S, unavailable_error
from gateway.graphql.runtime.event_source import (
    Refused,
    StreamStart,
    resume_sequence,
    take_access_tokens,
    url_authorization,
    wants_event_stream,
)
from gateway.graphql.runtime.lean import LeanQueries
from gateway.graphql.runtime.persisted_queries import PersistedQueries
from gateway.graphql.runtime.protocol import NegotiatingGraphQL
from gateway.graphql.runtime.rate_limits import (
    RateLimitPolicy,
    RateLimits,
    Refusal,
    rate_limited_error,
)
from gateway.graphql.runtime.tracing import Tracing
from gateway.graphql.runtime.transports import MultipartSubscriptions
from gateway.graphql.runtime.websocket import KeepAliveTransportWSHandler, SocketLimits
from gateway.playground import playground_response
from gateway.services.credentials import Caller, authenticate
from gateway.store.availability import unavailable
from gateway.store.engine import ReadConnection

logger = logging.getLogger("gateway.graphql")


def error_response(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


def refused_response(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    """`error_response` for a GraphQL request refused before it ran (counted in /metrics)."""
    metrics.note_error(code, refused=True)
    return error_response(status, message, code, **headers)


def unavailable_response() -> JSONResponse:
    """The database is out of reach (gateway.store.availability): a JSON 503 that says to
    retry, on a connection kept open, with the request id (X-Request-Id is added to every
    response)."""
    error = unavailable_error()
    metrics.note_error(error["extensions"]["code"])
    return JSONResponse(
        {"errors": [error]},
        status_code=503,
        headers={"retry-after": str(UNAVAILABLE_RETRY_AFTER_S)},
    )


def rate_limited_response(refusal: Refusal) -> JSONResponse:
    error = rate_limited_error(refusal)
    metrics.note_error(error["extensions"]["code"], refused=True)
    return JSONResponse(
        {"errors": [error]}, status_code=429, headers={"retry-after": str(refusal.retry_after_s)}
    )


def _client_address(connection: Request | WebSocket) -> str:
    return connection.client.host if connection.client is not None else "unknown"


async def failed_authentication(
    rate_limits: RateLimits, connection: Request | WebSocket, authorization: object
) -> Refusal | None:
    """Count a credential that failed against its address, after the lookup (so a valid key is
    never refused for its address's failures); a missing one is no guess."""
    if authorization is None:
        return None
    return await rate_limits.authentication_failed(_client_address(connection))


async def admit(
    rate_limits: RateLimits,
    request: Request,
    authorization: str | None,
    caller: Caller | None,
    *,
    subscription: bool = False,
    respond: Callable[..., JSONResponse] = refused_response,
) -> Caller | JSONResponse:
    """The caller `authenticate` found for `authorization`, admitted, or the answer refusing it:
    429 for too many failed credentials from its address or too many requests of its
    credential, 401 with a bearer challenge when none was found. /graphql and the export routes
    both sign callers in through it."""
    if caller is None:
        refusal = await failed_authentication(rate_limits, request, authorization)
        if refusal is not None:
            return rate_limited_response(refusal)
        return respond(
            401,
            "Missing or invalid API key: send `Authorization: Bearer <key>`.",
            "UNAUTHENTICATED",
            **{"www-authenticate": 'Bearer realm="mps-gateway"'},
        )
    refusal = await rate_limits.admit_request(caller[0].credential, subscription=subscription)
    return rate_limited_response(refusal) if refusal is not None else caller


def _wants_playground(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


MULTIPART_OVERHEAD_BYTES = 1_000_000


_MULTIPART = "multipart/form-data"
_BODY_TYPES = ("application/json", _MULTIPART)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _preflighted(request: Request) -> bool:
    return any(
        request.headers.get(name, "").strip()
        for name in ("apollo-require-preflight", "x-apollo-operation-name")
    )


def _capped(receive: Receive, limit: int) -> Receive:
    """`receive`, refusing (413) a body that grows past `limit` bytes, announced or not."""
    received = 0

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise HTTPException(413, "The request body is too large.")
        return message

    return capped


class GraphQLView(NegotiatingGraphQL):
    graphql_transport_ws_handler_class = KeepAliveTransportWSHandler

    def __init__(
        self,
        schema: BaseSchema,
        *,
        services: Services,
        body_bytes_max: int,
        socket: SocketLimits | None = None,
        rate_limits: RateLimits | None = None,
        playground: bool = True,
        upload_preflight_required: bool = False,
        lean: LeanQueries | None = None,
        persisted: PersistedQueries | None = None,
        sse_retry_ms: int = 3_000,
        metrics: bool = False,
        tracing: Tracing | None = None,
    ) -> None:
        limits = socket or SocketLimits()
        any_origin = ("*",) if limits.any_origin_when_none_allowed else ()
        super().__init__(
            schema,
            graphql_ide=None,
            multipart_uploads_enabled=True,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
            connection_init_wait_timeout=timedelta(seconds=limits.connection_init_timeout_s),
            max_subscriptions_per_connection=limits.subscriptions_per_connection_max,
            allowed_origins=limits.allowed_origins or any_origin,
        )
        self.keep_alive_interval = limits.keep_alive_s
        self.services = services
        self.db = services.db
        self.body_bytes_max = body_bytes_max
        self.multipart_bytes_max = services.document_bytes_max + MULTIPART_OVERHEAD_BYTES
        self.rate_limits = rate_limits or RateLimits(RateLimitPolicy.off())
        self.playground = playground
        self.uploads_need_preflight = upload_preflight_required
        self.lean = lean
        self.persisted = persisted or PersistedQueries()
        self.sse_retry_ms = sse_retry_ms
        self.metrics = metrics  # requests noted for /metrics (gateway.graphql.runtime.metrics)
        self.tracing = tracing  # the lean path's operation spans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.run(WebSocket(scope, receive, send))
            return
        # The request's own state: ASGI servers copy the lifespan's state into each request, but
        # not every caller does (asgi-lifespan hands every request the same dict), and what a
        # request notes there (its caller, a request error, its executor) is its alone.
        scope["state"] = dict(scope.get("state") or {})
        request = Request(scope, receive)
        try:
            with self._measuring(request):
                response = await self._respond(request)
        except ClientDisconnect:  # gone before its request was read: nobody to answer
            logger.info("client disconnected before the request body was read")
            return
        execution = getattr(request.state, "execution", None)
        if execution is None and getattr(request.state, "context", None) is not None:
            execution = GENERAL  # executed, and no plan was asked
        if execution is not None:
            response.headers[EXECUTION_HEADER] = execution
        try:
            await response(scope, receive, send)
        finally:  # a streamed response (SSE) included
            context = getattr(request.state, "context", None)
            if context is not None:
                context.close()

    def _measuring(self, request: Request) -> contextlib.AbstractContextManager[object]:
        """The request noted for /metrics until it has its response (a stream: its start)."""
        if not self.metrics or _wants_playground(request):
            return contextlib.nullcontext()
        stream = self._get_stream_transport_from_headers(request.headers)
        if stream is not None:
            multipart = isinstance(stream, MultipartSubscriptions)
            request.state.transport = "multipart" if multipart else "sse"
        return metrics.measuring(metrics.transport_of(request))

    async def _respond(self, request: Request) -> Response:
        request.state.access_tokens = take_access_tokens(request)  # out of the URL at once
        if _wants_playground(request):
            if not self.playground:
                return error_response(404, "Not found.", "NOT_FOUND")
            return playground_response(endpoint=request.url.path)
        if request.method not in ("GET", "POST"):
            return refused_response(
                405, "Use GET or POST.", "METHOD_NOT_ALLOWED", allow="GET, POST"
            )
        request.state.reads = reads = ReadConnection(self.db)
        try:
            refused = await self._sign_in(request)
            if refused is not None:
                return refused
            return await self._execute(request)
        except Exception as error:
            if not unavailable(error):
                raise
            logger.warning("database unavailable: %s", type(error).__name__)
            return unavailable_response()
        finally:
            with contextlib.suppress(Exception):  # a connection the server dropped
                await reads.close()

    async def _sign_in(self, request: Request) -> Response | None:
        """Authenticate and admit the caller into `request.state.caller`, or the refusal."""
        event_stream = wants_event_stream(request)
        tokens = request.state.access_tokens
        try:  # a credential in the URL, then a `Last-Event-ID`: see runtime.event_source
            authorization = url_authorization(request, tokens, event_stream=event_stream)
            caller = await authenticate(
                self.db, authorization=authorization, reads=request.state.reads
            )
            if caller is not None and event_stream:
                request.state.resume_after = resume_sequence(request, platform_id=caller[1].id)
        except Refused as refused:
            return error_response(refused.status, refused.message, refused.code)
        is_stream = self._get_stream_transport_from_headers(request.headers) is not None
        admitted = await admit(
            self.rate_limits, request, authorization, caller, subscription=is_stream
        )
        if isinstance(admitted, JSONResponse):
            return admitted
        request.state.caller = admitted
        return None

    async def _execute(self, request: Request) -> Response:
        media_type = _media_type(request)
        if request.method == "POST" and media_type not in _BODY_TYPES:
            return refused_response(
                415,
                "Send `Content-Type: application/json` (or multipart/form-data for uploads).",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        if media_type == _MULTIPART and self.uploads_need_preflight and not _preflighted(request):
            return refused_response(
                400,
                "Multipart requests need an `Apollo-Require-Preflight` or"
                " `X-Apollo-Operation-Name` header (CSRF protection).",
                "BAD_REQUEST",
            )
        limit = self.multipart_bytes_max if media_type == _MULTIPART else self.body_bytes_max
        if int(request.headers.get("content-length") or 0) > limit:
            return refused_response(413, "The request body is too large.", "PAYLOAD_TOO_LARGE")
        request = Request(request.scope, _capped(request.receive, limit))  # chunked bodies too
        try:
            if self.lean is not None and media_type != _MULTIPART:
                answered = await self.lean.answer(self, request)  # the body is read once
                if answered is not None:
                    return answered
            return await self.run(request)
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):  # a mutation over GET
                return refused_response(405, error.reason, "METHOD_NOT_ALLOWED", allow="POST")
            code = "PAYLOAD_TOO_LARGE" if error.status_code == 413 else "BAD_REQUEST"
            return refused_response(error.status_code, error.reason, code)
        finally:
            await request.close()  # closes the spooled files of a multipart upload

    def parse_json(self, data: str | bytes) -> Any:
        if len(data) > self.body_bytes_max:
            raise HTTPException(413, "The request body is too large.")
        if data.lstrip()[:1] in (b"[", "["):  # a batch: refused before it is decoded
            raise HTTPException(400, "The request body must be a JSON object (no batching).")
        parsed = self.decode_json(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return parsed

    def encode_json(self, data: object) -> str:
        """Text (a WebSocket message must be a text frame), written by orjson; the standard
        library writes what orjson refuses (integers beyond 64 bits, non-string keys)."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested beyond the recursion limit is undecodable (400 over HTTP, 4400 on a
        WebSocket), never a RecursionError."""
        try:
            return json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("Nested too deeply", "", 0) from None

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request, response, self.services)
        if isinstance(request, Request):
            principal, platform = request.state.caller
            context.sign_in(principal, platform, reads=request.state.reads)
            context.resume_after = getattr(request.state, "resume_after", None)
            if wants_event_stream(request):
                context.stream_start = StreamStart()
            request.state.context = context  # closed once the response is sent
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a WebSocket from its connection_init payload (4403 when refused)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("Authorization") or params.get("authorization")
        caller = await authenticate(
            self.db, authorization=authorization if isinstance(authorization, str) else None
        )
        if caller is None:
            refusal = await failed_authentication(self.rate_limits, context.request, authorization)
            if refusal is not None:
                raise ConnectionRejectionError({"message": "Too many failed authentications."})
            raise ConnectionRejectionError({"message": "Missing or invalid API key."})
        context.sign_in(*caller)
        no_payload: UnsetType = UNSET
        return no_payload
