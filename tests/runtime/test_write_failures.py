"""A write the database cannot take right now (a full disk, read-only storage, a connection
lost while the mutation runs) is a retryable answer: HTTP 503, `Retry-After`,
`SERVICE_UNAVAILABLE` with the request id, as JSON. Its message never says whether the write
was applied (it may have committed): the retry with the same idempotency key applies it at
most once, which these tests check on the ledger.

Each failure is provoked for real: SQLite's page limit (SQLITE_FULL) and a read-only open,
PostgreSQL's `default_transaction_read_only` (SQLSTATE 25006) and `pg_terminate_backend` of
the gateway's connection while it waits on a lock another connection holds, on a database of
the test's own (others run tests on the same server).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.enums import Environment
from gateway.services.platforms import create_platform
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.conftest import PlatformHandle, _asyncpg_dsn
from tests.processes import gateway_process
from tests.support.databases import own_postgres_database
from tests.support.documents import CREATE_TRANSFER, CREATE_USER
from tests.support.inputs import natural_person, transfer_input, user_input
from tests.support.payments import Funded, funded_account

USERS_TO_FILL_MAX = 300  # a few dozen fill the page budget below
WAITS_MAX = 1_000  # 10 s at most for the mutation to reach the lock
READ = {"query": "{ platform { id } }"}
# The transfer's payload also reads its reversals: a table the transfer's own write never
# touches, so a lock on it stops the request after its commit, before its answer.
TRANSFER_AND_REVERSALS = """mutation ($input: CreateTransferInput!) {
  createTransfer(input: $input) {
    __typename ... on CreateTransferSuccess { idempotentReplay transfer { id reversals { id } } }
  }
}"""


def assert_unavailable(response: httpx.Response) -> dict[str, Any]:
    """A retryable 503 that claims neither success nor failure of a write."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["retry-after"] == "1"
    body: dict[str, Any] = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    message = error["message"].lower()
    assert "retry it with the same idempotency key" in message
    assert "may or may not have been applied" in message
    assert body.get("data") is None
    return body


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        redis_url=None,
        migrate_on_start=False,
        documents_dir=tmp_path / "documents",
        gc_tuning=False,
        document_expiry=False,
        webhook_delivery=False,
        credential_cache_ttl_s=0,
        rate_limit_requests=100_000,
    )


@asynccontextmanager
async def serving(
    settings: Settings, db: Database | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def new_platform(url: str) -> PlatformHandle:
    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
        created = await create_platform(
            db, name="Faults", environment=Environment.SANDBOX, currencies=["EUR"]
        )
    finally:
        await db.dispose()
    return PlatformHandle(id=created.platform.id, key=created.api_key)


def create_user(key: str) -> dict[str, Any]:
    input = user_input({"natural": natural_person()}, idempotencyKey=key)
    return {"query": CREATE_USER, "variables": {"input": input}}


async def test_a_full_disk_during_a_mutation_is_retryable_and_the_retry_applies_once(
    tmp_path: Path,
) -> None:
    """SQLite's page budget (`PRAGMA max_page_count`, per connection) stands in for a disk that
    fills up: users are created until a write needs a page beyond it (SQLITE_FULL)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'full.db'}"
    platform = await new_platform(url)
    db = Database.from_url(url)
    disk = {"full": True}

    def page_budget(dbapi: Any, _record: Any) -> None:
        if disk["full"]:
            cursor = dbapi.cursor()
            cursor.execute("PRAGMA page_count")
            (pages,) = cursor.fetchone()
            cursor.execute(f"PRAGMA max_page_count={pages}")
            cursor.close()

    sa.event.listen(db.write_engine.sync_engine, "connect", page_budget)
    try:
        async with serving(settings_for(url, tmp_path), db) as http:
            for attempt in range(USERS_TO_FILL_MAX):
                request = create_user(f"fill-{attempt}")
                response = await http.post("/graphql", json=request, headers=platform.headers)
                if response.status_code != 200:
                    break
                assert response.json()["data"]["createUser"]["__typename"] == "CreateUserSuccess"
            assert_unavailable(response)
            email = request["variables"]["input"]["email"]
            assert await users_named(db, email) == 0  # rolled back: nothing half-written
            assert (
                await http.post("/graphql", json=READ, headers=platform.headers)
            ).status_code == 200

            disk["full"] = False  # space again: new connections have no budget
            await db.write_engine.dispose()
            retried = await http.post("/graphql", json=request, headers=platform.headers)
            assert retried.json()["data"]["createUser"]["__typename"] == "CreateUserSuccess"
            assert await users_named(db, email) == 1
    finally:
        await db.dispose()


async def users_named(db: Database, email: str) -> int:
    async with db.reading() as connection:
        found = await connection.execute(
            sa.text("SELECT count(*) FROM users WHERE email = :email"), {"email": email}
        )
        return int(found.scalar_one())


async def test_read_only_storage_serves_reads_and_refuses_writes_as_retryable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "read-only.db"
    platform = await new_platform(f"sqlite+aiosqlite:///{path}")
    read_only = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    request = create_user("read-only-1")
    async with serving(settings_for(read_only, tmp_path)) as http:
        assert (await http.post("/graphql", json=READ, headers=platform.headers)).status_code == 200
        assert_unavailable(await http.post("/graphql", json=request, headers=platform.headers))
    writable = f"sqlite+aiosqlite:///{path}"
    async with serving(settings_for(writable, tmp_path)) as http:  # the storage is back
        retried = await http.post("/graphql", json=request, headers=platform.headers)
        assert retried.json()["data"]["createUser"]["__typename"] == "CreateUserSuccess"


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A PostgreSQL database of this test's own, and an administrator's connection to it."""
    async with own_postgres_database() as found:
        yield found


async def test_a_read_only_postgresql_answers_a_retryable_503_on_a_kept_alive_connection(
    own_postgres: tuple[str, asyncpg.Connection], tmp_path: Path
) -> None:
    url, admin = own_postgres
    platform = await new_platform(url)
    name = url.rsplit("/", 1)[1]
    await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    env = {
        **os.environ,
        "MPS_DATABASE_URL": url,
        "MPS_MIGRATE_ON_START": "false",
        "MPS_WEBHOOK_DELIVERY": "false",
        "MPS_DOCUMENT_EXPIRY": "false",
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
    }
    env.pop("MPS_REDIS_URL", None)
    with gateway_process(env, tmp_path) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            for attempt in range(2):  # the second on the same connection
                request = create_user(f"read-only-{attempt}")
                response = await http.post("/graphql", json=request, headers=platform.headers)
                assert_unavailable(response)
                assert response.headers.get("connection", "").lower() != "close"
            read = await http.post("/graphql", json=READ, headers=platform.headers)
            assert read.status_code == 200, read.text


async def terminate_when_waiting(admin: asyncpg.Connection, url: str, *, besides: int) -> None:
    """End the gateway's connection once it waits for a lock (the first backend of the
    database that does, other than the lock holder's `besides`)."""
    name = url.rsplit("/", 1)[1]
    for _ in range(WAITS_MAX):
        waiting = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
            " AND pid <> $2 AND pid <> pg_backend_pid()",
            name,
            besides,
        )
        if waiting is not None:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", waiting)
            return
        await asyncio.sleep(0.01)  # bounded polling
    raise AssertionError("the mutation never waited for the lock")


async def balances(http: httpx.AsyncClient, platform: PlatformHandle, *ids: str) -> list[int]:
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Account { balance { amount } } } }"
    response = await http.post(
        "/graphql", json={"query": query, "variables": {"ids": list(ids)}}, headers=platform.headers
    )
    return [node["balance"]["amount"] for node in response.json()["data"]["nodes"]]


async def lost_during(
    http: httpx.AsyncClient,
    platform: PlatformHandle,
    url: str,
    admin: asyncpg.Connection,
    *,
    request: dict[str, Any],
    lock: str,
    args: tuple[Any, ...] = (),
) -> httpx.Response:
    """Send `request` while another connection holds `lock`, and terminate the gateway's
    connection that waits for it; the answer."""
    holder = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        async with holder.transaction():
            await holder.execute(lock, *args)
            sent = asyncio.create_task(
                http.post("/graphql", json=request, headers=platform.headers)
            )
            await terminate_when_waiting(admin, url, besides=holder.get_server_pid())
            return await sent
    finally:
        await holder.close()


@pytest.fixture
async def ledger(
    own_postgres: tuple[str, asyncpg.Connection], tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, PlatformHandle, Funded, Funded]]:
    url, _admin = own_postgres
    platform = await new_platform(url)
    async with serving(settings_for(url, tmp_path)) as http:
        payer = await funded_account(http, platform, 1_000, validated=True)
        payee = await funded_account(http, platform, 0, validated=True)
        yield http, platform, payer, payee


async def test_a_connection_lost_before_the_commit_and_the_retry_moves_the_money_once(
    own_postgres: tuple[str, asyncpg.Connection],
    ledger: tuple[httpx.AsyncClient, PlatformHandle, Funded, Funded],
) -> None:
    url, admin = own_postgres
    http, platform, payer, payee = ledger
    input = transfer_input(payer.account_id, payee.account_id, 300)
    request = {"query": CREATE_TRANSFER, "variables": {"input": input}}
    lock = "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE"  # the transfer waits for the row
    answer = await lost_during(
        http, platform, url, admin, request=request, lock=lock, args=(uuid.UUID(payer.account_id),)
    )
    assert_unavailable(answer)
    assert await balances(http, platform, payer.account_id, payee.account_id) == [1_000, 0]

    retried = (await http.post("/graphql", json=request, headers=platform.headers)).json()
    payload = retried["data"]["createTransfer"]
    assert payload["__typename"] == "CreateTransferSuccess", retried
    assert payload["idempotentReplay"] is False  # it had not been applied
    assert await balances(http, platform, payer.account_id, payee.account_id) == [700, 300]


async def test_a_connection_lost_after_the_commit_and_the_retry_replays_it(
    own_postgres: tuple[str, asyncpg.Connection],
    ledger: tuple[httpx.AsyncClient, PlatformHandle, Funded, Funded],
) -> None:
    """The transfer committed, then its answer's read lost its connection: the client is told
    what it is told when nothing committed, and the retry replays instead of moving twice."""
    url, admin = own_postgres
    http, platform, payer, payee = ledger
    input = transfer_input(payer.account_id, payee.account_id, 300)
    request = {"query": TRANSFER_AND_REVERSALS, "variables": {"input": input}}
    lock = "LOCK TABLE transfer_reversals IN ACCESS EXCLUSIVE MODE"
    answer = await lost_during(http, platform, url, admin, request=request, lock=lock)
    assert_unavailable(answer)
    assert await balances(http, platform, payer.account_id, payee.account_id) == [700, 300]

    retried = (await http.post("/graphql", json=request, headers=platform.headers)).json()
    payload = retried["data"]["createTransfer"]
    assert payload["__typename"] == "CreateTransferSuccess", retried
    assert payload["idempotentReplay"] is True
    assert await balances(http, platform, payer.account_id, payee.account_id) == [700, 300]
