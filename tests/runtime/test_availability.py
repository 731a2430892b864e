"""A database out of reach is a retryable answer (HTTP 503, `SERVICE_UNAVAILABLE`,
`Retry-After`, the request id), never a plain-text 500 or a closed connection; `/readyz` says
whether the instance can serve, `/healthz` only that it lives."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.enums import Environment
from gateway.services.platforms import create_platform
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    _asyncpg_dsn,
    _create_postgres_database,
    _drop_postgres_database,
)
from tests.processes import free_port, gateway_process
from tests.support.documents import CREATE_USER
from tests.support.inputs import natural_person, user_input


def _assert_unavailable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/")
    assert response.headers["retry-after"] == "1"
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "idempotency key" in error["message"]
    return error


@pytest.fixture
async def unreachable(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose PostgreSQL server does not exist (nothing listens on its port)."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(settings.model_copy(update={"database_url": url, "migrate_on_start": False}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def test_a_database_out_of_reach_is_a_retryable_503_even_while_authenticating(
    unreachable: httpx.AsyncClient,
) -> None:
    headers = {"Authorization": "Bearer mps_test_abcdefghijkl_secret"}
    response = await unreachable.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    _assert_unavailable(response)
    assert (await unreachable.get("/healthz")).status_code == 200  # alive
    ready = await unreachable.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unreachable")


async def test_a_running_server_keeps_the_connection_open(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MPS_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere",
        "MPS_MIGRATE_ON_START": "false",
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
    }
    env.pop("MPS_REDIS_URL", None)
    headers = {"Authorization": "Bearer mps_test_abcdefghijkl_secret"}
    with gateway_process(env, tmp_path) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            for _ in range(2):  # the second on the same connection
                response = await http.post(
                    "/graphql", json={"query": "{ __typename }"}, headers=headers
                )
                _assert_unavailable(response)
                assert response.headers.get("connection", "").lower() != "close"


async def test_a_database_that_stops_accepting_connections_mid_life(settings: Settings) -> None:
    """A key verified before the outage (the credential cache) reaches execution: a read and a
    mutation are both a retryable 503, and everything serves again when the database does."""
    name = await _create_postgres_database()
    url = make_database_url(settings, name)
    db = Database.from_url(url)
    await upgrade(db.engine)
    created = await create_platform(
        db, name="Outage", environment=Environment.SANDBOX, currencies=["EUR"]
    )
    await db.dispose()
    headers = {"Authorization": f"Bearer {created.api_key}"}
    update = {"database_url": url, "credential_cache_ttl_s": 600, "migrate_on_start": False}
    app = create_app(settings.model_copy(update=update))
    admin = await asyncpg.connect(_asyncpg_dsn(url, "postgres"))
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
                read = {"query": "{ platform { id users(first: 1) { totalCount } } }"}
                assert (await http.post("/graphql", json=read, headers=headers)).status_code == 200
                assert (await http.get("/readyz")).json()["status"] == "ready"
                await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    name,
                )
                _assert_unavailable(await http.post("/graphql", json=read, headers=headers))
                input = user_input({"natural": natural_person()}, idempotencyKey=uuid.uuid4().hex)
                write = {"query": CREATE_USER, "variables": {"input": input}}
                _assert_unavailable(await http.post("/graphql", json=write, headers=headers))
                assert (await http.get("/readyz")).status_code == 503
                await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
                assert (await http.post("/graphql", json=read, headers=headers)).status_code == 200
                assert (await http.get("/readyz")).status_code == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()
        await _drop_postgres_database(name)


def make_database_url(settings: Settings, name: str) -> str:
    """A database of the PostgreSQL server the tests use (not the session's SQLite)."""
    base = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://", 1)
    return base.rsplit("/", 1)[0] + f"/{name}"


async def test_readiness_checks_the_database_the_migrations_and_redis(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
    }
    never_migrated = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    for update, check, found in (
        ({"database_url": never_migrated, "migrate_on_start": False}, "migrations", "not at"),
        ({"redis_url": redis_url}, "redis", "ok"),
        ({"redis_url": dead_redis}, "redis", "unreachable"),
    ):
        app = create_app(settings.model_copy(update=update))
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
                response = await http.get("/readyz")
        assert response.json()["checks"][check].startswith(found), response.text
        assert response.status_code == (200 if found == "ok" else 503)
