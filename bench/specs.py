"""The command lines and environments of the servers the bench runs (see bench/servers.py)."""

from __future__ import annotations

from pathlib import Path

from bench.config import POSTGRAPHILE_CACHE, PYTHON
from bench.servers import Probe, ServerSpec, free_port, uvicorn_argv

GRAPHQL_TYPENAME = {"query": "{ __typename }"}


def gateway_env(database_url: str, work_dir: Path) -> dict[str, str]:
    """The gateway's settings in the bench: every rate limit and the webhook sender off."""
    return {
        "MPS_DATABASE_URL": database_url,
        "MPS_MIGRATE_ON_START": "false",  # bench/data.py migrated already
        "MPS_RATE_LIMIT_REQUESTS": "0",
        "MPS_RATE_LIMIT_SUBSCRIPTIONS": "0",
        "MPS_RATE_LIMIT_FAILED_AUTHENTICATIONS": "0",
        "MPS_WEBHOOK_DELIVERY": "false",
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(work_dir / "documents"),
        # Room for the fan-out's bursts: a subscriber is cut off only far behind.
        "MPS_SUBSCRIBER_QUEUE_MAX": "100000",
    }


def gateway(name: str, database_url: str, work_dir: Path) -> ServerSpec:
    port = free_port()
    return ServerSpec(
        name=name,
        argv=uvicorn_argv("gateway.app:create_app", port, factory=True),
        port=port,
        env=gateway_env(database_url, work_dir),
        cwd=work_dir,  # no stray .env of a developer's
    )


def gateway_serve(name: str, database_url: str, work_dir: Path, *, workers: int) -> ServerSpec:
    """The gateway's own command line, `python -m gateway serve --workers N`: N uvicorn
    processes on one port (uvicorn's log level from MPS_LOG_LEVEL, WARNING here)."""
    port = free_port()
    argv = [PYTHON, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return ServerSpec(
        name=name,
        argv=[*argv, "--workers", str(workers)],
        port=port,
        env=gateway_env(database_url, work_dir),
        cwd=work_dir,
    )


def asyncpg_endpoint(name: str, dsn: str) -> ServerSpec:
    port = free_port()
    return ServerSpec(
        name=name,
        argv=uvicorn_argv("bench.baselines.asyncpg_nested:create_app", port, factory=True),
        port=port,
        env={"BENCH_DSN": dsn},
    )


def sqlite_endpoint(name: str, path: Path) -> ServerSpec:
    port = free_port()
    return ServerSpec(
        name=name,
        argv=uvicorn_argv("bench.baselines.sqlite_nested:create_app", port, factory=True),
        port=port,
        env={"BENCH_SQLITE_PATH": str(path)},
    )


def raw_json(name: str) -> ServerSpec:
    port = free_port()
    return ServerSpec(
        name=name,
        argv=uvicorn_argv("bench.baselines.raw_json:app", port, factory=False),
        port=port,
    )


def ws_broadcaster(name: str) -> ServerSpec:
    port = free_port()
    return ServerSpec(
        name=name,
        argv=uvicorn_argv("bench.baselines.ws_broadcast:app", port, factory=False),
        port=port,
    )


def postgraphile(name: str, dsn: str, node: Path) -> ServerSpec:
    """PostGraphile 5 (amber preset) on `dsn`, run by Node.js 22 from the cache."""
    port = free_port()
    cli = POSTGRAPHILE_CACHE / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    return ServerSpec(
        name=name,
        argv=[
            str(node),
            str(cli),
            "--config",
            str(POSTGRAPHILE_CACHE / "graphile.config.mjs"),
            "--connection",
            dsn,
            "--schema",
            "public",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        port=port,
        env={"NODE_ENV": "production"},
        probe=Probe("POST", "/graphql", GRAPHQL_TYPENAME),
        cwd=POSTGRAPHILE_CACHE,
    )
