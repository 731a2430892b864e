"""Platforms found by what an operator names them by."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import Environment
from gateway.store.tables import Platform


async def platform_by_name(
    session: AsyncSession, *, name: str, environment: Environment
) -> Platform | None:
    """The oldest-id platform with that name in that environment (names are not unique)."""
    statement = (
        sa.select(Platform)
        .where(col(Platform.name) == name)
        .where(col(Platform.environment) == environment)
        .order_by(col(Platform.id))
    )
    return (await session.scalars(statement)).first()
