"""Scalar parsing: strict on input, one format on output."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.graphql.scalars import (
    parse_country_code,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_minor_units,
    serialize_datetime,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T12:00:00Z", dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)),
        ("2026-11-28T13:30:00+01:30", dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)),
        (
            "2026-11-28t12:00:00.123456789z",
            dt.datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=dt.UTC),
        ),
    ],
)
def test_datetimes_with_an_offset_are_read_as_utc(text: str, expected: dt.datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-11-28T12:00:00", "2026-11-28", "2026-13-01T00:00:00Z", "yesterday", 1700000000]
)
def test_datetimes_without_an_offset_or_invalid_are_refused(text: object) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_datetime(text)


def test_datetimes_are_written_in_utc_with_milliseconds() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    value = dt.datetime(2026, 11, 28, 13, 0, 0, 123999, tzinfo=paris)
    assert serialize_datetime(value) == "2026-11-28T12:00:00.123Z"


@pytest.mark.parametrize("text", ["2026-02-30", "26-01-01", "2026-1-1", "", 20260101])
def test_dates_must_be_real_yyyy_mm_dd(text: object) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_date(text)


def test_a_date_parses() -> None:
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)


@pytest.mark.parametrize("value", [1.0, "12", True, 2**53, -(2**53), None])
def test_minor_units_refuse_floats_strings_booleans_and_big_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="MinorUnits"):
        parse_minor_units(value)


@pytest.mark.parametrize(
    ("parse", "good", "bad"),
    [
        (parse_currency, "EUR", ["eur", "EU", "ABC", 978]),
        (parse_country_code, "FR", ["fr", "FRA", "XX", 250]),
    ],
)
def test_codes_are_iso_and_upper_case(parse: object, good: str, bad: list[object]) -> None:
    assert callable(parse)
    assert parse(good) == good
    for value in bad:
        with pytest.raises(ValueError, match=r"\w"):
            parse(value)
