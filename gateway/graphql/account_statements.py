"""Account statements: `Account.statement(from, to)`, its types and its loaders.

A statement reads in a constant number of SQL statements however many accounts a query asks
it of: one for the sums of every account of the query (per distinct window), one for each
distinct page of entries. The window's rule and the statement's invariants live in
gateway/services/account_statements.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from aiodataloader import DataLoader

from gateway.domain.enums import EntryKind
from gateway.domain.pagination import Page, PageRequest
from gateway.graphql.context import Info
from gateway.graphql.money import Money
from gateway.graphql.nodes import NODES
from gateway.graphql.relay import Connection, connection, page_arguments
from gateway.graphql.scalars import Currency, DateTime
from gateway.services import account_statements
from gateway.store import account_statements as statement_reads
from gateway.store.account_statements import KindSums, StatementSums, Window
from gateway.store.platform_reader import PlatformReader

if TYPE_CHECKING:
    from gateway.graphql.ledger import LedgerEntry

SumsKey = tuple[uuid.UUID, Window]
EntriesKey = tuple[uuid.UUID, Window, PageRequest]


@strawberry.type(description="The entries of one kind in a statement's window.")
class EntryKindTotal:
    kind: EntryKind
    credits: Money = strawberry.field(description="The sum of the kind's credits (>= 0).")
    debits: Money = strawberry.field(description="The sum of the kind's debits (>= 0).")
    count: int = strawberry.field(description="How many entries of the kind.")

    @classmethod
    def of(cls, total: KindSums, currency: str) -> EntryKindTotal:
        return cls(
            kind=total.kind,
            credits=Money.of(total.credits, currency),
            debits=Money.of(total.debits, currency),
            count=total.count,
        )


@strawberry.type(
    description="An account's balance at `from` and at `to`, and the entries in between:"
    " openingBalance + credits - debits = closingBalance, always (checked on every statement)."
)
class AccountStatement:
    start: DateTime = strawberry.field(name="from", description="Included.")
    end: DateTime = strawberry.field(name="to", description="Excluded.")
    currency: Currency
    opening_balance: Money = strawberry.field(
        description="The balance at `from`: the sum of the entries before it."
    )
    closing_balance: Money = strawberry.field(
        description="The balance at `to`: the sum of the entries before it."
    )
    credits: Money = strawberry.field(description="The sum of the window's credits (>= 0).")
    debits: Money = strawberry.field(description="The sum of the window's debits (>= 0).")
    totals_by_kind: list[EntryKindTotal] = strawberry.field(
        description="One per entry kind present in the window, in the order of EntryKind."
    )
    account_id: strawberry.Private[uuid.UUID]
    window: strawberry.Private[Window]

    @classmethod
    def of(cls, statement: account_statements.AccountStatement) -> AccountStatement:
        currency = statement.currency
        return cls(
            start=DateTime(statement.window.start),
            end=DateTime(statement.window.end),
            currency=Currency(currency),
            opening_balance=Money.of(statement.opening_balance, currency),
            closing_balance=Money.of(statement.closing_balance, currency),
            credits=Money.of(statement.credits, currency),
            debits=Money.of(statement.debits, currency),
            totals_by_kind=[EntryKindTotal.of(total, currency) for total in statement.totals],
            account_id=statement.account_id,
            window=statement.window,
        )

    @strawberry.field(description="The window's entries, oldest first.")
    async def entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[LedgerEntry, strawberry.lazy("gateway.graphql.ledger")]]:
        page = page_arguments(first, after, last, before)
        loader = info.context.loaders.owned("statement_entries", _entries_loader)
        entries = await loader.load((self.account_id, self.window, page))
        return connection(entries, NODES.converter("LedgerEntry"))


def _sums_loader(reader: PlatformReader) -> DataLoader[SumsKey, StatementSums | None]:
    async def batch(keys: list[SumsKey]) -> list[StatementSums | None]:
        by_window: dict[Window, list[uuid.UUID]] = defaultdict(list)
        for account_id, window in keys:
            by_window[window].append(account_id)
        found: dict[SumsKey, StatementSums | None] = {}
        for window, ids in by_window.items():
            sums = await statement_reads.statement_sums(reader, account_ids=ids, window=window)
            found.update({(account_id, window): sums.get(account_id) for account_id in ids})
        return [found[key] for key in keys]

    return DataLoader(batch)


def _entries_loader(reader: PlatformReader) -> DataLoader[EntriesKey, Page[Any]]:
    async def batch(keys: list[EntriesKey]) -> list[Page[Any]]:
        groups: dict[tuple[Window, PageRequest], list[uuid.UUID]] = defaultdict(list)
        for account_id, window, page in keys:
            groups[window, page].append(account_id)
        found: dict[EntriesKey, Page[Any]] = {}
        for (window, page), ids in groups.items():
            pages = await statement_reads.statement_entries_pages(
                reader, account_ids=ids, window=window, page=page
            )
            found.update({(account_id, window, page): pages[account_id] for account_id in ids})
        return [found[key] for key in keys]

    return DataLoader(batch)


async def statement_of(
    info: Info, account_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> AccountStatement:
    """The statement of an account the caller reads (its loaders see only what it may)."""
    window = account_statements.window(start, end)
    loader = info.context.loaders.owned("statement_sums", _sums_loader)
    sums = await loader.load((account_id, window))
    assert sums is not None, f"account {account_id} was read, so it is visible"
    return AccountStatement.of(account_statements.compose(sums, window))
