"""Account statements in SQL: an account's sums around a window, and the window's entries.

A window is `[start, end)` on the entries' `created_at`. One statement reads, for many
accounts at once, the stored balance and the sums of the entries before, inside (per entry
kind) and after the window, so everything a statement shows comes from one snapshot: the
service checks that the opening balance plus the window's credits minus its debits is the
closing balance, and that the closing balance is the stored balance minus what came after
(gateway/services/account_statements.py). A second statement pages the window's entries,
oldest first, one page per account (the keyset of Account.entries, on the id).

Both are scoped like every read of the graph: the platform, and a user token's subtree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from gateway.domain.enums import EntryKind
from gateway.domain.pagination import Page, PageRequest
from gateway.store.ledger_tables import LedgerEntry
from gateway.store.pagination import Order, grouped_pages
from gateway.store.platform_reader import PlatformReader
from gateway.store.scope import visible_to
from gateway.store.tables import Account

BEFORE, INSIDE, AFTER = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Window:
    """`[start, end)`, both timezone-aware."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class KindSums:
    """The entries of one kind inside a window: credits and debits both positive."""

    kind: EntryKind
    credits: int
    debits: int
    count: int


@dataclass(slots=True)
class StatementSums:
    """What one statement reads of an account: its stored balance, the net sum of its entries
    before and after the window, and the window's entries per kind."""

    account_id: uuid.UUID
    currency: str
    balance: int
    before: int = 0
    after: int = 0
    inside: list[KindSums] = field(default_factory=list)


def reading(reader: PlatformReader) -> AbstractAsyncContextManager[AsyncConnection]:
    """The request's connection when the reader has one, else a connection for this read."""
    if reader.connection is not None:
        return reader.connection.use()
    return reader.db.reading()


def _sums_statement(
    reader: PlatformReader, account_ids: Sequence[uuid.UUID], window: Window
) -> Any:
    created = col(LedgerEntry.created_at)
    amount = col(LedgerEntry.amount)
    bucket = sa.case(
        (created < window.start, BEFORE), (created < window.end, INSIDE), else_=AFTER
    ).label("bucket")
    joined = sa.outerjoin(
        Account,
        LedgerEntry,
        sa.and_(
            col(LedgerEntry.account_id) == col(Account.id),
            col(LedgerEntry.platform_id) == col(Account.platform_id),
        ),
    )
    return (
        sa.select(
            col(Account.id),
            col(Account.currency),
            col(Account.balance),
            col(LedgerEntry.kind),
            bucket,
            sa.func.sum(sa.case((amount > 0, amount), else_=0)),
            sa.func.sum(sa.case((amount < 0, -amount), else_=0)),
            sa.func.count(col(LedgerEntry.id)),
        )
        .select_from(joined)
        .where(
            col(Account.platform_id) == reader.platform_id,
            visible_to(Account, reader.user_id),
            col(Account.id).in_(account_ids),
        )
        .group_by(
            col(Account.id), col(Account.currency), col(Account.balance), col(LedgerEntry.kind)
        )
        .group_by(bucket)
    )


async def statement_sums(
    reader: PlatformReader, *, account_ids: Sequence[uuid.UUID], window: Window
) -> dict[uuid.UUID, StatementSums]:
    """The sums of each visible account among `account_ids` (absent: not visible), one
    statement for all of them."""
    async with reading(reader) as connection:
        rows = (await connection.execute(_sums_statement(reader, account_ids, window))).all()
    found: dict[uuid.UUID, StatementSums] = {}
    for account_id, currency, balance, kind, bucket, credits, debits, count in rows:
        sums = found.setdefault(account_id, StatementSums(account_id, currency, int(balance)))
        if kind is None:  # an account without entries (the outer join's row)
            continue
        net = int(credits) - int(debits)  # PostgreSQL sums BIGINTs as NUMERIC: exact
        if bucket == BEFORE:
            sums.before += net
        elif bucket == AFTER:
            sums.after += net
        else:
            sums.inside.append(KindSums(EntryKind(kind), int(credits), int(debits), int(count)))
    return found


async def statement_entries_pages(
    reader: PlatformReader,
    *,
    account_ids: Sequence[uuid.UUID],
    window: Window,
    page: PageRequest,
) -> dict[uuid.UUID, Page[Any]]:
    """The window's entries of each account, oldest first, one page per account, in one
    statement."""
    created = col(LedgerEntry.created_at)
    where = [
        col(LedgerEntry.platform_id) == reader.platform_id,
        visible_to(LedgerEntry, reader.user_id),
        created >= window.start,
        created < window.end,
    ]
    async with reading(reader) as connection:
        return await grouped_pages(
            connection,
            model=LedgerEntry,
            group=col(LedgerEntry.account_id),
            group_ids=account_ids,
            where=where,
            page=page,
            order=Order(col(LedgerEntry.id)),
        )
