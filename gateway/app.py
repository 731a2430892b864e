"""The ASGI application: routes and lifespan. No import-time globals: `create_app(settings)`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway import __version__
from gateway.graphql.schema import build_schema
from gateway.graphql.view import GraphQLView
from gateway.playground import playground_routes
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade

logger = logging.getLogger("gateway")


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> Starlette:
    """The gateway; `db` lets a caller share an engine it already has (tests, embedding)."""
    settings = settings or Settings()
    database = db or Database.from_url(settings.database_url)
    view = GraphQLView(build_schema(), db=database, body_bytes_max=settings.request_body_bytes_max)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(database.engine)
        yield
        if db is None:
            await database.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", view, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        *playground_routes(),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
