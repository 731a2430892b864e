"""Listing cursors as pure values: what they hold and what they refuse."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from gateway.domain.errors import InvalidArgument
from gateway.domain.pagination import (
    Criteria,
    Listing,
    OrderDirection,
    check_criteria,
    decode_cursor,
    decode_listing_cursor,
    encode_cursor,
    encode_listing_cursor,
)

MOMENT = dt.datetime(2026, 12, 6, 0, 30, 1, 123456, tzinfo=dt.UTC)
KEY = uuid.UUID("01a248b5-1997-77ad-84d8-331afdb61454")
NEWEST = Listing(Criteria(amount_min=100), OrderDirection.DESC)


def test_a_listing_cursor_gives_back_the_exact_creation_time_and_id() -> None:
    cursor = encode_listing_cursor(NEWEST, MOMENT, KEY)
    assert decode_listing_cursor(cursor, listing=NEWEST, argument="after") == (MOMENT, KEY)


@pytest.mark.parametrize(
    "other",
    [
        Listing(Criteria(amount_min=100), OrderDirection.ASC),
        Listing(Criteria(amount_min=101), OrderDirection.DESC),
        Listing(Criteria(amount_min=100, status="FAILED"), OrderDirection.DESC),
        Listing(Criteria(amount_min=100, created_to=MOMENT), OrderDirection.DESC),
    ],
)
def test_a_listing_cursor_is_refused_under_another_order_or_filter(other: Listing) -> None:
    cursor = encode_listing_cursor(NEWEST, MOMENT, KEY)
    with pytest.raises(InvalidArgument, match="issued under another `orderBy` or `filter`"):
        decode_listing_cursor(cursor, listing=other, argument="after")


def test_plain_and_listing_cursors_do_not_pass_for_each_other() -> None:
    with pytest.raises(InvalidArgument, match="issued without `filter` and `orderBy`"):
        decode_listing_cursor(encode_cursor(KEY), listing=NEWEST, argument="before")
    listing_cursor = encode_listing_cursor(NEWEST, MOMENT, KEY)
    with pytest.raises(InvalidArgument, match="issued under a `filter` or an `orderBy`"):
        decode_cursor(listing_cursor, argument="after")


def test_the_same_instant_in_another_offset_is_the_same_filter() -> None:
    paris = MOMENT.astimezone(dt.timezone(dt.timedelta(hours=1)))
    utc = Listing(Criteria(created_from=MOMENT), OrderDirection.ASC)
    local = Listing(Criteria(created_from=paris), OrderDirection.ASC)
    assert utc.fingerprint() == local.fingerprint()


def test_empty_ranges_are_allowed_and_crossed_ones_are_not() -> None:
    assert check_criteria(Criteria(created_from=MOMENT, created_to=MOMENT))
    assert check_criteria(Criteria(amount_min=5, amount_max=5))
    with pytest.raises(InvalidArgument, match="must not be after"):
        check_criteria(Criteria(created_from=MOMENT, created_to=MOMENT - dt.timedelta(1)))
    assert check_criteria(Criteria(amount_min=-10, amount_max=-1), signed_amounts=True)
    with pytest.raises(InvalidArgument, match="must not be negative"):
        check_criteria(Criteria(amount_min=-10, amount_max=-1))
