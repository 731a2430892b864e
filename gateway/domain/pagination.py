"""Cursor pagination, the Relay way.

A cursor names the last (or first) row a client has seen by its id, never by an offset, so a
page does not shift when rows are inserted before it. Page sizes are bounded: `first`/`last`
default to 50 and may not exceed 100.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.domain.errors import InvalidArgument

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 100
_CURSOR_PREFIX = "c1:"
_EVENT_CURSOR_PREFIX = "e1:"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a connection asks for: `size` rows after `after` (forward) or before `before`."""

    size: int
    forward: bool = True
    after: uuid.UUID | int | None = None  # a row id, or an event sequence
    before: uuid.UUID | int | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


def encode_cursor(key: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, argument: str) -> uuid.UUID:
    """The id inside `cursor`; InvalidArgument when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        return uuid.UUID(text.removeprefix(_CURSOR_PREFIX))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument(f"`{argument}` is not a valid cursor.", argument=argument) from None


def encode_event_cursor(platform_id: uuid.UUID, sequence: int) -> str:
    """An event's cursor: its platform and its sequence, so it resumes only in its own scope."""
    text = f"{_EVENT_CURSOR_PREFIX}{platform_id.hex}:{sequence}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_event_cursor(cursor: str, *, platform_id: uuid.UUID, argument: str) -> int:
    """The sequence inside an event cursor of this platform; InvalidArgument otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_EVENT_CURSOR_PREFIX):
            raise ValueError(text)
        scope, _, number = text.removeprefix(_EVENT_CURSOR_PREFIX).partition(":")
        owner = uuid.UUID(hex=scope)
        sequence = int(number)
        if sequence < 0:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument(
            f"`{argument}` is not a valid event cursor.", argument=argument
        ) from None
    if owner != platform_id:
        raise InvalidArgument(
            f"`{argument}` is an event cursor of another scope.", argument=argument
        )
    return sequence


def _size(value: int | None, *, argument: str) -> int:
    if value is None:
        return PAGE_SIZE_DEFAULT
    if value < 0:
        raise InvalidArgument(f"`{argument}` must not be negative.", argument=argument)
    if value > PAGE_SIZE_MAX:
        raise InvalidArgument(
            f"`{argument}` must not exceed {PAGE_SIZE_MAX} (got {value}).", argument=argument
        )
    return value


def page_request(
    *, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    """Check Relay connection arguments and turn them into a PageRequest."""
    if first is not None and last is not None:
        raise InvalidArgument("Pass `first` or `last`, not both.", argument="last")
    after_id = decode_cursor(after, argument="after") if after is not None else None
    before_id = decode_cursor(before, argument="before") if before is not None else None
    if last is not None:
        return PageRequest(_size(last, argument="last"), False, after_id, before_id)
    return PageRequest(_size(first, argument="first"), True, after_id, before_id)
