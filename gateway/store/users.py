"""Users and their persons inside a write transaction: added under the platform's unique
e-mail and login, or refused by them.

The database enforces both uniqueness rules (see store/tables.py); a race between two
transactions that both checked first ends here, with the field the constraint guards.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.tables import KycDocument, Person, User


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


async def users_by_ids(
    session: AsyncSession, *, platform_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, User]:
    parameters = {"p_platform_id": platform_id, "p_ids": list(ids)}
    rows = await session.scalars(_users_by_ids(), parameters)
    return {user.id: user for user in rows.all()}


@functools.cache
def _users_by_ids() -> Any:
    """Built once: every money movement runs it (the ids are bound parameters)."""
    return sa.select(User).where(
        col(User.platform_id) == sa.bindparam("p_platform_id"),
        col(User.id).in_(sa.bindparam("p_ids", expanding=True)),
    )


async def user_clashes(
    session: AsyncSession, *, platform_id: uuid.UUID, email_key: str, login: str
) -> list[tuple[str, str]]:
    """(email_key, login) of the platform's users that share the e-mail or the login."""
    result = await session.execute(
        sa.select(col(User.email_key), col(User.login)).where(
            col(User.platform_id) == platform_id,
            sa.or_(col(User.email_key) == email_key, col(User.login) == login),
        )
    )
    return [(row[0], row[1]) for row in result.all()]


async def ownership_held(
    session: AsyncSession, *, platform_id: uuid.UUID, user_id: uuid.UUID
) -> float:
    """The sum of the ownership percentages of a user's persons."""
    held = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(Person.ownership_percentage)), 0.0)).where(
            col(Person.platform_id) == platform_id, col(Person.user_id) == user_id
        )
    )
    return float(held or 0)


async def holder_of(session: AsyncSession, *, user_id: uuid.UUID) -> Person | None:
    return await session.scalar(
        sa.select(Person).where(col(Person.user_id) == user_id, col(Person.is_holder))
    )


async def persons_and_documents(
    session: AsyncSession, *, user_id: uuid.UUID
) -> tuple[list[Person], list[KycDocument]]:
    persons = await session.scalars(sa.select(Person).where(col(Person.user_id) == user_id))
    documents = await session.scalars(
        sa.select(KycDocument).where(col(KycDocument.user_id) == user_id)
    )
    return list(persons.all()), list(documents.all())
