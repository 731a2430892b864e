"""The state every scenario shares: the profile, the data, the running servers, the log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import specs
from bench.config import Profile
from bench.data import PostgresServer, Store, role_name
from bench.servers import Server, Servers, ServerSpec
from bench.sqlcount import ServerLog
from bench.tools import say


@dataclass(frozen=True, slots=True)
class Viewer:
    """The bench user a frontend acts for (bench/scenarios/viewer_read.py): a user token,
    issued once per run through the gateway's `createUserToken`."""

    user_id: str
    token: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


@dataclass
class Bench:
    profile: Profile
    work_dir: Path
    servers: Servers
    pg: PostgresServer
    postgres: Store
    sqlite: Store
    node: Path
    log: ServerLog | None  # None: statements cannot be counted here (see sqlcount)
    log_problem: str = ""
    viewer: Viewer | None = None  # prepared on first use (bench/scenarios/viewer_read.py)
    running: dict[str, Server] = field(default_factory=dict)

    @property
    def platform_id(self) -> uuid.UUID:
        return self.postgres.platform.id

    @property
    def authorization(self) -> str:
        return f"Bearer {self.postgres.platform.api_key}"

    @property
    def large_authorization(self) -> str:
        """The API key of "Bench 1000", the 1,000-user platform."""
        return f"Bearer {self.postgres.large_api_key}"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.sqlite.url.removeprefix("sqlite+aiosqlite:///"))

    def server(self, name: str) -> Server:
        """The named long-lived server, started on first use (see `_SPECS`)."""
        if name not in self.running:
            say(f"starting {name}")
            self.running[name] = self.servers.start(_SPECS[name](self))
        return self.running[name]

    def stop(self, name: str) -> None:
        server = self.running.pop(name, None)
        if server is not None:
            self.servers.stop(server)


def _gateway_pg(bench: Bench) -> ServerSpec:
    return specs.gateway("gateway-pg", bench.pg.url(role_name("gateway")), bench.work_dir)


SERVE_WORKERS = 2  # the `serve --workers` line of the PostgreSQL transfers


def _gateway_pg_workers(bench: Bench) -> ServerSpec:
    url = bench.pg.url(role_name("gateway"))
    return specs.gateway_serve("gateway-pg-workers", url, bench.work_dir, workers=SERVE_WORKERS)


def _gateway_sqlite(bench: Bench) -> ServerSpec:
    return specs.gateway("gateway-sqlite", bench.sqlite.url, bench.work_dir)


def _postgraphile(bench: Bench) -> ServerSpec:
    return specs.postgraphile("postgraphile", bench.pg.dsn(role_name("postgraphile")), bench.node)


def _asyncpg(bench: Bench) -> ServerSpec:
    return specs.asyncpg_endpoint("asyncpg-endpoint", bench.pg.dsn(role_name("asyncpg")))


def _sqlite_endpoint(bench: Bench) -> ServerSpec:
    return specs.sqlite_endpoint("sqlite-endpoint", bench.sqlite_path)


_SPECS: dict[str, Callable[[Bench], ServerSpec]] = {
    "gateway-pg": _gateway_pg,
    "gateway-pg-workers": _gateway_pg_workers,
    "gateway-sqlite": _gateway_sqlite,
    "postgraphile": _postgraphile,
    "asyncpg-endpoint": _asyncpg,
    "sqlite-endpoint": _sqlite_endpoint,
    "raw-json": lambda _bench: specs.raw_json("raw-json"),
    "raw-websocket": lambda _bench: specs.ws_broadcaster("raw-websocket"),
}
