"""The bench's own data: a PostgreSQL database and a SQLite file, prepared from scratch.

PostgreSQL is filled through the gateway's own code (migrations with
`gateway.store.migrate.upgrade`, platforms and keys with `create_platform`, users with
`gateway.services.demo.populate`):

- platform "Bench 100": 70 natural and 30 legal users, each with a holder, its persons and
  2 funded EUR accounts (the platform every scenario reads and writes);
- platform "Bench 1000": 700 natural and 300 legal users, the same way (so the first
  platform's rows sit among ten times more rows of another tenant).

On PostgreSQL the database is `mps_bench` (created and dropped here, never another one), and
every server connects as its own role, so that SQL statements can be counted per server
(bench/sqlcount.py): `mps_bench_<server>` for measurements and `mps_bench_<server>_log`, whose
sessions log every statement, for counting. All of them inherit their rights from the group
role `mps_bench_rw`. Helpers of the pgbench baseline live in the schema `bench`, which
PostGraphile does not serve.

The SQLite file gets its schema from the same migrations, then a copy of every row of the
PostgreSQL database (table by table, through the gateway's table definitions): the same
platforms, users, ids, balances and API keys on both stores, in seconds instead of the
~40 s that `populate` takes on SQLite.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import sqlalchemy as sa

from bench.config import ADMIN_DSN, DATABASE_NAME
from gateway.domain.enums import Environment
from gateway.services.demo import populate
from gateway.services.platforms import create_platform
from gateway.store import delivery_tables, journal_tables, ledger_tables
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from gateway.store.tables import Account, metadata

# Every table the migrations create, registered in `metadata` for the copy.
_TABLE_MODULES = (delivery_tables, journal_tables, ledger_tables)

GROUP_ROLE = "mps_bench_rw"
SERVER_ROLES = ("gateway", "postgraphile", "asyncpg", "pgbench")
SMALL_USERS = (70, 30)  # natural, legal
LARGE_USERS = (700, 300)
ACCOUNTS_PER_USER = 2


@dataclass(frozen=True, slots=True)
class BenchPlatform:
    id: uuid.UUID
    api_key: str
    account_ids: list[str]  # its EUR accounts, in id order


@dataclass(frozen=True, slots=True)
class Store:
    """One prepared store: its SQLAlchemy URL (as the admin) and its two platforms."""

    url: str
    platform: BenchPlatform  # the 100-user platform
    large_platform_id: uuid.UUID
    large_api_key: str


@dataclass(frozen=True, slots=True)
class PostgresServer:
    host: str
    port: int
    database: str

    def url(self, role: str) -> str:
        """A SQLAlchemy URL connecting as `role` (trust authentication on loopback)."""
        return f"postgresql+asyncpg://{role}@{self.host}:{self.port}/{self.database}"

    def dsn(self, role: str) -> str:
        """A libpq / asyncpg / node-postgres connection string for `role`."""
        return f"postgresql://{role}@{self.host}:{self.port}/{self.database}"


def role_name(server: str, *, logged: bool = False) -> str:
    return f"mps_bench_{server}{'_log' if logged else ''}"


def postgres_server() -> PostgresServer:
    parts = urlsplit(ADMIN_DSN)
    return PostgresServer(parts.hostname or "127.0.0.1", parts.port or 5432, DATABASE_NAME)


async def _fill(db: Database) -> Store:
    await upgrade(db.engine)
    small = await create_platform(
        db, name="Bench 100", environment=Environment.SANDBOX, currencies=["EUR"]
    )
    large = await create_platform(
        db, name="Bench 1000", environment=Environment.SANDBOX, currencies=["EUR"]
    )
    for platform_id, (natural, legal), seed in (
        (small.platform.id, SMALL_USERS, 100),
        (large.platform.id, LARGE_USERS, 1000),
    ):
        await populate(
            db,
            platform_id=platform_id,
            natural_users=natural,
            legal_users=legal,
            accounts_per_user=ACCOUNTS_PER_USER,
            seed=seed,
        )
    async with db.session() as session:
        ids = await session.scalars(
            sa.select(Account.id)  # type: ignore[call-overload]
            .where(Account.platform_id == small.platform.id)
            .order_by(Account.id)
        )
        account_ids = [str(account_id) for account_id in ids]
    platform = BenchPlatform(small.platform.id, small.api_key, account_ids)
    return Store(
        url=str(db.engine.url),
        platform=platform,
        large_platform_id=large.platform.id,
        large_api_key=large.api_key,
    )


async def _with_database(url: str) -> Store:
    db = Database.from_url(url)
    try:
        return await _fill(db)
    finally:
        await db.dispose()


async def _admin_execute(*statements: str, database: str | None = None) -> None:
    dsn = ADMIN_DSN if database is None else postgres_server().dsn("postgres")
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _create_roles() -> None:
    roles = [
        role_name(server, logged=logged) for server in SERVER_ROLES for logged in (False, True)
    ]
    statements = [
        f"DO $$ BEGIN CREATE ROLE {GROUP_ROLE} NOLOGIN;"
        " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    ]
    for role in roles:
        statements.append(
            f"DO $$ BEGIN CREATE ROLE {role} LOGIN IN ROLE {GROUP_ROLE};"
            " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        setting = "SET log_statement = 'all'" if role.endswith("_log") else "RESET log_statement"
        statements.append(f"ALTER ROLE {role} {setting}")
    await _admin_execute(*statements)


def _grants() -> list[str]:
    return [
        f"GRANT CONNECT ON DATABASE {DATABASE_NAME} TO {GROUP_ROLE}",
        f"GRANT USAGE ON SCHEMA public TO {GROUP_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {GROUP_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {GROUP_ROLE}",
    ]


async def prepare_postgres() -> Store:
    """Create `mps_bench` anew (dropping the bench's previous one), fill it, grant the roles."""
    await drop_postgres()
    await _admin_execute(f"CREATE DATABASE {DATABASE_NAME}")
    await _create_roles()
    store = await _with_database(postgres_server().url("postgres"))
    await _admin_execute(*_grants(), database=DATABASE_NAME)
    return store


async def drop_postgres(*, roles: bool = False) -> None:
    """Drop the bench's database (only `mps_bench`), and with `roles` its roles."""
    await _admin_execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
    if roles:
        names = [role_name(s, logged=logged) for s in SERVER_ROLES for logged in (False, True)]
        await _admin_execute(*(f"DROP ROLE IF EXISTS {name}" for name in [*names, GROUP_ROLE]))


async def _copy_rows(source: Database, target: Database) -> int:
    copied = 0
    async with source.engine.connect() as reader, target.engine.begin() as writer:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = (await reader.execute(sa.select(table).order_by(*order))).mappings().all()
            if rows:
                await writer.execute(table.insert(), [dict(row) for row in rows])
                copied += len(rows)
    return copied


async def prepare_sqlite(path: Path, postgres: Store) -> Store:
    """A new SQLite file at `path`: the migrations, then a copy of the PostgreSQL rows."""
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    source = Database.from_url(postgres.url)
    target = Database.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(target.engine)
        await _copy_rows(source, target)
    finally:
        await source.dispose()
        await target.dispose()
    return Store(
        url=f"sqlite+aiosqlite:///{path}",
        platform=postgres.platform,
        large_platform_id=postgres.large_platform_id,
        large_api_key=postgres.large_api_key,
    )


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its WAL folded in), through the backup API."""
    for stale in target.parent.glob(target.name + "*"):
        stale.unlink()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    shutil.copymode(source, target)
