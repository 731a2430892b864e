"""Node, PageInfo and the Relay connection shapes, built eagerly from a store Page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from gateway.domain.pagination import Page, PageRequest, encode_cursor, page_request

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


def connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    nodes = [convert(item) for item in page.items]
    cursors = [encode_cursor(item.id) for item in page.items]  # type: ignore[attr-defined]
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


def empty_connection() -> Connection[Any]:
    return connection(
        Page(items=[], has_next_page=False, has_previous_page=False, total_count=0), lambda x: x
    )


def page_arguments(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return page_request(first=first, after=after, last=last, before=before)
