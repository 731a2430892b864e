"""GraphQL over HTTP at /graphql: credentials first, JSON errors always.

- GET from a browser (Accept: text/html, no `query`): the self-hosted GraphiQL playground,
  which needs no credentials (the key is typed into its headers editor).
- Everything else needs `Authorization: Bearer <key>`; without a valid key the answer is
  HTTP 401 with a GraphQL error whose `extensions.code` is `UNAUTHENTICATED`.
- Malformed requests (bad JSON, wrong content type, oversized body, missing query) answer with
  a GraphQL-shaped JSON error and a 4xx status, never a plain-text page or a 500.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from gateway.domain.credentials import Principal
from gateway.graphql.context import Context
from gateway.graphql.loaders import Loaders
from gateway.playground import playground_response
from gateway.services.credentials import authenticate
from gateway.services.reads import PlatformReader
from gateway.store.engine import Database
from gateway.store.tables import Platform


def error_response(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _wants_playground(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, *, db: Database, body_bytes_max: int) -> None:
        super().__init__(schema, graphql_ide=None, multipart_uploads_enabled=False)
        self.db = db
        self.body_bytes_max = body_bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await WebSocket(scope, receive, send).close(code=4400)
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
        if request.method == "POST" and not _is_json(request):
            return error_response(
                415,
                "Send the request as `Content-Type: application/json`.",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        if int(request.headers.get("content-length") or 0) > self.body_bytes_max:
            return error_response(413, "The request body is too large.", "PAYLOAD_TOO_LARGE")
        try:
            return await self.run(request)
        except HTTPException as error:
            return error_response(error.status_code, error.reason, "BAD_REQUEST")

    def parse_json(self, data: str | bytes) -> Any:
        if len(data) > self.body_bytes_max:
            raise HTTPException(413, "The request body is too large.")
        parsed = json.loads(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return parsed

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal: Principal
        platform: Platform
        principal, platform = request.state.caller
        reader = PlatformReader(self.db, platform_id=platform.id)
        return Context(
            request=request,
            response=response,
            principal=principal,
            platform=platform,
            loaders=Loaders(reader),
        )
