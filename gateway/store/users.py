"""Users and their persons inside a write transaction: added under the platform's unique
e-mail and login, or refused by them.

The database enforces both uniqueness rules (see store/tables.py); a race between two
transactions that both checked first ends here, with the field the constraint guards.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.tables import Person, User


async def add_user(session: AsyncSession, *, user: User, persons: Sequence[Person]) -> str | None:
    """Insert the user, then its persons, in a savepoint; None when done, else the field
    ("email" or "login") whose unique constraint refused them (nothing is kept then)."""
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
            session.add_all(persons)
            await session.flush()
    except IntegrityError as error:
        return "login" if "login" in str(error.orig).lower() else "email"
    return None


async def has_users(session: AsyncSession, *, platform_id: uuid.UUID) -> bool:
    statement = sa.select(col(User.id)).where(col(User.platform_id) == platform_id).limit(1)
    return (await session.scalars(statement)).first() is not None
