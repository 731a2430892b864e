"""The batches CSV exports stream: rows of one table in a window, by keyset.

A batch is "at most `limit` rows after the last id sent, created in `[start, end)`", read on a
connection taken for that batch alone and returned at once: however long the window, an export
holds one batch in memory and no connection between batches. Ids are UUIDv7, so the order by
id is the order of creation, and a row inserted while an export runs lands after the rows
already sent or not at all. Rows are scoped like the graph's reads: the platform, and under a
user token that user's subtree (gateway/store/scope.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from gateway.store.account_statements import Window
from gateway.store.engine import Database
from gateway.store.ledger_tables import LedgerEntry, PayIn, PayOut, Transfer
from gateway.store.records import columns, records
from gateway.store.scope import visible_to
from gateway.store.tables import Account

TABLES: dict[str, Any] = {
    "ledger_entries": LedgerEntry,
    "transfers": Transfer,
    "pay_ins": PayIn,
    "pay_outs": PayOut,
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows: a platform, and a user of it under a user token."""

    platform_id: uuid.UUID
    user_id: uuid.UUID | None = None


async def visible_account(db: Database, *, scope: Scope, account_id: uuid.UUID) -> Any | None:
    """The account's record when the scope sees it, else None (another platform's, another
    user's and an unknown id alike)."""
    statement = sa.select(*columns(Account)).where(
        col(Account.platform_id) == scope.platform_id,
        visible_to(Account, scope.user_id),
        col(Account.id) == account_id,
    )
    async with db.reading() as connection:
        found = records(Account, (await connection.execute(statement)).all())
    return found[0] if found else None


async def batch(
    db: Database,
    *,
    table: str,
    scope: Scope,
    window: Window,
    after: uuid.UUID | None,
    limit: int,
    account_id: uuid.UUID | None = None,
) -> list[Any]:
    """Up to `limit` records of `table` after the id `after`, oldest first (`account_id`:
    ledger entries of that account only)."""
    model = TABLES[table]
    where = [
        model.platform_id == scope.platform_id,
        visible_to(model, scope.user_id),
        model.created_at >= window.start,
        model.created_at < window.end,
    ]
    if after is not None:
        where.append(model.id > after)
    if account_id is not None:
        where.append(col(LedgerEntry.account_id) == account_id)
    statement = sa.select(*columns(model)).where(*where).order_by(model.id).limit(limit)
    async with db.reading() as connection:
        return records(model, (await connection.execute(statement)).all())
