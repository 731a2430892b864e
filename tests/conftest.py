"""Shared fixtures: real databases (SQLite file and PostgreSQL), the ASGI app, platforms.

Every test that takes `db` (or anything built on it) runs once per backend. PostgreSQL comes
from MPS_TEST_POSTGRES_URL (default: the local server, user postgres); each test session
creates its own database and drops it at the end. When PostgreSQL cannot be reached the
PostgreSQL half is skipped locally, and fails when MPS_TEST_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg
import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.domain.enums import Environment
from gateway.services.platforms import create_platform
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.support import StatementCounter
from tests.support.payments import Funded, funded_account
from tests.support.platforms import PlatformHandle as PlatformHandle
from tests.support.platforms import make_platform as make_platform

POSTGRES_ADMIN_URL = os.environ.get(
    "MPS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_SERVICES = os.environ.get("MPS_TEST_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("MPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


T = TypeVar("T")


def _unavailable(reason: str) -> NoReturn:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MPS_TEST_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis (MPS_TEST_REDIS_URL): skipped without one, failed in CI."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unavailable(f"Redis unreachable at {REDIS_URL}: {error}")
    return REDIS_URL


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _create_postgres_database() -> str:
    name = f"mps_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _run_apart(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on its own loop in a thread (sync fixtures may sit under async ones)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    try:
        name = _run_apart(_create_postgres_database)
    except (OSError, asyncpg.PostgresError) as error:
        _unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}")
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _run_apart(lambda: _drop_postgres_database(name))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "gateway.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A migrated database of each backend, shared by the session (tests isolate by platform)."""
    url = request.getfixturevalue(f"{request.param}_url")
    database = Database.from_url(url)
    await upgrade(database.engine)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def settings(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = db.engine.url.render_as_string(hide_password=False)
    documents = tmp_path_factory.mktemp("documents")
    return Settings(
        database_url=url,
        migrate_on_start=True,
        documents_dir=documents,
        gc_tuning=False,  # many apps in one process: nothing to freeze for good
        # The expiry sweep reads at start: off, so that it never lands among the statements a
        # test counts; tests/kyc/test_expiry.py turns it on where it is the subject.
        document_expiry=False,
        retention=False,  # the same for the purge: tests/store/test_retention.py runs it
        rate_limit_requests=100_000,  # tests/ledger's storms send thousands of requests per key
        # Every request reads its credential: a revocation made by another process (the CLI)
        # applies at once on SQLite too; tests/tokens/test_credential_cache*.py turn it on.
        credential_cache_ttl_s=0,
    )


@pytest.fixture
async def client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real ASGI app (lifespan included) on `db`."""
    app = create_app(settings, db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


@pytest.fixture
async def platform(db: Database) -> PlatformHandle:
    """A sandbox platform with 8 natural and 3 legal users, two EUR accounts each."""
    return await make_platform(db, natural_users=8, legal_users=3)


@pytest.fixture
async def sandbox(db: Database) -> PlatformHandle:
    """An empty SANDBOX platform allowing EUR only."""
    return await make_platform(db)


@pytest.fixture
async def other_sandbox(db: Database) -> PlatformHandle:
    """A second empty SANDBOX platform: nothing of `sandbox` may be visible from it."""
    return await make_platform(db)


@pytest.fixture
async def production(db: Database) -> PlatformHandle:
    """An empty PRODUCTION platform: simulate* is forbidden there."""
    return await make_platform(db, environment=Environment.PRODUCTION)


@pytest.fixture
async def eur_usd(db: Database) -> PlatformHandle:
    """A SANDBOX platform allowing EUR and USD, for currency mismatches."""
    created = await create_platform(
        db,
        name=f"EUR+USD {uuid.uuid4().hex[:8]}",
        environment=Environment.SANDBOX,
        currencies=["EUR", "USD"],
    )
    return PlatformHandle(id=created.platform.id, key=created.api_key)


@pytest.fixture
def statements(db: Database) -> Iterator[StatementCounter]:
    with StatementCounter(db.engine, db.read_engine) as counter:
        yield counter


@pytest.fixture
async def pair(client: httpx.AsyncClient, sandbox: PlatformHandle) -> tuple[Funded, Funded]:
    """Two validated users of `sandbox`: the first with 1 000 cents, the second with none."""
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0, validated=True)
    return payer, payee
