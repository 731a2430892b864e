"""The `mps-gateway` command line.

    mps-gateway serve [--host 127.0.0.1] [--port 8000] [--demo]
    mps-gateway db upgrade
    mps-gateway platform create --name NAME [--environment sandbox|production]
                                [--currency EUR ...] [--json]
    mps-gateway demo [--json]
    mps-gateway export-schema

API keys are printed once, to standard output, and never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from gateway.domain.enums import Environment
from gateway.domain.errors import InvalidArgument
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade

T = TypeVar("T")
DEMO_SETTLER_DELAY_S = 5.0


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database.from_url(settings.database_url)
        try:
            await upgrade(db.engine)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _print_key(platform_id: uuid.UUID, key: str, *, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps({"platformId": str(platform_id), "apiKey": key}))
        return
    print(f"{title}\n  platform id: {platform_id}\n  API key:     {key}")
    print("  (the key is shown once: store it now)")


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from gateway.app import create_app

    if args.demo:
        from gateway.services.demo import seed_demo

        demo = _with_database(settings, seed_demo)
        _print_key(demo.platform_id, demo.api_key, as_json=False, title="Demo platform ready")
        print(f"  playground:  http://{args.host}:{args.port}/graphql")
        print('  paste into its headers: {"Authorization": "Bearer ' + demo.api_key + '"}')
        sys.stdout.flush()
        if settings.settler_delay_s is None:
            settings = settings.model_copy(update={"settler_delay_s": DEMO_SETTLER_DELAY_S})
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    async def noop(_db: Database) -> None:
        return None

    _with_database(settings, noop)
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


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.services.demo import seed_demo

    demo = _with_database(settings, seed_demo)
    title = "Demo platform created" if demo.created else "Demo platform already seeded; new key"
    _print_key(demo.platform_id, demo.api_key, as_json=args.json, title=title)
    return 0


def _cmd_export_schema(_args: argparse.Namespace, _settings: Settings) -> int:
    from gateway.graphql.schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mps-gateway", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server (applies migrations first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
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

    demo = commands.add_parser("demo", help="seed the demo platform and print a new key")
    demo.add_argument("--json", action="store_true", help="print one JSON line")
    demo.set_defaults(handler=_cmd_demo)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(handler=_cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        result: int = args.handler(args, settings)
    except InvalidArgument as error:
        print(f"mps-gateway: {error}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
