"""The platform's fee accounts inside a write transaction: one per currency, created on first
use, row-locked, moved by a guarded UPDATE that the database refuses below zero (a fee given
back must have been collected); a fee collected is one upsert (`credit_fee_account`). Every
function works inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.ids import new_id
from gateway.store.column_types import utcnow
from gateway.store.ledger_tables import FeeAccount
from gateway.store.statements import UNSYNCED, add_to_platform_balance, bind, dialect_of


async def fee_account(
    session: AsyncSession, *, platform_id: uuid.UUID, currency: str
) -> FeeAccount:
    """The platform's fee account for `currency`, created on first use, row-locked."""
    table: Any = FeeAccount.__table__  # type: ignore[attr-defined]
    dialect = postgresql if dialect_of(session) == "postgresql" else sqlite
    await session.execute(
        dialect.insert(table)
        .values(
            id=new_id(), platform_id=platform_id, currency=currency, balance=0, created_at=utcnow()
        )
        .on_conflict_do_nothing()
    )
    statement = (
        sa.select(FeeAccount)
        .where(col(FeeAccount.platform_id) == platform_id, col(FeeAccount.currency) == currency)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def move_fee_balance(
    session: AsyncSession, *, fee_account_id: uuid.UUID, delta: int
) -> int | None:
    """Add `delta` to the fee account's balance unless it would go below zero; the new
    balance, or None (nothing changed)."""
    parameters = {"p_fee_account_id": fee_account_id, "p_delta": delta}
    balance: int | None = (
        await session.execute(_move_fee_balance(), parameters)
    ).scalar_one_or_none()
    return balance


@functools.cache
def _move_fee_balance() -> Any:
    delta = bind(FeeAccount, "balance", "delta")
    return (
        sa.update(FeeAccount)
        .execution_options(**UNSYNCED)
        .where(col(FeeAccount.id) == sa.bindparam("p_fee_account_id"))
        .where(col(FeeAccount.balance) + delta >= 0)
        .values(balance=col(FeeAccount.balance) + delta)
        .returning(col(FeeAccount.balance))
    )


async def credit_fee_account(
    session: AsyncSession, *, platform_id: uuid.UUID, currency: str, fee: int, now: dt.datetime
) -> tuple[uuid.UUID, int]:
    """Credit `fee` (> 0) to the platform's fee account for `currency`, created on first use,
    in one statement (an upsert, which row-locks it); its id and new balance."""
    return await add_to_platform_balance(
        session, FeeAccount, platform_id=platform_id, currency=currency, delta=fee, now=now
    )
