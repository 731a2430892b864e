"""What the store's hand-built statements share: bound parameters typed as their columns, the
session's dialect, and UPDATEs that leave the session's objects alone.

The statements of every money movement are built once (functools.cache), with bound
parameters: building the expression costs more CPU than the database takes to run it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

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
