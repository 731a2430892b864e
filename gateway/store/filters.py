"""Filters and orders of connections in SQL: each filter field is one condition on one column.

A `Listing` (gateway/domain/pagination.py) reads a connection by creation time, keyset on
(created_at, id) in either direction. Each field of its criteria becomes one sargable
condition (a column compared with a bound parameter, never wrapped in a function), so that an
index whose leading columns are the scope (platform, or account) and then the creation time
serves the date range and the order at once:

- `ix_ledger_entries_account_created` (account_id, created_at, id): an account's entries;
- `ix_transfers_platform_created`, `ix_pay_ins_platform_created`,
  `ix_pay_outs_platform_created` (platform_id, created_at, id): the platform's lists;
- `ix_events_platform_occurred` (platform_id, occurred_at, id): the platform's events.

Status and kind are equalities checked on the rows the index yields (few values each: an index
of their own would rarely be chosen); amounts are ranges on `amount`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.domain.pagination import Criteria, Listing
from gateway.store.journal_tables import Event
from gateway.store.ledger_tables import LedgerEntry, PayIn, PayOut, Transfer
from gateway.store.pagination import Order


@dataclass(frozen=True, slots=True)
class Columns:
    """Which column of a table each criterion reads (None: the table has no such notion)."""

    created: str
    status: str | None = None
    kind: str | None = None
    amount: str | None = None


COLUMNS: dict[type, Columns] = {
    Transfer: Columns("created_at", status="status", amount="amount"),
    PayIn: Columns("created_at", status="status", kind="method", amount="amount"),
    PayOut: Columns("created_at", status="status", amount="amount"),
    LedgerEntry: Columns("created_at", kind="kind", amount="amount"),
    Event: Columns("occurred_at", status="status", kind="type"),
}

_STATUS, _KIND = "f_status", "f_kind"
_FROM, _TO, _MIN, _MAX = "f_created_from", "f_created_to", "f_amount_min", "f_amount_max"


def created_column(model: type) -> str:
    """The name of the column holding a row's creation time (what listing cursors hold)."""
    return COLUMNS[model].created


def listing_order(model: Any, listing: Listing) -> Order:
    """By creation time then id, in the listing's direction."""
    created = getattr(model, COLUMNS[model].created)
    return Order(created, descending=listing.descending, tie=model.id)


def _member(column: Any, name: str) -> Any:
    """An enum column's member of that name (a plain string column keeps the name)."""
    enum_class = getattr(column.type, "enum_class", None)
    return enum_class[name] if enum_class is not None else name


def listing_conditions(
    model: Any, criteria: Criteria
) -> tuple[list[Any], dict[str, Any], Hashable]:
    """The criteria as conditions with bound parameters, their values, and their shape (which
    criteria are present: the statement is built once per shape)."""
    names = COLUMNS[model]
    conditions: list[Any] = []
    values: dict[str, Any] = {}

    def add(column_name: str | None, parameter: str, value: Any, compare: str) -> None:
        if value is None:
            return
        if column_name is None:
            raise ValueError(f"{model.__name__} has no {parameter.removeprefix('f_')}")
        column = getattr(model, column_name)
        bound = sa.bindparam(parameter, type_=column.type)
        conditions.append(column.operate(_OPERATORS[compare], bound))
        values[parameter] = _member(column, value) if parameter in (_STATUS, _KIND) else value

    add(names.status, _STATUS, criteria.status, "==")
    add(names.kind, _KIND, criteria.kind, "==")
    add(names.created, _FROM, criteria.created_from, ">=")
    add(names.created, _TO, criteria.created_to, "<")
    add(names.amount, _MIN, criteria.amount_min, ">=")
    add(names.amount, _MAX, criteria.amount_max, "<=")
    return conditions, values, tuple(sorted(values))


_OPERATORS = {
    "==": sa.sql.operators.eq,
    ">=": sa.sql.operators.ge,
    "<": sa.sql.operators.lt,
    "<=": sa.sql.operators.le,
}
