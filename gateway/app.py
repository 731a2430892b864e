"""The ASGI application: routes and lifespan. No import-time globals: `create_app(settings)`.

Every request and WebSocket gets a request id (gateway.logs). Browsers reach /graphql from
other origins only as `cors_allowed_origins` says (any origin in development when it is empty,
none in production), sending the request headers `cors_allowed_headers` lists (the clients'
and tracers' usual ones by default) and `cors_extra_allowed_headers` adds. Production also
drops the playground's routes, and unknown paths answer a JSON 404 in every mode.

The lifespan starts the background work (event hub, webhook dispatcher, settler, expiry and
retention) and stops it at shutdown, after the server has finished the requests in flight: the
dispatcher is told to stop and given `shutdown_grace_s` to send and record the batch it is
sending; the rest is cancelled (a cancelled transaction rolls back).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
import redis.asyncio
import strawberry
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp

from gateway import __version__
from gateway.graphql.compiled import STATS
from gateway.graphql.compiled.extension import CompiledExecutor
from gateway.graphql.context import Services
from gateway.graphql.runtime import metrics
from gateway.graphql.runtime.exports import Exports
from gateway.graphql.runtime.lean import LeanQueries
from gateway.graphql.runtime.limits import QueryLimits
from gateway.graphql.runtime.limits.cache import MeasureCache
from gateway.graphql.runtime.metrics_server import MetricsServer, start_metrics_server
from gateway.graphql.runtime.persisted_queries import PersistedQueries
from gateway.graphql.runtime.persisted_store import (
    MemoryDocuments,
    PersistedDocuments,
    RedisDocuments,
)
from gateway.graphql.runtime.rate_limits import RateLimitPolicy, RateLimits
from gateway.graphql.runtime.tracing import (
    TracedRequests,
    Tracing,
    exporter_from_environment,
    traced,
)
from gateway.graphql.runtime.trusted_documents import (
    TrustedDocumentsError,
    compile_manifest,
    default_paths,
    load_manifest,
)
from gateway.graphql.runtime.view import GraphQLView, error_response
from gateway.graphql.runtime.websocket import SocketLimits
from gateway.graphql.schema import build_schema
from gateway.logs import REQUEST_ID_HEADER, RequestIdMiddleware, scrub_access_logs
from gateway.playground import playground_routes
from gateway.services.document_expiry import run_document_expiry
from gateway.services.event_stream import EventHub
from gateway.services.retention import RetentionPolicy, run_retention
from gateway.services.sandbox import run_settler
from gateway.settings import Settings
from gateway.store import notify
from gateway.store.availability import unavailable
from gateway.store.credential_cache import CredentialCache
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from gateway.store.group_commit import GroupCommitPolicy
from gateway.store.migrate import pending_migrations, upgrade
from gateway.store.notify import Notifications

logger = logging.getLogger("gateway")


def notifications_for(settings: Settings) -> Notifications:
    """Redis when configured; else LISTEN/NOTIFY on PostgreSQL; else in-process (SQLite)."""
    return notify.notifications_for(
        database_url=settings.database_url, redis_url=settings.redis_url
    )


READY_TIMEOUT_S = 2.0


async def readiness(database: Database, redis_url: str | None) -> dict[str, str]:
    """What /readyz reports: the database answers and is at the latest migration, and Redis
    (when configured) answers; each within READY_TIMEOUT_S."""
    checks = {"database": "ok", "migrations": "ok", "redis": "not configured"}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), database.reading() as connection:
            pending = await pending_migrations(connection)
        if pending is not None:
            checks["migrations"] = f"not at head: {pending}"
    except Exception as error:
        if not (unavailable(error) or isinstance(error, TimeoutError)):
            raise
        checks["database"] = checks["migrations"] = f"unreachable ({type(error).__name__})"
    if redis_url:
        client = redis.asyncio.from_url(
            redis_url, socket_timeout=READY_TIMEOUT_S, socket_connect_timeout=READY_TIMEOUT_S
        )
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await client.ping()
            checks["redis"] = "ok"
        except (redis.RedisError, OSError, TimeoutError) as error:
            checks["redis"] = f"unreachable ({type(error).__name__})"
        finally:
            await client.aclose()
    return checks


async def finish(task: asyncio.Task[None], *, grace_s: float) -> None:
    """Wait up to `grace_s` for a task told to stop; it is cancelled afterwards if still
    running (see the lifespan)."""
    _done, pending = await asyncio.wait({task}, timeout=grace_s)
    if pending:
        logger.warning("webhook dispatcher still sending after %.0f s: cancelled", grace_s)


def rate_limits_for(settings: Settings) -> RateLimits:
    """Budgets shared through Redis when configured, else per process."""
    policy = RateLimitPolicy(
        window_s=settings.rate_limit_window_s,
        requests=settings.rate_limit_requests,
        subscriptions=settings.rate_limit_subscriptions,
        failed_authentications=settings.rate_limit_failed_authentications,
    )
    return RateLimits(policy, redis_url=settings.redis_url)


def query_limits_for(settings: Settings) -> QueryLimits:
    return QueryLimits(
        document_bytes_max=settings.query_bytes_max,
        tokens_max=settings.query_tokens_max,
        depth_max=settings.query_depth_max,
        aliases_max=settings.query_aliases_max,
        directives_max=settings.query_directives_max,
        cost_max=settings.query_cost_max,
        report_cost=settings.query_cost_report,
    )


def persisted_documents_for(settings: Settings) -> PersistedDocuments:
    """Shared through Redis when configured, else per process."""
    size_max = settings.persisted_queries_max
    if settings.redis_url and settings.persisted_queries and not settings.trusted_documents_only:
        ttl_s = settings.persisted_queries_ttl_s
        return RedisDocuments(settings.redis_url, size_max=size_max, ttl_s=ttl_s)
    return MemoryDocuments(size_max)


def persisted_queries_for(settings: Settings, schema: strawberry.Schema) -> PersistedQueries:
    """The trusted documents, checked and validated against `schema` (TrustedDocumentsError
    stops the start-up), and the store of automatic persisted queries."""
    paths = settings.trusted_documents
    manifest = load_manifest(default_paths() if paths is None else paths)
    if settings.trusted_documents_only and not manifest:
        raise TrustedDocumentsError(
            "MPS_TRUSTED_DOCUMENTS_ONLY=true but there are no trusted documents: set"
            " MPS_TRUSTED_DOCUMENTS to directories of .graphql files or JSON manifests."
        )
    compile_manifest(schema._schema, manifest)
    return PersistedQueries(
        automatic=settings.persisted_queries,
        trusted={sha256: document.text for sha256, document in manifest.items()},
        trusted_only=settings.trusted_documents_only,
        store=persisted_documents_for(settings),
        document_bytes_max=settings.query_bytes_max,
    )


def with_cors(settings: Settings, app: ASGIApp) -> ASGIApp:
    """`app` open to pages of the allowed origins (no header at all for the others)."""
    origins = settings.cors_allowed_origins
    if not origins and settings.environment == "development":
        origins = ["*"]
    if not origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=[*settings.cors_allowed_headers, *settings.cors_extra_allowed_headers],
        expose_headers=["Retry-After", REQUEST_ID_HEADER],
        max_age=600,
    )


async def not_found(_request: Request, _error: Exception) -> Response:
    return error_response(404, "Not found.", "NOT_FOUND")


def own_metrics_server(settings: Settings) -> MetricsServer | None:
    """The metrics port's server when this process serves it: one process on its own (with
    several, `mps-gateway serve` serves it in the parent; gateway.graphql.runtime.metrics)."""
    if not settings.metrics or settings.metrics_port is None or metrics.multiprocess_dir():
        return None
    return start_metrics_server(
        settings.metrics_host, settings.metrics_port, token=metrics.token_of(settings)
    )


# A large response allocates some 100,000 objects: with the default thresholds (700, 10, 10)
# the collector runs about 140 times per response, and every tenth of those passes over the
# older objects too, the app's own included.
GC_THRESHOLDS = (50_000, 50, 1_000)


def tune_gc() -> None:
    """Fewer, cheaper collections for a server: what exists once the app has started lives as
    long as the process (frozen: never traversed again), and young objects are collected
    every 50,000 allocations instead of 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def retention_policy(settings: Settings) -> RetentionPolicy:
    """The retention job's windows, batches and pace, from the settings."""
    return RetentionPolicy(
        idempotency_retention_hours=settings.idempotency_retention_hours,
        delivery_retention_days=settings.delivery_retention_days,
        batch_size=settings.retention_batch_size,
        pause_s=settings.retention_pause_s,
        interval_s=settings.retention_interval_s,
    )


def tracing_for(settings: Settings, exporter: SpanExporter | None) -> Tracing | None:
    """The app's tracing when `MPS_TRACING` is on: to `exporter` when given, else where the
    environment says (gateway.graphql.runtime.tracing)."""
    if not settings.tracing:
        return None
    if exporter is not None:
        return Tracing(exporter)
    configured, batch = exporter_from_environment(console=settings.tracing_console)
    return Tracing(configured, batch=batch)


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    span_exporter: SpanExporter | None = None,
) -> Starlette:
    """The gateway; `db` lets a caller share an engine it already has (tests, embedding),
    `span_exporter` receives each span as it ends when tracing is on (tests)."""
    settings = settings or Settings()
    production = settings.environment == "production"
    scrub_access_logs()
    database = db or Database.from_url(settings.database_url)
    database.group_commit_policy = GroupCommitPolicy(
        wait_s=settings.group_commit_wait_ms / 1000, size_max=settings.group_commit_size_max
    )
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
        any_origin_when_none_allowed=not production,
    )
    rate_limits = rate_limits_for(settings)
    limits = query_limits_for(settings)
    measures = MeasureCache()
    compiled = CompiledExecutor() if settings.compiled_reads else None
    tracing = tracing_for(settings, span_exporter)
    schema = build_schema(
        production=production, limits=limits, compiled=compiled, measures=measures, tracing=tracing
    )
    lean = None
    if compiled is not None:
        lean = LeanQueries(compiled, limits, measures, schema._schema)
    persisted = persisted_queries_for(settings, schema)
    view = GraphQLView(
        schema,
        lean=lean,
        services=services,
        body_bytes_max=settings.request_body_bytes_max,
        socket=socket,
        rate_limits=rate_limits,
        playground=not production,
        upload_preflight_required=production,
        persisted=persisted,
        sse_retry_ms=settings.sse_retry_ms,
        metrics=settings.metrics,
        tracing=tracing,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade(database.engine)
        # The cache is this app's, emptied by invalidations from every instance (the carrier
        # starts listening with the hub), and gone with it: nothing outlives the app.
        credential_cache = CredentialCache(ttl_s=settings.credential_cache_ttl_s)
        database.credential_cache = credential_cache
        database.notifications = notifications_for(settings)
        database.notifications.listen_invalidations(credential_cache.invalidate)
        await hub.start()
        metrics_server = own_metrics_server(settings)
        if settings.gc_tuning:
            tune_gc()
        settler = None
        if settings.settler_delay_s is not None:
            settler = asyncio.create_task(run_settler(database, delay_s=settings.settler_delay_s))
        expiry = None
        if settings.document_expiry:
            expiry = asyncio.create_task(
                run_document_expiry(database, interval_s=settings.document_expiry_interval_s)
            )
        purges = None
        if settings.retention:
            purges = asyncio.create_task(run_retention(database, policy=retention_policy(settings)))
        dispatcher = None
        stopping = asyncio.Event()  # set at shutdown: the dispatcher ends its batch and stops
        if settings.webhook_delivery:
            from gateway.services.delivery_policy import DeliveryPolicy
            from gateway.services.webhook_dispatcher import run_dispatcher

            policy = DeliveryPolicy(
                interval_s=settings.webhook_dispatch_interval_s,
                timeout_s=settings.webhook_request_timeout_s,
                lease_s=settings.webhook_lease_s,
                retry_schedule_s=tuple(settings.webhook_retry_schedule_s),
                allow_private_urls=settings.webhook_allow_private_urls,
            )
            dispatcher = asyncio.create_task(
                run_dispatcher(
                    database,
                    policy=policy,
                    stopping=stopping,
                    tracer=tracing.tracer if tracing else None,
                )
            )
        if tracing is not None:
            tracing.start(database)
        try:
            yield
        finally:
            stopping.set()
            cut_short: asyncio.CancelledError | None = None
            try:
                if dispatcher is not None:
                    await finish(dispatcher, grace_s=settings.shutdown_grace_s)
            except asyncio.CancelledError as cancelled:
                # The server gave up waiting for this shutdown: the rest of it still runs (no
                # task outlives the app, no connection is left open), then it ends cancelled.
                cut_short = cancelled
            for task in (dispatcher, expiry, settler, purges):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await hub.stop()
            if compiled is not None:
                logger.info("executors: %s", STATS.summary())
            if database.credential_cache is credential_cache:  # no longer hears invalidations
                database.credential_cache = CredentialCache(ttl_s=0)
            await rate_limits.aclose()
            await persisted.aclose()
            if metrics_server is not None:
                metrics_server.stop()
            if settings.metrics:
                metrics.process_exited()
            if db is None:
                await database.dispose()
            if tracing is not None:
                tracing.stop()  # after the dispatcher: its last attempts are exported too
            if cut_short is not None:
                raise cut_short

    async def healthz(_request: Request) -> JSONResponse:
        # "connecting": events and credential invalidations from other instances do not reach
        # this one yet (caught up by polling, and by the credential cache's expiry).
        listening = database.notifications.is_listening()
        notifications = "listening" if listening else "connecting"
        return JSONResponse(
            {"status": "ok", "version": __version__, "notifications": notifications}
        )

    async def readyz(_request: Request) -> JSONResponse:
        checks = await readiness(database, settings.redis_url)
        ready = all(found == "ok" or found == "not configured" for found in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        if ready:
            return JSONResponse(body)
        return JSONResponse(body, status_code=503, headers={"retry-after": "1"})

    graphql_http = traced(with_cors(settings, view), tracing)
    exports = Exports(database, rate_limits=rate_limits, batch_rows=settings.export_batch_rows)
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route(
            "/graphql", graphql_http, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        ),
        WebSocketRoute("/graphql", traced(view, tracing)),
        *(
            # Traced, an export is an ASGI app in a span (Starlette calls a plain function with
            # a request instead, so untraced it stays the handler).
            Route(
                path,
                answer
                if tracing is None
                else TracedRequests(request_response(answer), tracing, route=path),
                methods=["GET"],
            )
            for path, answer in exports.routes().items()
        ),
        *([] if production else playground_routes()),
    ]
    if settings.metrics and settings.metrics_port is None:
        endpoint = metrics.metrics_endpoint(metrics.token_of(settings))
        routes.append(Route("/metrics", endpoint, methods=["GET"]))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={404: not_found},
    )
