"""Credential reads and writes: the rows behind a user token, the platform's signing secret."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.column_types import UTCDateTime
from gateway.store.tables import ApiKey, Platform, User


async def token_rows(
    session: AsyncSession, *, platform_id: uuid.UUID, user_id: uuid.UUID, api_key_id: uuid.UUID
) -> tuple[Platform, ApiKey, User] | None:
    """The platform, issuing key and user a token names, in one statement; None if any is
    missing or they do not belong together."""
    statement = (
        sa.select(Platform, ApiKey, User)
        .join(ApiKey, col(ApiKey.platform_id) == col(Platform.id))
        .join(User, col(User.platform_id) == col(Platform.id))
        .where(
            col(Platform.id) == platform_id,
            col(ApiKey.id) == api_key_id,
            col(User.id) == user_id,
        )
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1], row[2])


async def user_token_secret(session: AsyncSession, *, platform_id: uuid.UUID, new: str) -> str:
    """The platform's token-signing secret, set to `new` if it has none yet (race-free)."""
    await session.execute(
        sa.update(Platform)
        .where(col(Platform.id) == platform_id, col(Platform.user_token_secret).is_(None))
        .values(user_token_secret=new)
    )
    secret = await session.scalar(
        sa.select(col(Platform.user_token_secret)).where(col(Platform.id) == platform_id)
    )
    assert secret is not None
    return secret


async def revoke_user_tokens(
    session: AsyncSession, *, platform_id: uuid.UUID, user_id: uuid.UUID, at: dt.datetime
) -> None:
    await session.execute(
        sa.update(User)
        .where(col(User.platform_id) == platform_id, col(User.id) == user_id)
        .values(tokens_valid_after=at)
    )


async def revoke_api_key(
    session: AsyncSession, *, api_key_id: uuid.UUID, at: dt.datetime
) -> dt.datetime | None:
    """Set the key's `revoked_at` to `at` unless it is set already; returns the key's
    `revoked_at` afterwards (`at` when this call revoked it), None when there is no such key."""
    statement = (
        sa.update(ApiKey)
        .where(col(ApiKey.id) == api_key_id)
        .values(revoked_at=sa.func.coalesce(col(ApiKey.revoked_at), sa.literal(at, UTCDateTime())))
        .returning(col(ApiKey.revoked_at))
    )
    return (await session.execute(statement)).scalar_one_or_none()
