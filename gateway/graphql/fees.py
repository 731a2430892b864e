"""Platform fees: the fee accounts (`Platform.feeAccounts`) and the `fee` input that
createTransfer, createPayIn and createPayOut take.

A fee comes out of the movement's amount and is credited to the platform's fee account for
the currency (rules: gateway/services/fees.py). Only the platform's key sets a fee: under a
user token a `fee` is a ForbiddenRejection. Fee accounts belong to the platform, not to a user:
they are not nodes, and a user token reads an empty list.
"""

from __future__ import annotations

import strawberry

from gateway.domain.errors import Forbidden
from gateway.graphql.context import Info
from gateway.graphql.money import Money, MoneyInput
from gateway.graphql.scalars import Currency, DateTime
from gateway.store import ledger_tables

FEE_DESCRIPTION = (
    "The platform's fee, taken out of the amount (same currency, 0 < fee < amount) and"
    " credited to its fee account. Platform keys only: under a user token it is Forbidden."
)


@strawberry.type(description="The platform's fees collected in one currency.")
class FeeAccount:
    currency: Currency
    balance: Money = strawberry.field(description="Fees collected minus fees given back.")
    created_at: DateTime

    @classmethod
    def of(cls, row: ledger_tables.FeeAccount) -> FeeAccount:
        return cls(
            currency=Currency(row.currency),
            balance=Money.of(row.balance, row.currency),
            created_at=DateTime(row.created_at),
        )


def fee_of(info: Info, fee: MoneyInput | None) -> tuple[int | None, str | None]:
    """The fee's amount and currency for a service; Forbidden under a user token."""
    if fee is None:
        return None, None
    if info.context.principal.user_id is not None:
        raise Forbidden("Only the platform's key sets fees.")
    return fee.amount, fee.currency


async def fee_accounts(info: Info) -> list[FeeAccount]:
    rows = await info.context.loaders.reader.fee_accounts()
    return [FeeAccount.of(row) for row in rows]
