"""A PostgreSQL database of a test's own, for tests that alter, lock or cut the connections of
their database (others run tests on the same server at the same time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from tests.conftest import (
    POSTGRES_ADMIN_URL,
    _asyncpg_dsn,
    _create_postgres_database,
    _drop_postgres_database,
)


@asynccontextmanager
async def own_postgres_database() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """Its SQLAlchemy URL and an administrator's connection to it; dropped afterwards."""
    name = await _create_postgres_database()
    base = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://", 1)
    url = base.rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        yield url, admin
    finally:
        await admin.close()
        await _drop_postgres_database(name)
