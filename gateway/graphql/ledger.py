"""The ledger: transfers between accounts and their reversals, the entries they write,
`createTransfer` and `reverseTransfer`.

Every operation (a transfer, a reversal, a pay-in, a pay-out, a refund) writes entries whose
legs sum to zero; an entry names its operation, read back through the node registry by the
operation's type. A transfer lists its reversals (`Transfer.reversals`, one statement for every
transfer of a page); rules in gateway/services/reversals.py.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import EntryKind, TransferStatus
from gateway.domain.errors import Rejected
from gateway.graphql.access import BACKEND, OPERATOR, USER_TOKEN, allow, require_own
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
    as_rejection,
)
from gateway.graphql.relay import Node
from gateway.graphql.scalars import DateTime
from gateway.services import ledger, reversals
from gateway.services.money_back import BULK_ITEMS_MAX
from gateway.services.unit_of_work import Outcome
from gateway.store import ledger_tables, tables

if TYPE_CHECKING:
    from gateway.graphql.accounts import Account
    from gateway.graphql.payments import PayIn, PayOut
    from gateway.graphql.refunds import Refund


strawberry.enum(EntryKind)
strawberry.enum(TransferStatus)


@strawberry.type
class Transfer(Node):
    amount: Money
    fee: Money = strawberry.field(
        description="The platform's fee, taken out of the amount (zero when none): the credited"
        " account got amount - fee."
    )
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
            fee=Money.of(row.fee, row.currency),
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

    async def _reversal_rows(self, info: Info) -> list[ledger_tables.TransferReversal]:
        loader = info.context.loaders.children(ledger_tables.TransferReversal, "transfer_id")
        rows: list[ledger_tables.TransferReversal] = await loader.load(uuid.UUID(self.id))
        return rows

    @strawberry.field(description="Oldest first.")
    async def reversals(self, info: Info) -> list[TransferReversal]:
        return [TransferReversal.of(row) for row in await self._reversal_rows(info)]

    @strawberry.field(
        description="The sum of the reversals' amounts (fees given back not included); at most"
        " amount - fee."
    )
    async def reversed_amount(self, info: Info) -> Money:
        total = sum(row.amount for row in await self._reversal_rows(info))
        return Money.of(total, self.amount.currency)


NODES.register(Transfer, table=ledger_tables.Transfer)


@strawberry.type(
    description="All or part of a transfer moved back, from its credited account to its"
    " debited one."
)
class TransferReversal(Node):
    amount: Money
    fee_refunded: Money = strawberry.field(
        description="The part of the transfer's fee given back with this reversal (zero: none)."
    )
    label: str | None
    status: TransferStatus
    created_at: DateTime
    transfer_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.TransferReversal) -> TransferReversal:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=Money.of(row.amount, row.currency),
            fee_refunded=Money.of(row.fee_refunded, row.currency),
            label=row.label,
            status=row.status,
            created_at=DateTime(row.created_at),
            transfer_id=row.transfer_id,
        )

    @strawberry.field
    def transfer(self, info: Info) -> Transfer:
        transfer: Transfer = NODES.edge(info.context.loaders, "Transfer", self.transfer_id)
        return transfer


NODES.register(TransferReversal, table=ledger_tables.TransferReversal)


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
        | Annotated[PayOut, strawberry.lazy("gateway.graphql.payments")]
        | TransferReversal
        | Annotated[Refund, strawberry.lazy("gateway.graphql.refunds")],
        strawberry.union("Operation"),
    ]:
        # An entry's operation type is the name of the operation's node type.
        loaders = info.context.loaders
        operation: Transfer | PayIn | PayOut | TransferReversal | Refund | None = await NODES.read(
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
    fee: MoneyInput | None = strawberry.field(default=None, description=FEE_DESCRIPTION)


@strawberry.input
class ReverseTransferInput:
    transfer_id: strawberry.ID
    amount: MoneyInput | None = strawberry.field(
        default=None,
        description="What to take back; absent: everything still reversible (the transfer's"
        " amount minus its fee, minus earlier reversals).",
    )
    refund_fee: bool = strawberry.field(
        default=False,
        description="Also give the transfer's fee (what is left of it) back to the debited"
        " account, from the platform's fee account.",
    )
    label: str | None = None
    idempotency_key: str = strawberry.field(description="Required for every money movement.")


@strawberry.type
class ReverseTransferSuccess:
    reversal: TransferReversal
    idempotent_replay: bool


ReverseTransferPayload = Annotated[
    ReverseTransferSuccess
    | ValidationRejection
    | NotFoundRejection
    | InsufficientFundsRejection
    | CurrencyMismatchRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("ReverseTransferPayload"),
]


@strawberry.input
class ReverseTransfersInput:
    items: list[ReverseTransferInput] = strawberry.field(
        description=f"1 to {BULK_ITEMS_MAX} reversals, each with its own key."
    )


@strawberry.type
class ReverseTransfersSuccess:
    results: list[ReverseTransferPayload] = strawberry.field(
        description="One per item, in the order of the items."
    )


ReverseTransfersPayload = Annotated[
    ReverseTransfersSuccess | ValidationRejection, strawberry.union("ReverseTransfersPayload")
]


def _new_reversal(input: ReverseTransferInput) -> reversals.NewReversal:
    return reversals.NewReversal(
        transfer_id=input.transfer_id,
        amount=input.amount.amount if input.amount else None,
        currency=input.amount.currency if input.amount else None,
        refund_fee=input.refund_fee,
        label=input.label,
        idempotency_key=input.idempotency_key,
    )


def _reversal_result(
    outcome: Outcome[ledger_tables.TransferReversal] | Rejected,
) -> ReverseTransferPayload:
    if isinstance(outcome, Rejected):
        rejection: ReverseTransferPayload = as_rejection(outcome)
        return rejection
    reversal = TransferReversal.of(outcome.value)
    return ReverseTransferSuccess(reversal=reversal, idempotent_replay=outcome.replay)


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
        fee, fee_currency = fee_of(info, input.fee)
        new = ledger.NewTransfer(
            debited_account_id=input.debited_account_id,
            credited_account_id=input.credited_account_id,
            amount=input.amount.amount,
            currency=input.amount.currency,
            label=input.label,
            idempotency_key=input.idempotency_key,
            fee=fee,
            fee_currency=fee_currency,
        )
        outcome = await ledger.create_transfer(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreateTransferSuccess(
            transfer=Transfer.of(outcome.value), idempotent_replay=outcome.replay
        )

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Move all or part of a transfer back, from its credited account to its"
        " debited one; many partial reversals, up to what the transfer credited.",
    )
    async def reverse_transfer(
        self, info: Info, input: ReverseTransferInput
    ) -> ReverseTransferPayload:
        outcome = await reversals.reverse_transfer(
            info.context.services.db,
            platform_id=info.context.platform.id,
            new=_new_reversal(input),
        )
        return _reversal_result(outcome)

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description=f"Reverse up to {BULK_ITEMS_MAX} transfers: one result per item, in order;"
        " each item on its own (its own key; a rejection touches no other).",
    )
    async def reverse_transfers(
        self, info: Info, input: ReverseTransfersInput
    ) -> ReverseTransfersPayload:
        outcomes = await reversals.reverse_transfers(
            info.context.services.db,
            platform_id=info.context.platform.id,
            items=[_new_reversal(item) for item in input.items],
        )
        return ReverseTransfersSuccess(results=[_reversal_result(o) for o in outcomes])
