"""The user lifecycle inside a write transaction: a user's accounts (locked in id order, like
every movement takes them), what a user still has in flight, its mandates, the validated
documents whose expiry date has passed (keyset batches, for the periodic sweep), and a changed
e-mail or login saved under the platform's unique constraints.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import (
    DocumentStatus,
    MandateStatus,
    PayInStatus,
    PayOutStatus,
    UserStatus,
)
from gateway.store.ledger_tables import DirectDebitMandate, PayIn, PayOut
from gateway.store.tables import Account, KycDocument, User


async def locked_accounts_of_user(session: AsyncSession, *, user_id: uuid.UUID) -> list[Account]:
    """The user's accounts, row-locked in id order (the order every movement locks them in)."""
    statement = (
        sa.select(Account)
        .where(col(Account.user_id) == user_id)
        .order_by(col(Account.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


async def payments_in_flight(
    session: AsyncSession, *, account_ids: Sequence[uuid.UUID]
) -> list[tuple[str, uuid.UUID, str]]:
    """("pay-in" or "pay-out", id, status) of the accounts' pay-ins and pay-outs still CREATED
    or PENDING, at most 20 of each (enough to say why; the first settled reveals the next)."""
    if not account_ids:
        return []
    pay_ins = await session.execute(
        sa.select(col(PayIn.id), col(PayIn.status))
        .where(
            col(PayIn.credited_account_id).in_(account_ids),
            col(PayIn.status).in_([PayInStatus.CREATED, PayInStatus.PENDING]),
        )
        .order_by(col(PayIn.id))
        .limit(20)
    )
    pay_outs = await session.execute(
        sa.select(col(PayOut.id), col(PayOut.status))
        .where(
            col(PayOut.debited_account_id).in_(account_ids),
            col(PayOut.status).in_([PayOutStatus.CREATED, PayOutStatus.PENDING]),
        )
        .order_by(col(PayOut.id))
        .limit(20)
    )
    found = [("pay-in", row[0], row[1].value) for row in pay_ins.all()]
    return found + [("pay-out", row[0], row[1].value) for row in pay_outs.all()]


async def mandates_of_user(
    session: AsyncSession, *, user_id: uuid.UUID, statuses: Sequence[MandateStatus]
) -> list[DirectDebitMandate]:
    """The user's mandates in one of `statuses`, row-locked in id order."""
    statement = (
        sa.select(DirectDebitMandate)
        .where(
            col(DirectDebitMandate.user_id) == user_id,
            col(DirectDebitMandate.status).in_(list(statuses)),
        )
        .order_by(col(DirectDebitMandate.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


async def expired_documents(
    session: AsyncSession, *, today: dt.date, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(platform id, document id) of VALIDATED documents whose expiry date is before `today`
    (valid through that day), of users not closed, in id order after the document `after`
    (None: from the first)."""
    statement = (
        sa.select(col(KycDocument.platform_id), col(KycDocument.id))
        .join(User, col(User.id) == col(KycDocument.user_id))
        .where(
            col(KycDocument.status) == DocumentStatus.VALIDATED,
            col(KycDocument.expires_on) < today,
            col(User.status) != UserStatus.CLOSED,
        )
        .where(sa.true() if after is None else col(KycDocument.id) > after)
        .order_by(col(KycDocument.id))
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]


async def save_user_names(session: AsyncSession, *, user: User) -> str | None:
    """Flush a changed e-mail or login in a savepoint; None when done, else the field ("email"
    or "login") whose unique constraint refused it: a race with another request that checked
    first ends here, like the creation of a user (store/users.py)."""
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as error:
        return "login" if "login" in str(error.orig).lower() else "email"
    return None


async def name_clashes(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    user_id: uuid.UUID,
    email_key: str | None,
    login: str | None,
) -> list[tuple[str, str]]:
    """(email_key, login) of the platform's other users that hold the e-mail or the login."""
    wanted = []
    if email_key is not None:
        wanted.append(col(User.email_key) == email_key)
    if login is not None:
        wanted.append(col(User.login) == login)
    if not wanted:
        return []
    result = await session.execute(
        sa.select(col(User.email_key), col(User.login)).where(
            col(User.platform_id) == platform_id, col(User.id) != user_id, sa.or_(*wanted)
        )
    )
    return [(row[0], row[1]) for row in result.all()]
