"""One row of a platform by its id: the lookup every use case starts from
(gateway.services.lookups turns a missing row into NotFound).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


async def row_in_platform(
    session: AsyncSession,
    model: type[M],
    *,
    platform_id: uuid.UUID,
    key: uuid.UUID,
    lock: bool = False,
) -> M | None:
    """The row of `model` with that id in the platform (row-locked if asked), or None."""
    table: Any = model
    statement = sa.select(table).where(table.platform_id == platform_id, table.id == key)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    found: M | None = (await session.scalars(statement)).first()
    return found
