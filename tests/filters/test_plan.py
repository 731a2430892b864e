"""PostgreSQL's plan for a filtered, ordered page of an account's entries uses the index made
for it, not a scan of the table.

The database is this test's own (so its statistics are those of the rows seeded here): 120
accounts with 400 entries each (48 000 rows), ANALYZEd. The statement is the one the gateway
sends for the GraphQL read, captured on its way to the driver with its parameters, and
EXPLAINed as it is: no planner setting is changed (no `enable_seqscan = off`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    _create_postgres_database,
    _drop_postgres_database,
    _unavailable,
)
from tests.support import data
from tests.support.platforms import PlatformHandle, make_platform

INDEX = "ix_ledger_entries_account_created"
ENTRIES_PER_ACCOUNT = 400  # 200 movements in and out, one an hour from 2026-01-01
SEED = """
INSERT INTO ledger_entries (id, platform_id, account_id, currency, kind, amount,
                            balance_after, operation_type, operation_id, created_at)
SELECT gen_random_uuid(), a.platform_id, a.id, 'EUR',
       CASE WHEN leg = 0 THEN 'TRANSFER_IN' ELSE 'TRANSFER_OUT' END,
       CASE WHEN leg = 0 THEN n ELSE -n END,
       CASE WHEN leg = 0 THEN n ELSE 0 END,
       'Transfer', md5(a.id::text || n)::uuid,
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 hour' + leg * interval '1 second'
FROM accounts a, generate_series(1, :movements) AS n, (VALUES (0), (1)) AS legs(leg)
WHERE a.platform_id = :platform_id
"""
PAGE = """
query ($id: ID!) {
  node(id: $id) { ... on Account {
    entries(first: 10,
            filter: {kind: TRANSFER_OUT,
                     createdAt: {from: "2026-01-03T00:00:00Z", to: "2026-01-05T00:00:00Z"}},
            orderBy: {direction: DESC}) {
      totalCount nodes { id amount { amount } createdAt }
    }
  } }
}
"""


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[tuple[Database, Settings, PlatformHandle]]:
    try:
        name = await _create_postgres_database()
    except (OSError, asyncpg.PostgresError) as error:
        _unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
        platform = await make_platform(db, natural_users=60, accounts_per_user=2)
        async with db.engine.begin() as connection:
            await connection.execute(
                sa.text(SEED),
                {"movements": ENTRIES_PER_ACCOUNT // 2, "platform_id": platform.id},
            )
            await connection.execute(sa.text("ANALYZE ledger_entries"))
        settings = Settings(
            database_url=url,
            documents_dir=tmp_path,
            gc_tuning=False,
            document_expiry=False,
            credential_cache_ttl_s=0,
        )
        yield db, settings, platform
    finally:
        await db.dispose()
        await _drop_postgres_database(name)


async def _any_account(db: Database, platform: PlatformHandle) -> uuid.UUID:
    async with db.engine.connect() as connection:
        found = await connection.scalar(
            sa.text("SELECT id FROM accounts WHERE platform_id = :p ORDER BY id LIMIT 1"),
            {"p": platform.id},
        )
    assert isinstance(found, uuid.UUID)
    return found


async def test_a_filtered_ordered_entries_page_is_an_index_scan_on_postgresql(
    seeded: tuple[Database, Settings, PlatformHandle],
) -> None:
    db, settings, platform = seeded
    account_id = await _any_account(db, platform)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM ledger_entries" in statement and "ledger_entries.created_at >=" in statement:
            sent.append((statement, parameters))

    engines = {db.engine.sync_engine, db.read_engine.sync_engine}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        app = create_app(settings, db=db)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                found = await data(client, PAGE, {"id": str(account_id)}, headers=platform.headers)
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", capture)

    entries = found["node"]["entries"]
    assert entries["totalCount"] == 48  # two days of hourly debits
    assert [node["createdAt"][:13] for node in entries["nodes"][:2]] == [
        "2026-01-04T23",
        "2026-01-04T22",
    ]
    [(statement, parameters)] = sent
    async with db.engine.connect() as connection:
        rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        plan = "\n".join(row[0] for row in rows)
    print(f"\n{plan}")  # the README quotes it
    lines = plan.splitlines()
    # An index scan on it, plain or as a bitmap (PostgreSQL picks by the rows it expects).
    [scan] = [n for n, line in enumerate(lines) if INDEX in line]
    assert f"Index Scan using {INDEX}" in lines[scan] or f"Index Scan on {INDEX}" in lines[scan]
    assert "Seq Scan" not in plan, plan
    condition = lines[scan + 1]
    assert "Index Cond:" in condition, plan
    assert "account_id = ANY" in condition, plan
    assert "created_at >=" in condition, plan
    assert "created_at <" in condition, plan
