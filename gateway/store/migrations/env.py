"""Alembic environment. Run migrations with `mps-gateway db upgrade` (or `serve`, which applies
them on start); `alembic -c gateway/store/migrations/alembic.ini ...` works too for authoring
new revisions, reading MPS_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from gateway.store import delivery_tables, journal_tables, ledger_tables  # noqa: F401 - tables
from gateway.store.engine import create_engine
from gateway.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = create_engine(os.environ.get("MPS_DATABASE_URL", "sqlite+aiosqlite:///mps-gateway.db"))
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


shared_connection = config.attributes.get("connection")
if shared_connection is not None:
    _run(shared_connection)
else:
    asyncio.run(_run_with_own_engine())
