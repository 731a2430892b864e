"""Cursor pagination, the Relay way.

A cursor names the last (or first) row a client has seen by its id, never by an offset, so a
page does not shift when rows are inserted before it. Page sizes are bounded: `first`/`last`
default to 50 and may not exceed 100.

A connection read with a `filter` or an `orderBy` (a `Listing`) is ordered by creation time,
keyset on (created_at, id), either way. Its cursors hold that pair and a fingerprint of the
listing (direction and filter), so a cursor used under another order or filter is refused
rather than silently skipping or repeating rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.domain.errors import InvalidArgument

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 100
_CURSOR_PREFIX = "c1:"
_EVENT_CURSOR_PREFIX = "e1:"
_LISTING_CURSOR_PREFIX = "k1:"

T = TypeVar("T")
Key = uuid.UUID | int | tuple[dt.datetime, uuid.UUID]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a connection asks for: `size` rows after `after` (forward) or before `before`."""

    size: int
    forward: bool = True
    after: Key | None = None  # a row id, an event sequence, or (created_at, id)
    before: Key | None = None


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
        pass
    if _is_listing_cursor(cursor):
        raise InvalidArgument(
            f"`{argument}` was issued under a `filter` or an `orderBy`: pass the same ones as"
            " the page it came from, or start again without a cursor.",
            argument=argument,
        )
    raise InvalidArgument(f"`{argument}` is not a valid cursor.", argument=argument)


def _is_listing_cursor(cursor: str) -> bool:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return text.startswith(_LISTING_CURSOR_PREFIX)


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


class OrderDirection(enum.Enum):
    ASC = "ASC"  # oldest first
    DESC = "DESC"  # newest first


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a filtered connection keeps: each field is one condition, all of them hold (AND).
    `created_from` is inclusive and `created_to` exclusive (consecutive ranges do not
    overlap); `amount_min` and `amount_max` are inclusive, in minor units."""

    status: str | None = None  # an enum member's name
    kind: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    amount_min: int | None = None
    amount_max: int | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """A connection read with a filter or an order: by creation time, in `direction`."""

    criteria: Criteria
    direction: OrderDirection
    also: str = ""  # the connection's other arguments that narrow it (events: types, object)

    @property
    def descending(self) -> bool:
        return self.direction is OrderDirection.DESC

    def fingerprint(self) -> str:
        """Names the order and the filter inside a cursor (not a secret: a cursor's scope)."""
        c = self.criteria
        parts = [self.direction.value, c.status, c.kind, c.amount_min, c.amount_max, self.also]
        times = [
            t.astimezone(dt.UTC).isoformat() if t else None for t in (c.created_from, c.created_to)
        ]
        text = repr([*parts, *times])
        return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def check_criteria(
    criteria: Criteria, *, signed_amounts: bool = False, times: str = "createdAt"
) -> Criteria:
    """`criteria` when it makes sense, else InvalidArgument naming the field. Amounts of
    operations are positive: a negative bound is refused, unless `signed_amounts` (ledger
    entries, whose debits are negative)."""
    if (
        criteria.created_from is not None
        and criteria.created_to is not None
        and criteria.created_from > criteria.created_to
    ):
        raise InvalidArgument(
            f"`filter.{times}.from` must not be after `filter.{times}.to`.",
            argument=f"filter.{times}",
        )
    for name, value in (("min", criteria.amount_min), ("max", criteria.amount_max)):
        if value is not None and value < 0 and not signed_amounts:
            raise InvalidArgument(
                f"`filter.amount.{name}` must not be negative (got {value}): amounts are"
                " positive counts of minor units.",
                argument=f"filter.amount.{name}",
            )
    if (
        criteria.amount_min is not None
        and criteria.amount_max is not None
        and criteria.amount_min > criteria.amount_max
    ):
        raise InvalidArgument(
            "`filter.amount.min` must not exceed `filter.amount.max`"
            f" ({criteria.amount_min} > {criteria.amount_max}).",
            argument="filter.amount",
        )
    return criteria


def encode_listing_cursor(listing: Listing, created_at: dt.datetime, key: uuid.UUID) -> str:
    """A cursor of a listing: its fingerprint, then the row's (created_at, id)."""
    micros = _micros(created_at)
    text = f"{_LISTING_CURSOR_PREFIX}{listing.fingerprint()}:{micros}:{key.hex}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def decode_listing_cursor(
    cursor: str, *, listing: Listing, argument: str
) -> tuple[dt.datetime, uuid.UUID]:
    """The (created_at, id) inside a listing cursor issued under the same order and filter;
    InvalidArgument otherwise, saying which."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        text = ""
    if text.startswith(_CURSOR_PREFIX):
        raise InvalidArgument(
            f"`{argument}` was issued without `filter` and `orderBy`: it does not apply to"
            " this order or filter; start again without a cursor.",
            argument=argument,
        )
    try:
        if not text.startswith(_LISTING_CURSOR_PREFIX):
            raise ValueError(text)
        fingerprint, micros, hex_id = text.removeprefix(_LISTING_CURSOR_PREFIX).split(":")
        moment = _EPOCH + dt.timedelta(microseconds=int(micros))
        key = uuid.UUID(hex=hex_id)
    except (ValueError, OverflowError):
        raise InvalidArgument(f"`{argument}` is not a valid cursor.", argument=argument) from None
    if fingerprint != listing.fingerprint():
        raise InvalidArgument(
            f"`{argument}` was issued under another `orderBy` or `filter`: pass the same ones"
            " as the page it came from, or start again without a cursor.",
            argument=argument,
        )
    return moment, key


def listing_page_request(
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    listing: Listing,
) -> PageRequest:
    """Relay arguments of a listing, its cursors checked against it."""
    if first is not None and last is not None:
        raise InvalidArgument("Pass `first` or `last`, not both.", argument="last")

    def decode(cursor: str | None, argument: str) -> tuple[dt.datetime, uuid.UUID] | None:
        if cursor is None:
            return None
        return decode_listing_cursor(cursor, listing=listing, argument=argument)

    after_key, before_key = decode(after, "after"), decode(before, "before")
    if last is not None:
        return PageRequest(_size(last, argument="last"), False, after_key, before_key)
    return PageRequest(_size(first, argument="first"), True, after_key, before_key)
