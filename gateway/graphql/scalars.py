"""Custom scalars, each validated fully on input and written one way on output.

- DateTime: RFC 3339 with an explicit offset on input; UTC with millisecond precision and a
  `Z` on output (`2026-11-28T12:00:00.000Z`, what JavaScript's `toISOString` writes).
- Date: `YYYY-MM-DD`.
- MinorUnits: a JSON/GraphQL integer within +/- 2**53 - 1; floats, numeric strings and
  booleans are refused.
- Currency: an upper-case ISO 4217 alpha-3 code with a minor unit; CountryCode: an assigned
  upper-case ISO 3166-1 alpha-2 code.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from gateway.domain.countries import is_country_code
from gateway.domain.money import MINOR_UNITS_MAX, is_currency, is_minor_units

DateTime = NewType("DateTime", dt.datetime)
Date = NewType("Date", dt.date)
MinorUnits = NewType("MinorUnits", int)
Currency = NewType("Currency", str)
CountryCode = NewType("CountryCode", str)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def serialize_datetime(value: dt.datetime) -> str:
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise ValueError(
            "DateTime must be an RFC 3339 string with an offset, e.g. 2026-11-28T12:00:00Z"
        )
    text = value.upper().replace("Z", "+00:00")
    whole, dot, rest = text.partition(".")
    if dot:  # Python parses at most 6 fraction digits
        digits = re.match(r"\d+", rest)
        assert digits is not None
        text = f"{whole}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end() :]}"
    try:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date-time.") from None


def parse_date(value: object) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("Date must be a string YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid calendar date.") from None


def parse_minor_units(value: object) -> int:
    if not is_minor_units(value):
        raise ValueError(
            f"MinorUnits must be an integer between -{MINOR_UNITS_MAX} and {MINOR_UNITS_MAX};"
            " floats and strings are refused."
        )
    assert isinstance(value, int)
    return value


def serialize_minor_units(value: int) -> int:
    return parse_minor_units(value)


def parse_currency(value: object) -> str:
    if not isinstance(value, str) or not is_currency(value):
        raise ValueError("Currency must be an upper-case ISO 4217 code, e.g. EUR.")
    return value


def parse_country_code(value: object) -> str:
    if not isinstance(value, str) or not is_country_code(value):
        raise ValueError("CountryCode must be an upper-case ISO 3166-1 alpha-2 code, e.g. FR.")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="RFC 3339 date-time; written in UTC, e.g. 2026-11-28T12:00:00.000Z",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    Date: strawberry.scalar(
        name="Date",
        description="Calendar date YYYY-MM-DD",
        serialize=dt.date.isoformat,
        parse_value=parse_date,
    ),
    MinorUnits: strawberry.scalar(
        name="MinorUnits",
        description="Integer count of a currency's minor unit, within +/- 9007199254740991",
        serialize=serialize_minor_units,
        parse_value=parse_minor_units,
    ),
    Currency: strawberry.scalar(
        name="Currency",
        description="ISO 4217 alpha-3 code in upper case, e.g. EUR",
        serialize=str,
        parse_value=parse_currency,
    ),
    CountryCode: strawberry.scalar(
        name="CountryCode",
        description="ISO 3166-1 alpha-2 code in upper case, e.g. FR",
        serialize=str,
        parse_value=parse_country_code,
    ),
}
