"""Money: integer minor units plus an ISO 4217 currency, never a float.

The exponent of a currency (EUR 2, JPY 0, KWD 3) comes from the ISO 4217 table shipped by the
`iso4217` package. Amounts stay within +/- 2**53 - 1 so JavaScript clients read them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from iso4217 import Currency

MINOR_UNITS_MAX = 9_007_199_254_740_991


@cache
def currency_exponent(code: str) -> int | None:
    """The ISO 4217 minor-unit exponent of `code`, or None when it is no usable currency."""
    try:
        currency = Currency(code)
    except ValueError:
        return None
    exponent = currency.exponent
    return exponent if isinstance(exponent, int) else None


def is_currency(code: str) -> bool:
    """True for an upper-case ISO 4217 alpha-3 code that has a minor unit (not XAU, XXX...)."""
    return (
        len(code) == 3 and code.isascii() and code.isupper() and currency_exponent(code) is not None
    )


def is_minor_units(value: object) -> bool:
    """True for an int (not a bool) within the JavaScript-safe range."""
    return type(value) is int and -MINOR_UNITS_MAX <= value <= MINOR_UNITS_MAX


def format_decimal(amount: int, currency: str) -> str:
    """1234 EUR -> "12.34"; -5 EUR -> "-0.05"; 1234 JPY -> "1234"."""
    exponent = currency_exponent(currency) or 0
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{exponent}d}"


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    @property
    def decimal(self) -> str:
        return format_decimal(self.amount, self.currency)
