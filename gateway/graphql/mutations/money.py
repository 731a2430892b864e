"""Money mutations: transfers, mandates, pay-ins and pay-outs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.graphql.access import require_own
from gateway.graphql.context import Info
from gateway.graphql.inputs import (
    CreateMandateInput,
    CreatePayInInput,
    CreatePayOutInput,
    CreateTransferInput,
)
from gateway.graphql.operations import DirectDebitMandate, PayIn, PayOut, Transfer
from gateway.graphql.rejections import (
    CurrencyMismatchRejection,
    ForbiddenRejection,
    IdempotencyConflictRejection,
    InsufficientFundsRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.services import ledger, payments
from gateway.store import ledger_tables, tables


@strawberry.type
class CreateTransferSuccess:
    transfer: Transfer
    idempotent_replay: bool


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


CreateTransferPayload = Annotated[
    CreateTransferSuccess
    | ValidationRejection
    | NotFoundRejection
    | ForbiddenRejection
    | InsufficientFundsRejection
    | CurrencyMismatchRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("CreateTransferPayload"),
]
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


@strawberry.type
class MoneyMutations:
    @strawberry.mutation(description="Move money between two accounts, immediately.")
    async def create_transfer(
        self,
        info: Info,
        input: CreateTransferInput,
    ) -> CreateTransferPayload:
        await require_own(info, tables.Account, input.debited_account_id, what="debited account")
        new = ledger.NewTransfer(
            debited_account_id=input.debited_account_id,
            credited_account_id=input.credited_account_id,
            amount=input.amount.amount,
            currency=input.amount.currency,
            label=input.label,
            idempotency_key=input.idempotency_key,
        )
        outcome = await ledger.create_transfer(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreateTransferSuccess(
            transfer=Transfer.of(outcome.value), idempotent_replay=outcome.replay
        )

    @strawberry.mutation(description="Ask for a direct-debit mandate on a user's bank account.")
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

    @strawberry.mutation(description="Expect funds by bank wire or direct debit.")
    async def create_pay_in(self, info: Info, input: CreatePayInInput) -> CreatePayInPayload:
        await require_own(info, tables.Account, input.credited_account_id, what="credited account")
        await require_own(info, ledger_tables.DirectDebitMandate, input.mandate_id, what="mandate")
        new = payments.NewPayIn(
            credited_account_id=input.credited_account_id,
            amount=input.amount.amount,
            currency=input.amount.currency,
            method=input.method,
            mandate_id=input.mandate_id,
            idempotency_key=input.idempotency_key,
        )
        outcome = await payments.create_pay_in(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreatePayInSuccess(pay_in=PayIn.of(outcome.value), idempotent_replay=outcome.replay)

    @strawberry.mutation(description="Send funds to the user's bank account.")
    async def create_pay_out(
        self,
        info: Info,
        input: CreatePayOutInput,
    ) -> CreatePayOutPayload:
        await require_own(info, tables.Account, input.debited_account_id, what="debited account")
        await require_own(
            info, ledger_tables.BankAccount, input.bank_account_id, what="bank account"
        )
        new = payments.NewPayOut(
            debited_account_id=input.debited_account_id,
            bank_account_id=input.bank_account_id,
            amount=input.amount.amount,
            currency=input.amount.currency,
            label=input.label,
            idempotency_key=input.idempotency_key,
        )
        outcome = await payments.create_pay_out(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreatePayOutSuccess(
            pay_out=PayOut.of(outcome.value), idempotent_replay=outcome.replay
        )
