"""What the store's hand-built statements share: bound parameters typed as their columns, the
session's dialect, UPDATEs that leave the session's objects alone, and multi-row INSERTs.

The statements of every money movement are built once (functools.cache), with bound
parameters: building the expression costs more CPU than the database takes to run it.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain.ids import new_id
from gateway.store.records import row_values

# The guarded UPDATEs of the store change rows the session may hold; the callers set what they
# read back (set_committed_value) or read it with SQL, so the ORM need not find and refresh the
# matching objects in Python on every statement.
UNSYNCED = {"synchronize_session": False}


def bind(model: Any, column: str, name: str | None = None) -> Any:
    """A bound parameter `p_<name>` typed as `model`'s column (UUIDs, JSON and datetimes
    convert); named apart from the columns, which an UPDATE reserves for itself."""
    return sa.bindparam(f"p_{name or column}", type_=model.__table__.c[column].type)


def dialect_of(session: AsyncSession) -> str:
    engine = session.bind
    assert engine is not None
    return engine.dialect.name


async def insert_rows(session: AsyncSession, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts of columns of `model`'s table, the same keys in each) in one
    statement (per 1,000 rows): a single-row INSERT built once per shape, whose RETURNING makes
    SQLAlchemy send many rows as one multi-row INSERT ("insertmanyvalues"; a multi-row INSERT
    built as such would be compiled again on every call: SQLAlchemy does not cache those)."""
    if not rows:
        return
    parameters = [{f"p_{name}": value for name, value in row.items()} for row in rows]
    await session.execute(_insert_row(model, tuple(rows[0])), parameters)


@functools.cache
def _insert_row(model: Any, names: tuple[str, ...]) -> Any:
    table = model.__table__
    values = {name: bind(model, name) for name in names}
    return sa.insert(table).values(values).returning(table.c.id)


async def insert_row(session: AsyncSession, row: Any) -> None:
    """Insert a model's object as a row, in one statement built once (the object stays out of
    the session: no unit of work)."""
    await insert_rows(session, type(row), [row_values(row)])


async def add_to_platform_balance(
    session: AsyncSession,
    model: Any,
    *,
    platform_id: uuid.UUID,
    currency: str,
    delta: int,
    now: dt.datetime,
) -> tuple[uuid.UUID, int]:
    """Add `delta` to the balance of the platform's `model` account (its settlement or its fee
    account) for `currency`, created on first use, in one statement (an upsert, which row-locks
    it); its id and new balance."""
    parameters = {
        "p_id": new_id(),
        "p_platform_id": platform_id,
        "p_currency": currency,
        "p_balance": delta,
        "p_created_at": now,
    }
    moved = await session.execute(_add_to_platform_balance(model, dialect_of(session)), parameters)
    account_id, balance = moved.one()
    return account_id, balance


@functools.cache
def _add_to_platform_balance(model: Any, dialect_name: str) -> Any:
    table: Any = model.__table__
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    columns = ("id", "platform_id", "currency", "balance", "created_at")
    statement = dialect.insert(table).values({name: bind(model, name) for name in columns})
    return statement.on_conflict_do_update(
        index_elements=[table.c.platform_id, table.c.currency],
        set_={"balance": table.c.balance + statement.excluded.balance},
    ).returning(table.c.id, table.c.balance)
