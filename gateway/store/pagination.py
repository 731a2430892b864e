"""Keyset pagination in SQL, one statement per page or per batch of pages.

Rows are ordered by their id (UUIDv7, so by creation). A page is "`size` rows after (or before)
a cursor id"; fetching `size + 1` rows tells whether another page follows. `totalCount` and the
opposite-direction flag are computed in the same statement:

- `keyset_page`: a top-level connection, using the primary-key index and LIMIT;
- `grouped_pages`: one page per parent (e.g. each user's accounts) for many parents at once,
  using window functions partitioned by the parent, so a nested connection under a list of N
  parents is still one statement. Each parent also keeps one "carrier" row (its first row
  overall) so that its total is known even when no row falls inside the requested window.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from gateway.domain.lru import Lru
from gateway.domain.pagination import Page, PageRequest
from gateway.store.records import Reads, columns, record_type, records

M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True, slots=True)
class Order:
    """The column a connection is ordered by, and its direction. `key` is unique, or `tie`
    is given and (key, tie) is: its cursors are then pairs, compared as row values, which
    PostgreSQL matches against an index on (..., key, tie)."""

    key: Any
    descending: bool = False
    tie: Any = None

    def _row(self) -> Any:
        return self.key if self.tie is None else sa.tuple_(self.key, self.tie)

    def _value(self, cursor: Any) -> Any:
        if self.tie is None:
            return cursor
        key, tie = cursor
        return sa.tuple_(_typed(key, self.key.type), _typed(tie, self.tie.type))

    def after(self, cursor: Any) -> Any:
        row, value = self._row(), self._value(cursor)
        return row < value if self.descending else row > value

    def before(self, cursor: Any) -> Any:
        row, value = self._row(), self._value(cursor)
        return row > value if self.descending else row < value

    def columns(self) -> list[Any]:
        return [self.key] if self.tie is None else [self.key, self.tie]

    def fetch(self, forward: bool) -> list[Any]:
        """The ORDER BY clauses that read a page in the direction it is fetched."""
        descending = forward == self.descending
        return [column.desc() if descending else column.asc() for column in self.columns()]


def _typed(value: Any, type_: Any) -> Any:
    """A cursor's value as SQL of the column's type (a bound parameter is already SQL)."""
    return value if isinstance(value, sa.ClauseElement) else sa.literal(value, type_)


def _order(model: type[SQLModel], order: Order | None) -> Order:
    return order or Order(model.id)  # type: ignore[attr-defined]


def _window(order: Order, page: PageRequest) -> Any:
    bounds = []
    if page.after is not None:
        bounds.append(order.after(page.after))
    if page.before is not None:
        bounds.append(order.before(page.before))
    return sa.and_(sa.true(), *bounds)


def _beyond(order: Order, page: PageRequest) -> Any:
    """Rows on the far side of the cursor the client came from (for has-previous/has-next)."""
    if page.forward and page.after is not None:
        return sa.not_(order.after(page.after))
    if not page.forward and page.before is not None:
        return sa.not_(order.before(page.before))
    return sa.false()


def _page(items: Sequence[Any], page: PageRequest, *, total: int, beyond: bool) -> Page[Any]:
    more = len(items) > page.size
    kept = list(items[: page.size])
    if not page.forward:
        kept.reverse()
    return Page(
        items=kept,
        has_next_page=more if page.forward else beyond,
        has_previous_page=beyond if page.forward else more,
        total_count=total,
    )


# Statements built once per shape (see `keyset_page`): the cursors as bound parameters.
AFTER, BEFORE, GROUP_IDS = "pg_after", "pg_before", "pg_group_ids"
_shaped: Lru[Hashable, Any] = Lru(512)


def _bound(name: str, cursor: Any, order: Order | None, params: dict[str, Any]) -> Any:
    """The bound parameter(s) standing for `cursor` (a pair under an order with a tie)."""
    if not isinstance(cursor, tuple):
        params[name] = cursor
        return sa.bindparam(name)
    assert order is not None
    assert order.tie is not None
    params[f"{name}_key"], params[f"{name}_tie"] = cursor
    return (
        sa.bindparam(f"{name}_key", type_=order.key.type),
        sa.bindparam(f"{name}_tie", type_=order.tie.type),
    )


def _bound_page(
    page: PageRequest, order: Order | None = None
) -> tuple[PageRequest, dict[str, Any]]:
    """`page` with its cursors as bound parameters, and their values."""
    params: dict[str, Any] = {}
    after: Any = None
    before: Any = None
    if page.after is not None:
        after = _bound(AFTER, page.after, order, params)
    if page.before is not None:
        before = _bound(BEFORE, page.before, order, params)
    return PageRequest(page.size, page.forward, after, before), params


def dialect_name(connection: Reads) -> str:
    bind = connection if isinstance(connection, AsyncConnection) else connection.bind
    assert bind is not None
    return str(bind.dialect.name)


def one_of(column: Any, name: str, dialect: str) -> Any:
    """`column` is one of the values of the bound parameter `name` (a list): `= ANY(array)` on
    PostgreSQL, one parameter whatever the list's length; an expanding IN elsewhere."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def _page_shape(page: PageRequest) -> tuple[Any, ...]:
    return (page.size, page.forward, page.after is None, page.before is None)


def _keyset_statements(
    model: Any, where: Sequence[Any], page: PageRequest, order: Order | None
) -> tuple[Any, Any]:
    """The page's statement, and the one that counts when the page is empty."""
    by = _order(model, order)
    total = sa.select(sa.func.count()).select_from(model).where(*where).scalar_subquery()
    beyond = sa.exists().where(*where, _beyond(by, page))
    statement = (
        sa.select(*columns(model), total.label("total"), beyond.label("beyond"))
        .where(*where, _window(by, page))
        .order_by(*by.fetch(page.forward))
        .limit(page.size + 1)
    )
    return statement, sa.select(total, beyond)


async def keyset_page(
    connection: Reads,
    *,
    model: type[M],
    where: Sequence[Any],
    page: PageRequest,
    order: Order | None = None,
    shape: Hashable | None = None,
    params: Mapping[str, Any] | None = None,
) -> Page[Any]:
    """One page of `model` records matching `where` (by id ascending unless `order` says
    else). With a `shape` (a key naming `model`, `where` and `order`), `where` holds bound
    parameters whose values are `params`, and the statements are built once per shape and
    page shape: building a statement costs more than running it."""
    if shape is None:
        statement, counts = _keyset_statements(model, where, page, order)
        values: dict[str, Any] = dict(params or {})
    else:
        bound, values = _bound_page(page, order)
        key = ("keyset", shape, _page_shape(page))
        built = _shaped.get(key)
        if built is None:
            built = _keyset_statements(model, where, bound, order)
            _shaped.put(key, built)
        statement, counts = built
        values.update(params or {})
    rows = (await connection.execute(statement, values)).all()
    if rows:
        return _page(records(model, rows), page, total=rows[0][-2], beyond=bool(rows[0][-1]))
    total_count, beyond_flag = (await connection.execute(counts, values)).one()
    return _page([], page, total=total_count, beyond=bool(beyond_flag))


def _grouped_statement(
    model: Any, group: Any, within: Any, where: Sequence[Any], page: PageRequest, order: Any
) -> Any:
    """`within`: the condition that picks the groups."""
    by = _order(model, order)
    inside = sa.case((_window(by, page), 1), else_=0)
    fetch = by.fetch(page.forward)
    partition = {"partition_by": group}
    inner = (
        sa.select(
            *columns(model),
            inside.label("inside"),
            sa.func.sum(inside).over(**partition, order_by=fetch, rows=(None, 0)).label("pos"),
            sa.func.row_number()
            .over(**partition, order_by=by.fetch(not by.descending))
            .label("carrier"),
            sa.func.count().over(**partition).label("total"),
            sa.func.sum(sa.case((_beyond(by, page), 1), else_=0)).over(**partition).label("beyond"),
        )
        .where(within, *where)
        .subquery()
    )
    fields = [inner.c[column.key] for column in columns(model)]
    return (
        sa.select(*fields, inner.c.inside, inner.c.total, inner.c.beyond, inner.c[group.key])
        .where(
            sa.or_(sa.and_(inner.c.inside == 1, inner.c.pos <= page.size + 1), inner.c.carrier == 1)
        )
        .order_by(getattr(inner.c, group.key), inner.c.pos)
    )


async def grouped_pages(
    connection: Reads,
    *,
    model: type[M],
    group: Any,
    group_ids: Sequence[uuid.UUID],
    where: Sequence[Any],
    page: PageRequest,
    order: Order | None = None,
    shape: Hashable | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[uuid.UUID, Page[Any]]:
    """One page of `model` records per value of the `group` column, in a single statement
    (`shape` and `params` as for `keyset_page`)."""
    if shape is None:
        within = group.in_(group_ids)
        statement = _grouped_statement(model, group, within, where, page, order)
        values: dict[str, Any] = {}
    else:
        bound, values = _bound_page(page, order)
        dialect = dialect_name(connection)
        key = ("grouped", shape, dialect, _page_shape(page))
        statement = _shaped.get(key)
        if statement is None:
            ids = one_of(group, GROUP_IDS, dialect)
            statement = _grouped_statement(model, group, ids, where, bound, order)
            _shaped.put(key, statement)
        values.update(params or {})
        values[GROUP_IDS] = list(group_ids)
    make = record_type(model)._make
    width = len(columns(model))
    found: dict[uuid.UUID, tuple[list[Any], int, bool]] = {}
    for row in (await connection.execute(statement, values)).all():
        is_inside, total, beyond, group_id = row[width:]
        items, _, _ = found.setdefault(group_id, ([], total, bool(beyond)))
        if is_inside:
            items.append(make(row[:width]))
    pages: dict[uuid.UUID, Page[Any]] = {}
    for group_id in group_ids:
        items, total, beyond = found.get(group_id, ([], 0, False))
        pages[group_id] = _page(items, page, total=total, beyond=beyond)
    return pages
