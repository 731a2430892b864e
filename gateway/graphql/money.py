"""Money as the graph shows and takes it: an integer amount in the currency's minor unit."""

from __future__ import annotations

import strawberry

from gateway.domain.money import Money as DomainMoney
from gateway.graphql.scalars import Currency, MinorUnits


@strawberry.type
class Money:
    amount: MinorUnits
    currency: Currency
    decimal: str = strawberry.field(
        description='"12.34" for 1234 EUR cents; the exponent comes from ISO 4217'
    )

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        value = DomainMoney(amount, currency)
        return cls(amount=MinorUnits(amount), currency=Currency(currency), decimal=value.decimal)


@strawberry.input
class MoneyInput:
    amount: MinorUnits
    currency: Currency
