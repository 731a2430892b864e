"""Filters and ordering of the money connections: the input types, and a listing's connection.

`Platform.transfers`, `payIns`, `payOuts`, `events` and `Account.entries` take `filter` (one
input type per noun, every field optional, all given fields must hold) and `orderBy`
(`CreatedAtOrder`: by creation time, ASC or DESC). Without either, a connection reads as it
always did, with the cursors it always issued. With either, it is a listing (see
gateway/domain/pagination.py): ordered by (createdAt, id), its cursors bound to its order and
filter. Bad bounds (from after to, min above max, a negative amount of an operation) are
`BAD_USER_INPUT` errors naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from gateway.domain.enums import (
    EntryKind,
    EventType,
    PayInMethod,
    PayInStatus,
    PayOutStatus,
    TransferStatus,
)
from gateway.domain.errors import InvalidArgument
from gateway.domain.pagination import (
    Criteria,
    Listing,
    OrderDirection,
    Page,
    PageRequest,
    check_criteria,
    encode_listing_cursor,
    listing_page_request,
)
from gateway.graphql.relay import Connection, connection
from gateway.graphql.scalars import DateTime, MinorUnits

R = TypeVar("R")
T = TypeVar("T")
EVENT_STATUS_LENGTH_MAX = 32  # the column's length

strawberry.enum(OrderDirection, description="ASC: oldest first; DESC: newest first.")


@strawberry.input(description="Order by creation time (then id, so ties keep one order).")
class CreatedAtOrder:
    direction: OrderDirection


@strawberry.input(description="Instants from `from` (inclusive) to `to` (exclusive).")
class DateTimeRange:
    from_: DateTime | None = strawberry.field(name="from", default=None)
    to: DateTime | None = None


@strawberry.input(description="Amounts from `min` to `max`, both inclusive, in minor units.")
class AmountRange:
    min: MinorUnits | None = None
    max: MinorUnits | None = None


@strawberry.input(description="Transfers that match every given field.")
class TransferFilter:
    status: TransferStatus | None = None
    created_at: DateTimeRange | None = None
    amount: AmountRange | None = None


@strawberry.input(description="Pay-ins that match every given field.")
class PayInFilter:
    status: PayInStatus | None = None
    method: PayInMethod | None = None
    created_at: DateTimeRange | None = None
    amount: AmountRange | None = None


@strawberry.input(description="Pay-outs that match every given field.")
class PayOutFilter:
    status: PayOutStatus | None = None
    created_at: DateTimeRange | None = None
    amount: AmountRange | None = None


@strawberry.input(
    description="Entries that match every given field; `amount` is signed like the entries'"
    " (debits negative), so its bounds may be negative."
)
class LedgerEntryFilter:
    kind: EntryKind | None = None
    created_at: DateTimeRange | None = None
    amount: AmountRange | None = None


@strawberry.input(description="Events that match every given field.")
class EventFilter:
    type: EventType | None = None
    status: str | None = strawberry.field(
        default=None, description="The object's status after the event, e.g. SUCCEEDED."
    )
    occurred_at: DateTimeRange | None = None


AnyFilter = TransferFilter | PayInFilter | PayOutFilter | LedgerEntryFilter | EventFilter


def _name(value: Any) -> str | None:
    return None if value is None else str(value.name)


def criteria_of(given: AnyFilter | None) -> Criteria:
    """The filter's fields as store-neutral criteria (enum members by name)."""
    if given is None:
        return Criteria()
    times = getattr(given, "created_at", None) or getattr(given, "occurred_at", None)
    amounts: AmountRange | None = getattr(given, "amount", None)
    kind = getattr(given, "kind", None) or getattr(given, "method", None)
    raw_status = getattr(given, "status", None)
    status = raw_status if isinstance(given, EventFilter) else _name(raw_status)
    if status is not None and len(status) > EVENT_STATUS_LENGTH_MAX:
        raise InvalidArgument(
            f"`filter.status` may hold at most {EVENT_STATUS_LENGTH_MAX} characters.",
            argument="filter.status",
        )
    return Criteria(
        status=status,
        kind=_name(getattr(given, "type", None) or kind),
        created_from=times.from_ if times else None,
        created_to=times.to if times else None,
        amount_min=amounts.min if amounts else None,
        amount_max=amounts.max if amounts else None,
    )


def listing_of(
    given: AnyFilter | None,
    order_by: CreatedAtOrder | None,
    *,
    default: OrderDirection,
    signed_amounts: bool = False,
    also: str = "",
) -> Listing | None:
    """The listing a connection's `filter` and `orderBy` ask for; None when neither is given
    (the connection then reads as before). `also`: the connection's other narrowing
    arguments, which its cursors are bound to as well."""
    if given is None and order_by is None:
        return None
    times = "occurredAt" if isinstance(given, EventFilter) else "createdAt"
    criteria = check_criteria(criteria_of(given), signed_amounts=signed_amounts, times=times)
    return Listing(criteria, order_by.direction if order_by else default, also)


def listing_page(
    listing: Listing,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    return listing_page_request(first=first, after=after, last=last, before=before, listing=listing)


def listing_connection(
    page: Page[R], convert: Callable[[R], T], listing: Listing, created: str
) -> Connection[T]:
    """A listing's connection: each cursor holds the row's (`created`, id) and the listing."""

    def cursor(row: Any) -> str:
        return encode_listing_cursor(listing, getattr(row, created), row.id)

    return connection(page, convert, cursor)
