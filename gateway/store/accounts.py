"""Accounts inside a write transaction: locked in id order (so two movements never deadlock;
as rows with their users' statuses and the platform's currencies, for the movements that run
as statements), balances moved by guarded UPDATEs that the database refuses below zero or
above the largest exact amount, the platform's settlement accounts, a user's accounts that
wait for its validation, and whether an account still has payments in flight (it cannot
close then). Every function works inside the caller's transaction.
"""

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

from gateway.domain.enums import AccountStatus, PayInStatus, PayOutStatus, RefundStatus
from gateway.domain.ids import new_id
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.column_types import utcnow
from gateway.store.ledger_tables import PayIn, PayOut, Refund, SettlementAccount
from gateway.store.statements import UNSYNCED, add_to_platform_balance, bind, dialect_of
from gateway.store.tables import Account, Platform, User


class BalanceGuardRefused(RuntimeError):
    """The database refused a balance that the service's checks allowed on the locked rows:
    the movement's transaction must end without a trace (it is rolled back whole)."""


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


async def lock_accounts_with_owners(
    session: AsyncSession, *, platform_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """The accounts of the platform among `ids`, row-locked in id order, by id, as rows (not
    objects) with what a money movement checks: the account's `id`, `user_id`, `currency`,
    `status`, `balance` and `reserved`, its user's `user_status` and `validation_status`, and
    the platform's `allowed_currencies`; one statement, built once per number of ids."""
    parameters: dict[str, Any] = {"p_platform_id": platform_id}
    parameters.update({f"p_id_{index}": key for index, key in enumerate(ids)})
    rows = (await session.execute(_lock_accounts_with_owners(len(ids)), parameters)).all()
    return {row.id: row for row in rows}


@functools.cache
def _lock_accounts_with_owners(count: int) -> Any:
    account: Any = Account.__table__  # type: ignore[attr-defined]
    user: Any = User.__table__  # type: ignore[attr-defined]
    platform: Any = Platform.__table__  # type: ignore[attr-defined]
    owner = (user.c.platform_id == account.c.platform_id) & (user.c.id == account.c.user_id)
    ids = [bind(Account, "id", f"id_{index}") for index in range(count)]
    return (
        sa.select(
            account.c.id,
            account.c.user_id,
            account.c.currency,
            account.c.status,
            account.c.balance,
            account.c.reserved,
            user.c.status.label("user_status"),
            user.c.validation_status,
            platform.c.allowed_currencies,
        )
        .select_from(
            account.join(user, owner).join(platform, platform.c.id == account.c.platform_id)
        )
        .where(account.c.platform_id == bind(Account, "platform_id"), account.c.id.in_(ids))
        .order_by(account.c.id)
        .with_for_update(of=account)
    )


async def allowed_currencies(session: AsyncSession, *, platform_id: uuid.UUID) -> list[str]:
    """The platform's currencies, for a movement whose accounts were not found (so no row of
    `lock_accounts_with_owners` brought them)."""
    found = await session.execute(_allowed_currencies(), {"p_platform_id": platform_id})
    currencies: list[str] = found.scalar_one()
    return currencies


@functools.cache
def _allowed_currencies() -> Any:
    platform: Any = Platform.__table__  # type: ignore[attr-defined]
    return sa.select(platform.c.allowed_currencies).where(
        platform.c.id == bind(Platform, "id", "platform_id")
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
    delta = bind(Account, "balance", "delta")
    return (
        sa.update(Account)
        .execution_options(**UNSYNCED)
        .where(
            col(Account.id) == sa.bindparam("p_account_id"),
            col(Account.balance) + delta >= 0,
            col(Account.balance) + col(Account.reserved) + delta <= MINOR_UNITS_MAX,
        )
        .values(balance=col(Account.balance) + delta, updated_at=bind(Account, "updated_at", "now"))
        .returning(col(Account.balance))
    )


async def debit_for_pay_out(
    session: AsyncSession, *, account_id: uuid.UUID, amount: int, now: dt.datetime
) -> int | None:
    """Take `amount` out of the balance into `reserved` (a pay-out in flight, which may come
    back), unless the balance would go below zero: the new balance, or None (nothing changed).
    One guarded UPDATE: `move_balance` and `move_reserved` at once."""
    parameters = {"p_account_id": account_id, "p_amount": amount, "p_now": now}
    moved = await session.execute(_debit_for_pay_out(), parameters)
    balance: int | None = moved.scalar_one_or_none()
    return balance


@functools.cache
def _debit_for_pay_out() -> Any:
    account: Any = Account.__table__  # type: ignore[attr-defined]
    amount = bind(Account, "balance", "amount")
    return (
        sa.update(account)
        .where(account.c.id == bind(Account, "id", "account_id"), account.c.balance - amount >= 0)
        .values(
            balance=account.c.balance - amount,
            reserved=account.c.reserved + amount,
            updated_at=bind(Account, "updated_at", "now"),
        )
        .returning(account.c.balance)
    )


async def move_settlement_account(
    session: AsyncSession, *, platform_id: uuid.UUID, currency: str, delta: int, now: dt.datetime
) -> tuple[uuid.UUID, int]:
    """Add `delta` to the platform's settlement account for `currency`, created on first use,
    in one statement (an upsert, which row-locks it); its id and new balance."""
    return await add_to_platform_balance(
        session, SettlementAccount, platform_id=platform_id, currency=currency, delta=delta, now=now
    )


async def move_reserved(session: AsyncSession, *, account_id: uuid.UUID, delta: int) -> None:
    """Reserve (or release) room under the cap for a pay-out that may come back."""
    await session.execute(
        sa.update(Account)
        .execution_options(**UNSYNCED)
        .where(col(Account.id) == account_id)
        .values(reserved=col(Account.reserved) + delta)
    )


async def settlement_account(
    session: AsyncSession, *, platform_id: uuid.UUID, currency: str
) -> SettlementAccount:
    """The platform's settlement account for `currency`, created on first use, row-locked."""
    table: Any = SettlementAccount.__table__  # type: ignore[attr-defined]
    dialect = postgresql if dialect_of(session) == "postgresql" else sqlite
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
        .execution_options(**UNSYNCED)
        .where(col(SettlementAccount.id) == sa.bindparam("p_settlement_account_id"))
        .values(
            balance=col(SettlementAccount.balance) + bind(SettlementAccount, "balance", "delta")
        )
        .returning(col(SettlementAccount.balance))
    )


async def created_accounts(session: AsyncSession, *, user_id: uuid.UUID) -> list[Account]:
    accounts = await session.scalars(
        sa.select(Account).where(
            col(Account.user_id) == user_id, col(Account.status) == AccountStatus.CREATED
        )
    )
    return list(accounts.all())


async def has_operations_in_flight(session: AsyncSession, *, account_id: uuid.UUID) -> bool:
    """Whether a pay-in, pay-out or refund of the account is still CREATED or PENDING."""
    open_pay_ins = sa.select(col(PayIn.id)).where(
        col(PayIn.credited_account_id) == account_id,
        col(PayIn.status).in_([PayInStatus.CREATED, PayInStatus.PENDING]),
    )
    open_pay_outs = sa.select(col(PayOut.id)).where(
        col(PayOut.debited_account_id) == account_id,
        col(PayOut.status).in_([PayOutStatus.CREATED, PayOutStatus.PENDING]),
    )
    open_refunds = sa.select(col(Refund.id)).where(
        col(Refund.debited_account_id) == account_id,
        col(Refund.status).in_([RefundStatus.CREATED, RefundStatus.PENDING]),
    )
    in_flight = open_pay_ins.union_all(open_pay_outs, open_refunds)
    return bool(await session.scalar(sa.select(sa.exists(in_flight))))
