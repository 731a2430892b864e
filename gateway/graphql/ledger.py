"""The ledger: transfers between accounts, the entries they write, and `createTransfer`.

Every operation (a transfer, a pay-in, a pay-out) writes entries whose legs sum to zero; an
entry names its operation, read back through the node registry by the operation's type.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import EntryKind, TransferStatus
from gateway.graphql.access import BACKEND, USER_TOKEN, allow, require_own
from gateway.graphql.accounts import account_named_by
from gateway.graphql.context import Info
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
from gateway.graphql.scalars import DateTime
from gateway.services import ledger
from gateway.store import ledger_tables, tables

if TYPE_CHECKING:
    from gateway.graphql.accounts import Account
    from gateway.graphql.payments import PayIn, PayOut


strawberry.enum(EntryKind)
strawberry.enum(TransferStatus)


@strawberry.type
class Transfer(Node):
    amount: Money
    label: str | None
    status: TransferStatus
    created_at: DateTime
    debited_account_id: strawberry.ID = strawberry.field(
        description="The debited account's id, readable under any credential (a user token sees"
        " the other party's account only by id)."
    )
    credited_account_id: strawberry.ID = strawberry.field(
        description="The credited account's id, readable under any credential."
    )

    @classmethod
    def of(cls, row: ledger_tables.Transfer) -> Transfer:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=Money.of(row.amount, row.currency),
            label=row.label,
            status=row.status,
            created_at=DateTime(row.created_at),
            debited_account_id=strawberry.ID(str(row.debited_account_id)),
            credited_account_id=strawberry.ID(str(row.credited_account_id)),
        )

    @strawberry.field
    async def debited_account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]:
        return await account_named_by(info, uuid.UUID(self.debited_account_id))

    @strawberry.field
    async def credited_account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]:
        return await account_named_by(info, uuid.UUID(self.credited_account_id))


NODES.register(Transfer, table=ledger_tables.Transfer)


@strawberry.type
class LedgerEntry(Node):
    kind: EntryKind
    amount: Money = strawberry.field(description="Signed: credits positive, debits negative.")
    balance_after: Money
    created_at: DateTime
    account_id: strawberry.Private[uuid.UUID]
    operation_type: strawberry.Private[str]
    operation_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.LedgerEntry) -> LedgerEntry:
        assert row.account_id is not None, "settlement legs are not nodes"
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            amount=Money.of(row.amount, row.currency),
            balance_after=Money.of(row.balance_after, row.currency),
            created_at=DateTime(row.created_at),
            account_id=row.account_id,
            operation_type=row.operation_type,
            operation_id=row.operation_id,
        )

    @strawberry.field
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]:
        return await account_named_by(info, self.account_id)

    @strawberry.field
    async def operation(
        self, info: Info
    ) -> Annotated[
        Transfer
        | Annotated[PayIn, strawberry.lazy("gateway.graphql.payments")]
        | Annotated[PayOut, strawberry.lazy("gateway.graphql.payments")],
        strawberry.union("Operation"),
    ]:
        # An entry's operation type is the name of the operation's node type.
        loaders = info.context.loaders
        operation: Transfer | PayIn | PayOut | None = await NODES.read(
            loaders, self.operation_type, self.operation_id
        )
        assert operation is not None, f"{self.operation_type} {self.operation_id} is missing"
        return operation


NODES.register(LedgerEntry, table=ledger_tables.LedgerEntry)


@strawberry.input
class CreateTransferInput:
    debited_account_id: strawberry.ID
    credited_account_id: strawberry.ID
    amount: MoneyInput
    label: str | None = None
    idempotency_key: str = strawberry.field(description="Required for every money movement.")


@strawberry.type
class CreateTransferSuccess:
    transfer: Transfer
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


@strawberry.type
class TransferMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Move money between two accounts, immediately.",
    )
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
