"""Money: integer minor units, ISO 4217 exponents, never a float."""

from __future__ import annotations

import pytest

from gateway.domain.money import MINOR_UNITS_MAX, Money, format_decimal, is_currency, is_minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "decimal"),
    [
        (1234, "EUR", "12.34"),
        (5, "EUR", "0.05"),
        (-5, "EUR", "-0.05"),
        (0, "EUR", "0.00"),
        (1234, "JPY", "1234"),
        (1234, "KWD", "1.234"),
        (MINOR_UNITS_MAX, "EUR", "90071992547409.91"),
    ],
)
def test_the_decimal_uses_the_currency_exponent(amount: int, currency: str, decimal: str) -> None:
    assert format_decimal(amount, currency) == decimal
    assert Money(amount, currency).decimal == decimal


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "CHF"])
def test_iso_currencies_are_accepted(code: str) -> None:
    assert is_currency(code)


@pytest.mark.parametrize("code", ["eur", "EURO", "XYZ", "", "XAU", "XXX", "E U"])
def test_unknown_lower_case_and_unitless_codes_are_refused(code: str) -> None:
    assert not is_currency(code)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (0, True),
        (1, True),
        (-1, True),
        (MINOR_UNITS_MAX, True),
        (-MINOR_UNITS_MAX, True),
        (MINOR_UNITS_MAX + 1, False),
        (1.0, False),
        (1.5, False),
        ("100", False),
        (True, False),
        (None, False),
    ],
)
def test_minor_units_are_js_safe_integers_only(value: object, accepted: bool) -> None:
    assert is_minor_units(value) is accepted
