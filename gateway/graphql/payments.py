"""Payments with the outside world: direct-debit mandates, pay-ins (funds expected by bank
wire or direct debit) and pay-outs (funds sent to the user's bank account).

A pay-in credits its account only once it settles; a pay-out debits at once and gives the
funds back if it fails.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from gateway.domain.enums import (
    MandateStatus,
    PayInMethod,
    PayInStatus,
    PayOutStatus,
    RefundStatus,
)
from gateway.graphql.access import BACKEND, USER_TOKEN, allow, require_own
from gateway.graphql.accounts import account_named_by
from gateway.graphql.context import Info
from gateway.graphql.fees import FEE_DESCRIPTION, fee_of
from gateway.graphql.money import Money, MoneyInput
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    CurrencyMismatchRejection,
    ForbiddenRejection,
    IdempotencyConflictRejection,
    InsufficientFundsRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.relay import Node
from gateway.graphql.scalars import Date, DateTime
from gateway.services import lifecycle, payments
from gateway.store import ledger_tables, tables

if TYPE_CHECKING:
    from gateway.graphql.accounts import Account, BankAccount
    from gateway.graphql.refunds import Refund
    from gateway.graphql.users import User


strawberry.enum(MandateStatus)
strawberry.enum(PayInMethod)
strawberry.enum(PayInStatus)
strawberry.enum(PayOutStatus)


def _bank_account(info: Info, bank_account_id: uuid.UUID) -> BankAccount:
    bank_account: BankAccount = NODES.edge(info.context.loaders, "BankAccount", bank_account_id)
    return bank_account


@strawberry.type
class DirectDebitMandate(Node):
    status: MandateStatus
    failure_reason: str | None
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]
    bank_account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.DirectDebitMandate) -> DirectDebitMandate:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            failure_reason=row.failure_reason,
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
            bank_account_id=row.bank_account_id,
        )

    @strawberry.field
    def user(self, info: Info) -> Annotated[User, strawberry.lazy("gateway.graphql.users")]:
        user: User = NODES.edge(info.context.loaders, "User", self.user_id)
        return user

    @strawberry.field
    def bank_account(
        self, info: Info
    ) -> Annotated[BankAccount, strawberry.lazy("gateway.graphql.accounts")]:
        return _bank_account(info, self.bank_account_id)


NODES.register(DirectDebitMandate, table=ledger_tables.DirectDebitMandate)


@strawberry.type
class PayIn(Node):
    amount: Money
    fee: Money = strawberry.field(
        description="The platform's fee, taken out of the amount when the pay-in succeeds (zero"
        " when none): the account is credited amount - fee (amountReceived - fee for a"
        " recorded wire)."
    )
    method: PayInMethod
    wire_reference: str | None = strawberry.field(
        description="BANK_WIRE only: the reference the payer must quote."
    )
    status: PayInStatus
    failure_reason: str | None
    amount_received: Money | None = strawberry.field(
        description="BANK_WIRE: what the recorded wire brought, the amount credited."
    )
    value_date: Date | None = strawberry.field(description="When the bank booked the wire.")
    bank_reference: str | None = strawberry.field(
        description="The bank's reference of the recorded wire."
    )
    created_at: DateTime
    updated_at: DateTime
    credited_account_id: strawberry.Private[uuid.UUID]
    mandate_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def of(cls, row: ledger_tables.PayIn) -> PayIn:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=Money.of(row.amount, row.currency),
            fee=Money.of(row.fee, row.currency),
            method=row.method,
            wire_reference=row.wire_reference,
            status=row.status,
            failure_reason=row.failure_reason,
            amount_received=(
                None if row.amount_received is None else Money.of(row.amount_received, row.currency)
            ),
            value_date=Date(row.value_date) if row.value_date else None,
            bank_reference=row.bank_reference,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            credited_account_id=row.credited_account_id,
            mandate_id=row.mandate_id,
        )

    @strawberry.field
    async def credited_account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]:
        return await account_named_by(info, self.credited_account_id)

    @strawberry.field(description="DIRECT_DEBIT only.")
    def mandate(self, info: Info) -> DirectDebitMandate | None:
        if self.mandate_id is None:
            return None
        mandate: DirectDebitMandate = NODES.edge(
            info.context.loaders, "DirectDebitMandate", self.mandate_id
        )
        return mandate

    async def _refund_rows(self, info: Info) -> list[ledger_tables.Refund]:
        loader = info.context.loaders.children(ledger_tables.Refund, "pay_in_id")
        rows: list[ledger_tables.Refund] = await loader.load(uuid.UUID(self.id))
        return rows

    @strawberry.field(description="Oldest first, failed ones included.")
    async def refunds(
        self, info: Info
    ) -> list[Annotated[Refund, strawberry.lazy("gateway.graphql.refunds")]]:
        refund: Any = NODES.converter("Refund")
        return [refund(row) for row in await self._refund_rows(info)]

    @strawberry.field(
        description="The sum of the refunds that did not fail (fees given back not included);"
        " at most what the account was credited: amount (or amountReceived) - fee."
    )
    async def refunded_amount(self, info: Info) -> Money:
        rows = await self._refund_rows(info)
        total = sum(row.amount for row in rows if row.status is not RefundStatus.FAILED)
        return Money.of(total, self.amount.currency)


NODES.register(PayIn, table=ledger_tables.PayIn)


@strawberry.type
class PayOut(Node):
    amount: Money
    fee: Money = strawberry.field(
        description="The platform's fee, taken out of the amount (zero when none): the bank"
        " receives amount - fee."
    )
    label: str | None
    status: PayOutStatus
    failure_reason: str | None
    created_at: DateTime
    updated_at: DateTime
    debited_account_id: strawberry.Private[uuid.UUID]
    bank_account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.PayOut) -> PayOut:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=Money.of(row.amount, row.currency),
            fee=Money.of(row.fee, row.currency),
            label=row.label,
            status=row.status,
            failure_reason=row.failure_reason,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            debited_account_id=row.debited_account_id,
            bank_account_id=row.bank_account_id,
        )

    @strawberry.field
    async def debited_account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]:
        return await account_named_by(info, self.debited_account_id)

    @strawberry.field
    def bank_account(
        self, info: Info
    ) -> Annotated[BankAccount, strawberry.lazy("gateway.graphql.accounts")]:
        return _bank_account(info, self.bank_account_id)


NODES.register(PayOut, table=ledger_tables.PayOut)


@strawberry.input
class CreateMandateInput:
    user_id: strawberry.ID
    bank_account_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class CreatePayInInput:
    credited_account_id: strawberry.ID
    amount: MoneyInput
    method: PayInMethod
    mandate_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for DIRECT_DEBIT; the mandate must be ACTIVE."
    )
    idempotency_key: str
    fee: MoneyInput | None = strawberry.field(default=None, description=FEE_DESCRIPTION)


@strawberry.input
class CreatePayOutInput:
    debited_account_id: strawberry.ID
    bank_account_id: strawberry.ID = strawberry.field(
        description="Must belong to the account's user."
    )
    amount: MoneyInput
    label: str | None = None
    idempotency_key: str
    fee: MoneyInput | None = strawberry.field(default=None, description=FEE_DESCRIPTION)


@strawberry.type
class CreateMandateSuccess:
    mandate: DirectDebitMandate


@strawberry.type
class CreatePayInSuccess:
    pay_in: PayIn
    idempotent_replay: bool


@strawberry.type
class CreatePayOutSuccess:
    pay_out: PayOut
    idempotent_replay: bool


CreateMandatePayload = Annotated[
    CreateMandateSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("CreateMandatePayload"),
]
CreatePayInPayload = Annotated[
    CreatePayInSuccess
    | ValidationRejection
    | NotFoundRejection
    | ForbiddenRejection
    | CurrencyMismatchRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("CreatePayInPayload"),
]
CreatePayOutPayload = Annotated[
    CreatePayOutSuccess
    | ValidationRejection
    | NotFoundRejection
    | ForbiddenRejection
    | InsufficientFundsRejection
    | CurrencyMismatchRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("CreatePayOutPayload"),
]


@strawberry.input
class CancelMandateInput:
    mandate_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type
class CancelMandateSuccess:
    mandate: DirectDebitMandate


CancelMandatePayload = Annotated[
    CancelMandateSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("CancelMandatePayload"),
]


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Ask for a direct-debit mandate on a user's bank account.",
    )
    async def create_mandate(
        self,
        info: Info,
        input: CreateMandateInput,
    ) -> CreateMandatePayload:
        await require_own(info, tables.User, input.user_id, what="user")
        await require_own(
            info, ledger_tables.BankAccount, input.bank_account_id, what="bank account"
        )
        new = payments.NewMandate(
            user_id=input.user_id,
            bank_account_id=input.bank_account_id,
            idempotency_key=input.idempotency_key,
        )
        outcome = await payments.create_mandate(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreateMandateSuccess(mandate=DirectDebitMandate.of(outcome.value))

    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Expect funds by bank wire or direct debit.",
    )
    async def create_pay_in(self, info: Info, input: CreatePayInInput) -> CreatePayInPayload:
        await require_own(info, tables.Account, input.credited_account_id, what="credited account")
        await require_own(info, ledger_tables.DirectDebitMandate, input.mandate_id, what="mandate")
        fee, fee_currency = fee_of(info, input.fee)
        new = payments.NewPayIn(
            credited_account_id=input.credited_account_id,
            amount=input.amount.amount,
            currency=input.amount.currency,
            method=input.method,
            mandate_id=input.mandate_id,
            idempotency_key=input.idempotency_key,
            fee=fee,
            fee_currency=fee_currency,
        )
        outcome = await payments.create_pay_in(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreatePayInSuccess(pay_in=PayIn.of(outcome.value), idempotent_replay=outcome.replay)

    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN), description="Send funds to the user's bank account."
    )
    async def create_pay_out(
        self,
        info: Info,
        input: CreatePayOutInput,
    ) -> CreatePayOutPayload:
        await require_own(info, tables.Account, input.debited_account_id, what="debited account")
        await require_own(
            info, ledger_tables.BankAccount, input.bank_account_id, what="bank account"
        )
        fee, fee_currency = fee_of(info, input.fee)
        new = payments.NewPayOut(
            debited_account_id=input.debited_account_id,
            bank_account_id=input.bank_account_id,
            amount=input.amount.amount,
            currency=input.amount.currency,
            label=input.label,
            idempotency_key=input.idempotency_key,
            fee=fee,
            fee_currency=fee_currency,
        )
        outcome = await payments.create_pay_out(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreatePayOutSuccess(
            pay_out=PayOut.of(outcome.value), idempotent_replay=outcome.replay
        )

    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Cancel an ACTIVE mandate: no direct debit may use it any more.",
    )
    async def cancel_mandate(self, info: Info, input: CancelMandateInput) -> CancelMandatePayload:
        await require_own(info, ledger_tables.DirectDebitMandate, input.mandate_id, what="mandate")
        cancellation = lifecycle.MandateCancellation(
            mandate_id=input.mandate_id, idempotency_key=input.idempotency_key
        )
        mandate = await lifecycle.cancel_mandate(
            info.context.services.db,
            platform_id=info.context.platform.id,
            cancellation=cancellation,
        )
        return CancelMandateSuccess(mandate=DirectDebitMandate.of(mandate))
