"""Writes that need SQL beyond `session.add`: locks, guarded balance updates, sequences,
idempotency claims. Every function works inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from gateway.domain.ids import new_id
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.column_types import UTCDateTime, utcnow
from gateway.store.journal_tables import Event, IdempotencyRecord
from gateway.store.ledger_tables import SettlementAccount
from gateway.store.tables import Account, ApiKey, Platform

# The guarded UPDATEs below change rows the session may hold; the callers set what they read
# back (set_committed_value) or read it with SQL, so the ORM need not find and refresh the
# matching objects in Python on every statement.
_UNSYNCED = {"synchronize_session": False}
# The statements of every money movement are built once (functools.cache), with bound
# parameters: building the expression costs more CPU than the database takes to run it.


def _bind(model: Any, column: str, name: str | None = None) -> Any:
    """A bound parameter `p_<name>` typed as `model`'s column (UUIDs, JSON and datetimes
    convert); named apart from the columns, which an UPDATE reserves for itself."""
    return sa.bindparam(f"p_{name or column}", type_=model.__table__.c[column].type)


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
        "p_id": new_id(),
        "p_platform_id": platform_id,
        "p_key": key,
        "p_operation": operation,
        "p_fingerprint": fingerprint,
    }
    inserted = await session.execute(_claim_idempotency_key(_dialect(session)), values)
    if inserted.first() is not None:
        return None
    found = {"p_platform_id": platform_id, "p_key": key}
    existing: IdempotencyRecord = (await session.scalars(_idempotency_record(), found)).one()
    return existing


@functools.cache
def _claim_idempotency_key(dialect_name: str) -> Any:
    table: Any = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    columns = ("id", "platform_id", "key", "operation", "fingerprint")
    values = {column: _bind(IdempotencyRecord, column) for column in columns}
    return dialect.insert(table).values(values).on_conflict_do_nothing().returning(table.c.id)


@functools.cache
def _idempotency_record() -> Any:
    return sa.select(IdempotencyRecord).where(
        col(IdempotencyRecord.platform_id) == sa.bindparam("p_platform_id"),
        col(IdempotencyRecord.key) == sa.bindparam("p_key"),
    )


async def settle_idempotency_key(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    key: str,
    object_id: uuid.UUID | None,
    rejection: dict[str, Any] | None,
) -> None:
    parameters = {
        "p_platform_id": platform_id,
        "p_key": key,
        "p_object_id": object_id,
        "p_rejection": rejection,
    }
    await session.execute(_settle_idempotency_key(), parameters)


@functools.cache
def _settle_idempotency_key() -> Any:
    return (
        sa.update(IdempotencyRecord)
        .execution_options(**_UNSYNCED)
        .where(
            col(IdempotencyRecord.platform_id) == sa.bindparam("p_platform_id"),
            col(IdempotencyRecord.key) == sa.bindparam("p_key"),
        )
        .values(
            object_id=_bind(IdempotencyRecord, "object_id"),
            rejection=_bind(IdempotencyRecord, "rejection"),
        )
    )


async def reserve_event_sequences(
    session: AsyncSession, *, platform_id: uuid.UUID, count: int
) -> int:
    """Take `count` sequence numbers; returns the first. Locks the platform row to commit."""
    parameters = {"p_platform_id": platform_id, "p_count": count}
    last: int = (await session.execute(_reserve_event_sequences(), parameters)).scalar_one()
    return last - count + 1


@functools.cache
def _reserve_event_sequences() -> Any:
    return (
        sa.update(Platform)
        .execution_options(**_UNSYNCED)
        .where(col(Platform.id) == sa.bindparam("p_platform_id"))
        .values(
            event_sequence=col(Platform.event_sequence) + _bind(Platform, "event_sequence", "count")
        )
        .returning(col(Platform.event_sequence))
    )


def add_events(session: AsyncSession, events: Sequence[Event]) -> None:
    session.add_all(events)


async def lock_accounts(
    session: AsyncSession, *, platform_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Account]:
    """The accounts, row-locked in id order (a fixed order, so two movements never deadlock)."""
    parameters = {"p_platform_id": platform_id, "p_ids": list(ids)}
    found = (await session.scalars(_lock_accounts(), parameters)).all()
    return {account.id: account for account in found}


@functools.cache
def _lock_accounts() -> Any:
    return (
        sa.select(Account)
        .where(
            col(Account.platform_id) == sa.bindparam("p_platform_id"),
            col(Account.id).in_(sa.bindparam("p_ids", expanding=True)),
        )
        .order_by(col(Account.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def move_balance(session: AsyncSession, *, account: Account, delta: int) -> int | None:
    """Add `delta` to a user account's balance unless it would go below zero, or, with the
    pay-outs in flight (`reserved`), above MINOR_UNITS_MAX.

    Returns the new balance, also set on `account` as loaded (no refresh, no change to flush),
    or None when it would (nothing changed, `account` keeps its balance): a debit beyond the
    funds, or a credit beyond the largest amount clients can read exactly.
    """
    parameters = {"p_account_id": account.id, "p_delta": delta, "p_now": utcnow()}
    balance: int | None = (await session.execute(_move_balance(), parameters)).scalar_one_or_none()
    if balance is not None:
        set_committed_value(account, "balance", balance)
    return balance


@functools.cache
def _move_balance() -> Any:
    delta = _bind(Account, "balance", "delta")
    return (
        sa.update(Account)
        .execution_options(**_UNSYNCED)
        .where(
            col(Account.id) == sa.bindparam("p_account_id"),
            col(Account.balance) + delta >= 0,
            col(Account.balance) + col(Account.reserved) + delta <= MINOR_UNITS_MAX,
        )
        .values(
            balance=col(Account.balance) + delta, updated_at=_bind(Account, "updated_at", "now")
        )
        .returning(col(Account.balance))
    )


async def move_reserved(session: AsyncSession, *, account_id: uuid.UUID, delta: int) -> None:
    """Reserve (or release) room under the cap for a pay-out that may come back."""
    await session.execute(
        sa.update(Account)
        .execution_options(**_UNSYNCED)
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
        .values(
            id=new_id(), platform_id=platform_id, currency=currency, balance=0, created_at=utcnow()
        )
        .on_conflict_do_nothing()
    )
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
    parameters = {"p_settlement_account_id": settlement_account_id, "p_delta": delta}
    return (await session.execute(_move_settlement_balance(), parameters)).scalar_one()  # type: ignore[no-any-return]


@functools.cache
def _move_settlement_balance() -> Any:
    return (
        sa.update(SettlementAccount)
        .execution_options(**_UNSYNCED)
        .where(col(SettlementAccount.id) == sa.bindparam("p_settlement_account_id"))
        .values(
            balance=col(SettlementAccount.balance) + _bind(SettlementAccount, "balance", "delta")
        )
        .returning(col(SettlementAccount.balance))
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
