"""A transfer's statements (gateway.services.ledger.create_transfer), run as SQL: built once,
with bound parameters, and no unit of work (no objects, no flush).

- `accounts.lock_accounts_with_owners`: the two accounts, row-locked in id order on
  PostgreSQL (SQLite's BEGIN IMMEDIATE serialises writers already), each with its user's
  status and the platform's allowed currencies: everything the checks read, in one statement;
- `move_transfer_balances`: both balances in one UPDATE, guarded as `accounts.move_balance`
  guards one (never below zero; with the pay-outs in flight never above MINOR_UNITS_MAX);
- `insert_ledger_entries` and `insert_transfer`: one INSERT each (the entries in one
  multi-row INSERT).

The service checks every rule on the locked rows before its first write; the guards and the
tables' CHECK constraints check the balances again in the database.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.accounts import BalanceGuardRefused
from gateway.store.ledger_tables import LedgerEntry, Transfer
from gateway.store.statements import bind, insert_rows
from gateway.store.tables import Account


async def move_transfer_balances(
    session: AsyncSession,
    *,
    debited_id: uuid.UUID,
    credited_id: uuid.UUID,
    debit: int,
    credit: int,
    now: dt.datetime,
) -> tuple[int, int]:
    """Add `debit` (negative) to the debited balance and `credit` to the credited one, in one
    guarded UPDATE; the new balances (debited, credited). BalanceGuardRefused when a guard
    refuses either (the other may have moved: the caller's transaction must roll back)."""
    parameters = {
        "p_debited": debited_id,
        "p_credited": credited_id,
        "p_debit": debit,
        "p_credit": credit,
        "p_now": now,
    }
    moved: dict[uuid.UUID, int] = dict(
        (await session.execute(_move_transfer_balances(), parameters)).all()
    )
    if len(moved) != 2:
        raise BalanceGuardRefused("the database refused a transfer's balances that were checked")
    return moved[debited_id], moved[credited_id]


@functools.cache
def _move_transfer_balances() -> Any:
    account: Any = Account.__table__  # type: ignore[attr-defined]
    debited = bind(Account, "id", "debited")
    delta = sa.case(
        (account.c.id == debited, bind(Account, "balance", "debit")),
        else_=bind(Account, "balance", "credit"),
    )
    return (
        sa.update(account)
        .where(
            account.c.id.in_([debited, bind(Account, "id", "credited")]),
            account.c.balance + delta >= 0,
            account.c.balance + account.c.reserved + delta <= MINOR_UNITS_MAX,
        )
        .values(balance=account.c.balance + delta, updated_at=bind(Account, "updated_at", "now"))
        .returning(account.c.id, account.c.balance)
    )


async def insert_ledger_entries(
    session: AsyncSession, entries: Sequence[Mapping[str, Any]]
) -> None:
    """The entries (every column of each, the same keys in each), in one multi-row INSERT."""
    await insert_rows(session, LedgerEntry, entries)


async def insert_transfer(session: AsyncSession, transfer: Mapping[str, Any]) -> None:
    """The transfer's row (every column)."""
    await insert_rows(session, Transfer, [transfer])
