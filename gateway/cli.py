"""The `mps-gateway` command line.

    mps-gateway serve [--host 127.0.0.1] [--port 8000] [--workers 1] [--demo]
    mps-gateway db upgrade
    mps-gateway platform create --name NAME [--environment sandbox|production]
                                [--currency EUR ...] [--json]
    mps-gateway key create --platform PLATFORM_ID [--role backend|operator|readonly]
                           [--label TEXT] [--json]
    mps-gateway key list --platform PLATFORM_ID [--json]
    mps-gateway key revoke KEY_ID_OR_PREFIX [--json]
    mps-gateway demo [--json]
    mps-gateway export-schema
    mps-gateway purge

`purge` runs the retention job once (old idempotency records, finished webhook deliveries past
their window; see gateway/services/retention.py), printing each batch and the totals.

`serve --workers N` runs N uvicorn worker processes on one socket, each building its own app
from the environment (`worker_app`); migrations are applied once, before they start.

API keys are printed once, to standard output, and never logged; `key list` shows prefixes,
roles, labels and dates, never a secret. Exit codes: 0 done, 1 not found, 2 invalid arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from starlette.applications import Starlette

from gateway.domain.enums import ApiKeyRole, Environment
from gateway.domain.errors import InvalidArgument, NotFound
from gateway.domain.ids import parse_id
from gateway.logs import configure_logging
from gateway.services.api_keys import (
    ApiKeySummary,
    CreatedApiKey,
    RevokedApiKey,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from gateway.store.notify import notifications_for

T = TypeVar("T")
DEMO_SETTLER_DELAY_S = 5.0


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the database; what it announces (a key revoked: the running gateways'
    credential caches forget it) goes through the servers' carrier (Redis when configured)."""

    async def run() -> T:
        db = Database.from_url(settings.database_url)
        db.notifications = notifications_for(
            database_url=settings.database_url, redis_url=settings.redis_url
        )
        try:
            await upgrade(db.engine)
            return await work(db)
        finally:
            await db.notifications.stop()
            await db.dispose()

    return asyncio.run(run())


def _print_key(platform_id: uuid.UUID, key: str, *, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps({"platformId": str(platform_id), "apiKey": key}))
        return
    print(f"{title}\n  platform id: {platform_id}\n  API key:     {key}")
    print("  (the key is shown once: store it now)")


def worker_app() -> Starlette:
    """The app of one `serve --workers N` process: settings and logging from the environment,
    as `serve` left it for its workers."""
    from gateway.app import create_app

    settings = Settings()
    configure_logging(level=settings.log_level, structured=settings.environment == "production")
    return create_app(settings)


def _settle_for_workers(settings: Settings) -> None:
    """What worker processes must find in the environment, done once: the migrations (N
    workers would race to apply them on SQLite), and the demo's settler delay."""
    if settings.migrate_on_start:
        _with_database(settings, _no_work)
        os.environ["MPS_MIGRATE_ON_START"] = "false"
    if settings.settler_delay_s is not None:
        os.environ["MPS_SETTLER_DELAY_S"] = str(settings.settler_delay_s)


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.graphql.runtime.trusted_documents import TrustedDocumentsError

    if args.demo:
        from gateway.services.demo import seed_demo

        demo = _with_database(settings, seed_demo)
        _print_key(demo.platform_id, demo.api_key, as_json=False, title="Demo platform ready")
        print(f"  playground:  http://{args.host}:{args.port}/graphql")
        print('  paste into its headers: {"Authorization": "Bearer ' + demo.api_key + '"}')
        if settings.settler_delay_s is None:
            settings = settings.model_copy(update={"settler_delay_s": DEMO_SETTLER_DELAY_S})
        print(
            f"  sandbox settler: decides what waits {settings.settler_delay_s:g} s"
            " (validations, mandates, pay-ins, pay-outs; MPS_SETTLER_DELAY_S)"
        )
        sys.stdout.flush()
    # In production uvicorn's own loggers go through the root's JSON lines too.
    log_config = None if settings.environment == "production" else uvicorn.config.LOGGING_CONFIG
    try:
        app = create_app(settings)  # with workers too: a configuration error stops here, once
    except TrustedDocumentsError as error:  # a configuration to fix, not a crash to debug
        print(f"mps-gateway: {error}", file=sys.stderr)
        return 1
    if args.workers > 1:
        _settle_for_workers(settings)
    with _shared_metrics(settings, workers=args.workers):
        _run_uvicorn(args, settings, app, log_config)
    return 0


@contextlib.contextmanager
def _shared_metrics(settings: Settings, *, workers: int) -> Iterator[None]:
    """Metrics of several processes, as prometheus-client's multiprocess mode has them: a
    directory every worker writes its values to (a new one, removed afterwards, unless
    PROMETHEUS_MULTIPROC_DIR names one), made before the workers start; and the metrics port,
    when set, served here, by the parent, from every worker's values."""
    from gateway.graphql.runtime import metrics
    from gateway.graphql.runtime.metrics_server import start_metrics_server

    made = None
    if settings.metrics and workers > 1 and metrics.multiprocess_dir() is None:
        made = tempfile.mkdtemp(prefix="mps-gateway-metrics-")
        os.environ[metrics.MULTIPROCESS_DIR_VARIABLE] = made
    server = None
    if settings.metrics and settings.metrics_port is not None and metrics.multiprocess_dir():
        server = start_metrics_server(
            settings.metrics_host, settings.metrics_port, token=metrics.token_of(settings)
        )
    directory = metrics.multiprocess_dir()
    reaper = _Reaper(directory) if settings.metrics and workers > 1 and directory else None
    try:
        yield
    finally:
        if reaper is not None:
            reaper.stop()
        if server is not None:
            server.stop()
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
            del os.environ[metrics.MULTIPROCESS_DIR_VARIABLE]


REAP_INTERVAL_S = 2.0
logger = logging.getLogger("gateway.cli")


class _Reaper:
    """A thread of the parent that marks killed workers dead in the multiprocess directory
    every REAP_INTERVAL_S (a worker that stops marks itself; a killed one cannot), so their
    live gauges (open subscriptions, pool use) leave the scrape instead of staying for ever."""

    def __init__(self, directory: str) -> None:
        from gateway.graphql.runtime import metrics

        self.stopping = threading.Event()

        def reap() -> None:
            while not self.stopping.wait(REAP_INTERVAL_S):
                for pid in metrics.reap_dead_processes(directory):
                    logger.warning("metrics: worker %d is gone; its live gauges dropped", pid)

        self.thread = threading.Thread(target=reap, name="metrics-reaper", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)


def _run_uvicorn(
    args: argparse.Namespace, settings: Settings, app: Starlette, log_config: Any
) -> None:
    import uvicorn

    # Uvicorn stops gracefully on SIGTERM (no new connections, requests in flight finished,
    # then the app's shutdown: see MPS_SHUTDOWN_GRACE_S), then raises the signal again for the
    # handler it found. A stop asked for and done is a success: that handler ignores it, and
    # the command exits 0 (the default one would end the process with the signal, status 143).
    signal.signal(signal.SIGTERM, lambda _signal, _frame: None)
    uvicorn.run(
        app if args.workers == 1 else "gateway.cli:worker_app",
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level=logging.getLevelName(settings.log_level.upper()),  # its number
        log_config=log_config,
        ws_max_size=settings.request_body_bytes_max,
        timeout_graceful_shutdown=settings.shutdown_grace_s,
        loop="uvloop",
        http="httptools",
    )


async def _no_work(_db: Database) -> None:
    return None


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    _with_database(settings, _no_work)
    print("database is up to date")
    return 0


def _cmd_platform_create(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.services.platforms import create_platform

    environment = Environment(args.environment.upper())

    async def work(db: Database) -> tuple[uuid.UUID, str]:
        created = await create_platform(
            db, name=args.name, environment=environment, currencies=args.currency or ["EUR"]
        )
        return created.platform.id, created.api_key

    platform_id, key = _with_database(settings, work)
    _print_key(platform_id, key, as_json=args.json, title=f"Platform {args.name!r} created")
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value!r}")
    return number


def _platform_id(value: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a platform id (a UUID): {value!r}")
    return parsed


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_json(key: ApiKeySummary) -> dict[str, str | None]:
    return {
        "id": str(key.id),
        "platformId": str(key.platform_id),
        "prefix": key.prefix,
        "label": key.label,
        "role": key.role.value,
        "createdAt": _time(key.created_at),
        "revokedAt": _time(key.revoked_at),
    }


def _cmd_key_create(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> CreatedApiKey:
        return await create_api_key(
            db, platform_id=args.platform, label=args.label, role=ApiKeyRole(args.role)
        )

    created = _with_database(settings, work)
    if args.json:
        print(
            json.dumps(
                {
                    "platformId": str(created.platform_id),
                    "prefix": created.prefix,
                    "label": created.label,
                    "role": created.role.value,
                    "apiKey": created.key,
                }
            )
        )
        return 0
    print(f"API key created ({created.environment.value.lower()})")
    print(f"  platform id: {created.platform_id}\n  prefix:      {created.prefix}")
    print(f"  role:        {created.role.value}")
    print(f"  API key:     {created.key}\n  (the key is shown once: store it now)")
    return 0


def _key_table(keys: Sequence[ApiKeySummary]) -> list[str]:
    rows = [("PREFIX", "ROLE", "LABEL", "CREATED AT", "REVOKED AT")]
    rows += [
        (
            key.prefix,
            key.role.value,
            key.label or "-",
            _time(key.created_at) or "",
            _time(key.revoked_at) or "-",
        )
        for key in keys
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[4]])
        for row in rows
    ]


def _cmd_key_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> list[ApiKeySummary]:
        return await list_api_keys(db, platform_id=args.platform)

    keys = _with_database(settings, work)
    if args.json:
        print(json.dumps([_key_json(key) for key in keys]))
        return 0
    print("\n".join(_key_table(keys)))
    return 0


def _cmd_key_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> RevokedApiKey:
        return await revoke_api_key(db, reference=args.key)

    revoked = _with_database(settings, work)
    key = revoked.key
    if args.json:
        print(
            json.dumps(
                {
                    **_key_json(key),
                    "newlyRevoked": revoked.newly_revoked,
                    "activeKeysLeft": revoked.active_keys_left,
                }
            )
        )
    elif revoked.newly_revoked:
        print(f"API key {key.prefix} revoked at {_time(key.revoked_at)}")
    else:
        print(f"API key {key.prefix} was already revoked at {_time(key.revoked_at)}")
    if revoked.active_keys_left == 0:
        print(
            f"mps-gateway: warning: platform {key.platform_id} has no active API key left;"
            f" create one with `mps-gateway key create --platform {key.platform_id}`",
            file=sys.stderr,
        )
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.services.demo import seed_demo

    demo = _with_database(settings, seed_demo)
    title = "Demo platform created" if demo.created else "Demo platform already seeded; new key"
    _print_key(demo.platform_id, demo.api_key, as_json=args.json, title=title)
    return 0


def _cmd_purge(_args: argparse.Namespace, settings: Settings) -> int:
    from gateway.app import retention_policy
    from gateway.services.retention import Batch, PurgeReport, purge_once

    def progress(batch: Batch) -> None:
        print(f"{batch.kind}: batch {batch.number} deleted {batch.deleted}", flush=True)

    async def work(db: Database) -> PurgeReport:
        return await purge_once(db, policy=retention_policy(settings), progress=progress)

    report = _with_database(settings, work)
    print(
        f"purged {report.idempotency_records} idempotency records and"
        f" {report.webhook_deliveries} webhook deliveries in {len(report.batches)} batches"
    )
    return 0


def _cmd_export_schema(_args: argparse.Namespace, _settings: Settings) -> int:
    from gateway.graphql.schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def _add_key_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    key = commands.add_parser("key", help="manage a platform's API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True)
    platform_help = "the platform's id (a UUID)"

    create = key_commands.add_parser("create", help="issue a key, printed once")
    create.add_argument("--platform", required=True, type=_platform_id, help=platform_help)
    create.add_argument("--label", help="what the key is for (shown in listings)")
    create.add_argument(
        "--role",
        type=str.upper,
        choices=[role.value for role in ApiKeyRole],
        default=ApiKeyRole.BACKEND.value,
        help="BACKEND (the platform's server, default), OPERATOR (back-office decisions) or"
        " READONLY (reporting: queries only)",
    )
    create.add_argument("--json", action="store_true", help="print one JSON line")
    create.set_defaults(handler=_cmd_key_create)

    listing = key_commands.add_parser("list", help="prefixes, labels and dates; never secrets")
    listing.add_argument("--platform", required=True, type=_platform_id, help=platform_help)
    listing.add_argument("--json", action="store_true", help="print one JSON line (a list)")
    listing.set_defaults(handler=_cmd_key_list)

    revoke = key_commands.add_parser("revoke", help="revoke a key (again: no change)")
    revoke.add_argument("key", metavar="KEY_ID_OR_PREFIX", help="as shown by `key list`")
    revoke.add_argument("--json", action="store_true", help="print one JSON line")
    revoke.set_defaults(handler=_cmd_key_revoke)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mps-gateway", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server (applies migrations first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes sharing the port (default 1: the app runs in this process)",
    )
    serve.add_argument("--demo", action="store_true", help="seed the demo platform, print a key")
    serve.set_defaults(handler=_cmd_serve)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(handler=_cmd_db)

    platform = commands.add_parser("platform", help="manage platforms")
    platform_commands = platform.add_subparsers(dest="platform_command", required=True)
    create = platform_commands.add_parser("create", help="create a platform and its first key")
    create.add_argument("--name", required=True)
    create.add_argument("--environment", choices=["sandbox", "production"], default="sandbox")
    create.add_argument(
        "--currency",
        action="append",
        metavar="CODE",
        help="allowed currency (repeatable; default EUR)",
    )
    create.add_argument("--json", action="store_true", help="print one JSON line")
    create.set_defaults(handler=_cmd_platform_create)

    _add_key_commands(commands)

    demo = commands.add_parser("demo", help="seed the demo platform and print a new key")
    demo.add_argument("--json", action="store_true", help="print one JSON line")
    demo.set_defaults(handler=_cmd_demo)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(handler=_cmd_export_schema)

    purge = commands.add_parser(
        "purge", help="purge old idempotency records and webhook deliveries once"
    )
    purge.set_defaults(handler=_cmd_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(level=settings.log_level, structured=settings.environment == "production")
    try:
        result: int = args.handler(args, settings)
    except InvalidArgument as error:
        print(f"mps-gateway: {error}", file=sys.stderr)
        return 2
    except NotFound as error:
        print(f"mps-gateway: {error}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    raise SystemExit(main())
