"""What the graph reads: rows as plain records, not ORM objects.

A read for the graph never changes what it reads, so it needs none of the ORM's machinery
(identity map, change tracking, instrumented attributes): a record is a named tuple of the
table's columns, under the same attribute names as the table's model, built with one tuple
allocation and read at C speed. Writes keep using the models.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Reads = AsyncConnection | AsyncSession  # what a reader executes its statements on


@functools.cache
def columns(model: Any) -> tuple[Any, ...]:
    """The table's columns, in the order of the model's record."""
    return tuple(model.__table__.columns)


@functools.cache
def record_type(model: Any) -> Any:
    """The named tuple of `model`'s columns (one class per model)."""
    names = [column.key for column in columns(model)]
    return namedtuple(f"{model.__name__}Record", names)


def records(model: Any, rows: Iterable[Sequence[Any]]) -> list[Any]:
    """Records of `model` from rows that start with its columns (extra columns are dropped)."""
    make = record_type(model)._make
    width = len(columns(model))
    return [make(row[:width]) for row in rows]


def row_values(row: Any) -> dict[str, Any]:
    """The column values of a model's object, by column name: the row an INSERT writes."""
    model: Any = type(row)
    return {column.key: getattr(row, column.key) for column in columns(model)}
