"""The ASGI application: routes and lifespan. No import-time globals: `create_app(settings)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from gateway import __version__
from gateway.graphql.context import Services
from gateway.graphql.schema import build_schema
from gateway.graphql.view import GraphQLView, SocketLimits
from gateway.playground import playground_routes
from gateway.services.event_stream import EventHub
from gateway.services.sandbox import run_settler
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from gateway.store.migrate import upgrade
from gateway.store.notify import (
    LocalNotifications,
    Notifications,
    PostgresNotifications,
    RedisNotifications,
)

logger = logging.getLogger("gateway")


def notifications_for(settings: Settings) -> Notifications:
    """Redis when configured; else LISTEN/NOTIFY on PostgreSQL; else in-process (SQLite)."""
    if settings.redis_url:
        return RedisNotifications(settings.redis_url)
    if settings.database_url.startswith("postgresql"):
        return PostgresNotifications(settings.database_url)
    return LocalNotifications()


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> Starlette:
    """The gateway; `db` lets a caller share an engine it already has (tests, embedding)."""
    settings = settings or Settings()
    database = db or Database.from_url(settings.database_url)
    hub = EventHub(
        database,
        queue_max=settings.subscriber_queue_max,
        poll_interval_s=settings.events_poll_interval_s,
    )
    services = Services(
        db=database,
        files=DocumentFiles(settings.documents_dir),
        document_bytes_max=settings.document_bytes_max,
        webhook_allow_private_urls=settings.webhook_allow_private_urls,
        hub=hub,
    )
    socket = SocketLimits(
        connection_init_timeout_s=settings.ws_connection_init_timeout_s,
        keep_alive_s=settings.ws_keep_alive_s,
        subscriptions_per_connection_max=settings.ws_subscriptions_per_connection_max,
        allowed_origins=tuple(settings.ws_allowed_origins),
    )
    view = GraphQLView(
        build_schema(),
        services=services,
        body_bytes_max=settings.request_body_bytes_max,
        socket=socket,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(database.engine)
        database.notifications = notifications_for(settings)
        await hub.start()
        settler = None
        if settings.settler_delay_s is not None:
            settler = asyncio.create_task(run_settler(database, delay_s=settings.settler_delay_s))
        dispatcher = None
        if settings.webhook_delivery:
            from gateway.services.deliveries import DeliveryPolicy, run_dispatcher

            policy = DeliveryPolicy(
                interval_s=settings.webhook_dispatch_interval_s,
                timeout_s=settings.webhook_request_timeout_s,
                allow_private_urls=settings.webhook_allow_private_urls,
            )
            dispatcher = asyncio.create_task(run_dispatcher(database, policy=policy))
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await dispatcher
            if settler is not None:
                settler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await settler
            await hub.stop()
            if db is None:
                await database.dispose()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", view, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        WebSocketRoute("/graphql", view),
        *playground_routes(),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
