"""GraphQL over HTTP at /graphql: credentials first, JSON errors always.

- GET from a browser (Accept: text/html, no `query`): the self-hosted GraphiQL playground,
  which needs no credentials (the key is typed into its headers editor).
- Everything else needs `Authorization: Bearer <key>`; without a valid key the answer is
  HTTP 401 with a GraphQL error whose `extensions.code` is `UNAUTHENTICATED`.
- Malformed requests (bad JSON, wrong content type, oversized body, missing query) answer with
  a GraphQL-shaped JSON error and a 4xx status, never a plain-text page or a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.unset import UNSET, UnsetType

from gateway.graphql.context import Context, Services
from gateway.playground import playground_response
from gateway.services.credentials import authenticate


def error_response(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _wants_playground(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


MULTIPART_OVERHEAD_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class SocketLimits:
    connection_init_timeout_s: float = 10.0
    keep_alive_s: float = 15.0
    subscriptions_per_connection_max: int = 20
    allowed_origins: tuple[str, ...] = ()


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings once acknowledged, so idle proxies keep the
    connection open and dead peers are noticed."""

    ping_task: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.ping_task is None:
            self.ping_task = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        interval = getattr(self.view, "keep_alive_interval", 15.0)
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self.ping_task is not None:
            self.ping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ping_task
        await super().shutdown()


_MULTIPART = "multipart/form-data"
_BODY_TYPES = ("application/json", _MULTIPART)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = KeepAliveTransportWSHandler

    def __init__(
        self, schema: BaseSchema, *, services: Services, body_bytes_max: int,
        socket: SocketLimits | None = None,
    ) -> None:  # fmt: skip
        limits = socket or SocketLimits()
        super().__init__(
            schema,
            graphql_ide=None,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=limits.connection_init_timeout_s),
            max_subscriptions_per_connection=limits.subscriptions_per_connection_max,
            allowed_origins=limits.allowed_origins or ("*",),
        )
        self.keep_alive_interval = limits.keep_alive_s
        self.services = services
        self.db = services.db
        self.body_bytes_max = body_bytes_max
        self.multipart_bytes_max = services.document_bytes_max + MULTIPART_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.run(WebSocket(scope, receive, send))
            return
        request = Request(scope, receive)
        response = await self._respond(request)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if _wants_playground(request):
            return playground_response(endpoint=request.url.path)
        if request.method not in ("GET", "POST"):
            return error_response(405, "Use GET or POST.", "METHOD_NOT_ALLOWED", allow="GET, POST")
        caller = await authenticate(self.db, authorization=request.headers.get("authorization"))
        if caller is None:
            return error_response(
                401,
                "Missing or invalid API key: send `Authorization: Bearer <key>`.",
                "UNAUTHENTICATED",
                **{"www-authenticate": 'Bearer realm="mps-gateway"'},
            )
        request.state.caller = caller
        media_type = _media_type(request)
        if request.method == "POST" and media_type not in _BODY_TYPES:
            return error_response(
                415,
                "Send `Content-Type: application/json` (or multipart/form-data for uploads).",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        limit = self.multipart_bytes_max if media_type == _MULTIPART else self.body_bytes_max
        if int(request.headers.get("content-length") or 0) > limit:
            return error_response(413, "The request body is too large.", "PAYLOAD_TOO_LARGE")
        try:
            return await self.run(request)
        except HTTPException as error:
            return error_response(error.status_code, error.reason, "BAD_REQUEST")
        finally:
            await request.close()  # closes the spooled files of a multipart upload

    def parse_json(self, data: str | bytes) -> Any:
        if len(data) > self.body_bytes_max:
            raise HTTPException(413, "The request body is too large.")
        parsed = json.loads(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return parsed

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request, response, self.services)
        if isinstance(request, Request):
            principal, platform = request.state.caller
            context.sign_in(principal, platform)
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a WebSocket from its connection_init payload (4403 when refused)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("Authorization") or params.get("authorization")
        caller = await authenticate(
            self.db, authorization=authorization if isinstance(authorization, str) else None
        )
        if caller is None:
            raise ConnectionRejectionError({"message": "Missing or invalid API key."})
        context.sign_in(*caller)
        no_payload: UnsetType = UNSET
        return no_payload
