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
from gateway.graphql.context import Context, Services
from gateway.graphql.loaders import Loaders
from gateway.playground import playground_response
from gateway.services.credentials import authenticate
from gateway.services.reads import PlatformReader
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


MULTIPART_OVERHEAD_BYTES = 1_000_000
_MULTIPART = "multipart/form-data"
_BODY_TYPES = ("application/json", _MULTIPART)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, *, services: Services, body_bytes_max: int) -> None:
        super().__init__(schema, graphql_ide=None, multipart_uploads_enabled=True)
        self.services = services
        self.db = services.db
        self.body_bytes_max = body_bytes_max
        self.multipart_bytes_max = services.document_bytes_max + MULTIPART_OVERHEAD_BYTES

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
            services=self.services,
        )
