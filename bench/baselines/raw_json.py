"""The trivial query's baseline: Starlette answering `{ __typename }` with no GraphQL at all.

It does what any JSON endpoint must: read and decode the request body, encode an answer.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ANSWER = {"data": {"__typename": "Query"}}


async def graphql(request: Request) -> JSONResponse:
    body = await request.json()
    if not isinstance(body, dict) or "query" not in body:
        return JSONResponse({"errors": [{"message": "no query"}]}, status_code=400)
    return JSONResponse(ANSWER)


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)])
