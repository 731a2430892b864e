"""Node, PageInfo and the Relay connection shapes, built from a store Page (edges on demand)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from gateway.domain.pagination import (
    Page,
    PageRequest,
    decode_event_cursor,
    encode_cursor,
    encode_event_cursor,
    page_request,
)

T = TypeVar("T")
R = TypeVar("R")


@strawberry.interface(description="An object with a globally unique id: its UUID.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    def _edges(self) -> list[Edge[T]]:
        """Built when asked for: most reads want `nodes` only, and a cursor per row costs."""
        cursor_of = self.cursor_of
        pairs = zip(self.items, self.nodes, strict=True)
        return [Edge(cursor=cursor_of(item), node=node) for item, node in pairs]

    edges: list[Edge[T]] = strawberry.field(resolver=_edges, init=False)
    nodes: list[T]
    page_info: PageInfo
    total_count: int
    items: strawberry.Private[Sequence[Any]]  # the page's rows, in the order of `nodes`
    cursor_of: strawberry.Private[Callable[[Any], str]]


def _row_cursor(item: Any) -> str:
    return encode_cursor(item.id)


def connection(
    page: Page[R], convert: Callable[[R], T], cursor: Callable[[R], str] | None = None
) -> Connection[T]:
    items = page.items
    cursor_of = cursor or _row_cursor
    return Connection(
        nodes=[convert(item) for item in items],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=cursor_of(items[0]) if items else None,
            end_cursor=cursor_of(items[-1]) if items else None,
        ),
        total_count=page.total_count,
        items=items,
        cursor_of=cursor_of,
    )


def event_connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    def cursor(row: R) -> str:
        return encode_event_cursor(row.platform_id, row.sequence)  # type: ignore[attr-defined]

    return connection(page, convert, cursor)


def event_page_arguments(
    first: int | None, after: str | None, *, platform_id: uuid.UUID
) -> PageRequest:
    """Events page forward only, after an event cursor of the caller's platform."""
    page = page_request(first=first, after=None, last=None, before=None)
    sequence = (
        decode_event_cursor(after, platform_id=platform_id, argument="after")
        if after is not None
        else None
    )
    return PageRequest(page.size, True, sequence, None)


def page_arguments(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return page_request(first=first, after=after, last=last, before=before)
