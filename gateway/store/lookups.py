"""Reads inside a write transaction: what a use case checks before it changes something.

Each takes the caller's session (so it sees the transaction's own writes and locks) and is
scoped to the platform where the row carries one.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import AccountStatus, Environment, PayInStatus, PayOutStatus
from gateway.store.ledger_tables import PayIn, PayOut
from gateway.store.tables import Account, KycDocument, Person, Platform, User

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


async def created_accounts(session: AsyncSession, *, user_id: uuid.UUID) -> list[Account]:
    accounts = await session.scalars(
        sa.select(Account).where(
            col(Account.user_id) == user_id, col(Account.status) == AccountStatus.CREATED
        )
    )
    return list(accounts.all())


async def has_operations_in_flight(session: AsyncSession, *, account_id: uuid.UUID) -> bool:
    """Whether a pay-in or pay-out of the account is still CREATED or PENDING."""
    open_pay_ins = sa.select(col(PayIn.id)).where(
        col(PayIn.credited_account_id) == account_id,
        col(PayIn.status).in_([PayInStatus.CREATED, PayInStatus.PENDING]),
    )
    open_pay_outs = sa.select(col(PayOut.id)).where(
        col(PayOut.debited_account_id) == account_id,
        col(PayOut.status).in_([PayOutStatus.CREATED, PayOutStatus.PENDING]),
    )
    return bool(await session.scalar(sa.select(sa.exists(open_pay_ins.union_all(open_pay_outs)))))


async def due_sandbox_items(
    session: AsyncSession,
    *,
    model: Any,
    status: Any,
    statuses: Sequence[Any],
    since: dt.datetime,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(platform id, row id) of sandbox rows of `model` in one of `statuses`, unchanged since
    `since`, oldest first, after the row `after` (None: from the first)."""
    statement = (
        sa.select(model.platform_id, model.id)
        .join(Platform, col(Platform.id) == model.platform_id)
        .where(col(Platform.environment) == Environment.SANDBOX)
        .where(status.in_(statuses), model.updated_at <= since)
        .where(sa.true() if after is None else model.id > after)
        .order_by(model.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]
