"""Node, PageInfo and the Relay connection shapes, built eagerly from a store Page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

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
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    total_count: int


def connection(
    page: Page[R], convert: Callable[[R], T], cursor: Callable[[R], str] | None = None
) -> Connection[T]:
    nodes = [convert(item) for item in page.items]
    name = cursor or (lambda item: encode_cursor(item.id))  # type: ignore[attr-defined]
    cursors = [name(item) for item in page.items]
    return Connection(
        edges=[Edge(cursor=cursor, node=node) for cursor, node in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=page.total_count,
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
