"""The migrations build exactly the tables the code declares: after `upgrade`, Alembic's
comparison of the database with the metadata finds nothing, on each backend. A column, index,
constraint or type added to a table without its migration (or the other way round) fails here."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.store import delivery_tables, journal_tables, ledger_tables  # noqa: F401
from gateway.store.engine import Database
from gateway.store.tables import metadata


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrated_database_matches_the_declared_tables(db: Database) -> None:
    async with db.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
