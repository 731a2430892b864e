"""Writes that need SQL beyond `session.add`: locks, guarded balance updates, sequences,
idempotency claims. Every function works inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.ids import new_id
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.journal_tables import Event, IdempotencyRecord
from gateway.store.ledger_tables import SettlementAccount
from gateway.store.tables import Account, ApiKey, Platform
from gateway.store.types import UTCDateTime, utcnow


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    assert bind is not None
    return bind.dialect.name


async def claim_idempotency_key(
    session: AsyncSession, *, platform_id: uuid.UUID, key: str, operation: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Insert a record for `key`, or return the one already there (None when ours is new).

    On PostgreSQL a concurrent transaction holding the same key makes this insert wait for it
    to commit or roll back; either way the answer is then final.
    """
    values = {
        "id": new_id(), "platform_id": platform_id, "key": key, "operation": operation,
        "fingerprint": fingerprint,
    }  # fmt: skip
    table: Any = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    dialect = postgresql if _dialect(session) == "postgresql" else sqlite
    statement = dialect.insert(table).values(values).on_conflict_do_nothing()
    inserted = await session.execute(statement.returning(table.c.id))
    if inserted.first() is not None:
        return None
    existing = await session.scalars(
        sa.select(IdempotencyRecord).where(
            col(IdempotencyRecord.platform_id) == platform_id, col(IdempotencyRecord.key) == key
        )
    )
    return existing.one()


async def settle_idempotency_key(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    key: str,
    object_id: uuid.UUID | None,
    rejection: dict[str, Any] | None,
) -> None:
    await session.execute(
        sa.update(IdempotencyRecord)
        .where(col(IdempotencyRecord.platform_id) == platform_id, col(IdempotencyRecord.key) == key)
        .values(object_id=object_id, rejection=rejection)
    )


async def reserve_event_sequences(
    session: AsyncSession, *, platform_id: uuid.UUID, count: int
) -> int:
    """Take `count` sequence numbers; returns the first. Locks the platform row to commit."""
    result = await session.execute(
        sa.update(Platform)
        .where(col(Platform.id) == platform_id)
        .values(event_sequence=col(Platform.event_sequence) + count)
        .returning(col(Platform.event_sequence))
    )
    last: int = result.scalar_one()
    return last - count + 1


def add_events(session: AsyncSession, events: Sequence[Event]) -> None:
    session.add_all(events)


async def lock_accounts(
    session: AsyncSession, *, platform_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Account]:
    """The accounts, row-locked in id order (a fixed order, so two movements never deadlock)."""
    statement = (
        sa.select(Account)
        .where(col(Account.platform_id) == platform_id, col(Account.id).in_(ids))
        .order_by(col(Account.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {account.id: account for account in (await session.scalars(statement)).all()}


async def move_balance(session: AsyncSession, *, account_id: uuid.UUID, delta: int) -> int | None:
    """Add `delta` to a user account's balance unless it would go below zero, or, with the
    pay-outs in flight (`reserved`), above MINOR_UNITS_MAX.

    Returns the new balance, or None when it would (nothing changed): a debit beyond the funds,
    or a credit beyond the largest amount clients can read exactly.
    """
    statement = (
        sa.update(Account)
        .where(
            col(Account.id) == account_id,
            col(Account.balance) + delta >= 0,
            col(Account.balance) + col(Account.reserved) + delta <= MINOR_UNITS_MAX,
        )
        .values(balance=col(Account.balance) + delta, updated_at=utcnow())
        .returning(col(Account.balance))
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def move_reserved(session: AsyncSession, *, account_id: uuid.UUID, delta: int) -> None:
    """Reserve (or release) room under the cap for a pay-out that may come back."""
    await session.execute(
        sa.update(Account)
        .where(col(Account.id) == account_id)
        .values(reserved=col(Account.reserved) + delta)
    )


async def settlement_account(
    session: AsyncSession, *, platform_id: uuid.UUID, currency: str
) -> SettlementAccount:
    """The platform's settlement account for `currency`, created on first use, row-locked."""
    table: Any = SettlementAccount.__table__  # type: ignore[attr-defined]
    dialect = postgresql if _dialect(session) == "postgresql" else sqlite
    await session.execute(
        dialect.insert(table)
        .values(id=new_id(), platform_id=platform_id, currency=currency, balance=0,
                created_at=utcnow())
        .on_conflict_do_nothing()
    )  # fmt: skip
    statement = (
        sa.select(SettlementAccount)
        .where(
            col(SettlementAccount.platform_id) == platform_id,
            col(SettlementAccount.currency) == currency,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def move_settlement_balance(
    session: AsyncSession, *, settlement_account_id: uuid.UUID, delta: int
) -> int:
    statement = (
        sa.update(SettlementAccount)
        .where(col(SettlementAccount.id) == settlement_account_id)
        .values(balance=col(SettlementAccount.balance) + delta)
        .returning(col(SettlementAccount.balance))
    )
    return (await session.execute(statement)).scalar_one()


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
