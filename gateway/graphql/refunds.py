"""Refunds of pay-ins: funds of a SUCCEEDED pay-in sent back to the payer's bank, with their
own lifecycle (`CREATED -> PENDING -> SUCCEEDED | FAILED`, like a pay-out's).

`refundPayIn` refunds one pay-in, `refundPayIns` up to REFUNDS_PER_REQUEST_MAX at once (one
result per item, in order; each item its own transaction and idempotency key, so one item's
rejection never touches another; more items, or none, is a ValidationRejection of the whole
request and nothing runs). `decideRefund` records the bank's answer (operators), and
`simulateRefund` stands in for the bank on sandbox platforms. Rules in
gateway/services/refunds.py.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import RefundStatus
from gateway.domain.errors import Rejected
from gateway.graphql.access import BACKEND, OPERATOR, allow
from gateway.graphql.context import Info
from gateway.graphql.money import Money, MoneyInput
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    CurrencyMismatchRejection,
    IdempotencyConflictRejection,
    InsufficientFundsRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
    as_rejection,
)
from gateway.graphql.relay import Node
from gateway.graphql.sandbox import SettlementOutcome, SimulatePayload, SimulateSuccess
from gateway.graphql.scalars import DateTime
from gateway.services import refunds, sandbox
from gateway.services.unit_of_work import Outcome
from gateway.store import ledger_tables

if TYPE_CHECKING:
    from gateway.graphql.payments import PayIn

strawberry.enum(RefundStatus)


@strawberry.type(description="Funds of a pay-in sent back to the payer's bank.")
class Refund(Node):
    amount: Money = strawberry.field(description="Taken from the pay-in's account.")
    fee_refunded: Money = strawberry.field(
        description="The part of the pay-in's fee sent back with it, from the platform's fee"
        " account (zero: none)."
    )
    status: RefundStatus
    failure_reason: str | None
    created_at: DateTime
    updated_at: DateTime
    pay_in_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.Refund) -> Refund:
        return cls(
            id=strawberry.ID(str(row.id)),
            amount=Money.of(row.amount, row.currency),
            fee_refunded=Money.of(row.fee_refunded, row.currency),
            status=row.status,
            failure_reason=row.failure_reason,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            pay_in_id=row.pay_in_id,
        )

    @strawberry.field
    def pay_in(self, info: Info) -> Annotated[PayIn, strawberry.lazy("gateway.graphql.payments")]:
        pay_in: PayIn = NODES.edge(info.context.loaders, "PayIn", self.pay_in_id)
        return pay_in


NODES.register(Refund, table=ledger_tables.Refund)


@strawberry.input
class RefundPayInInput:
    pay_in_id: strawberry.ID
    amount: MoneyInput | None = strawberry.field(
        default=None,
        description="What to send back; absent: everything still refundable (the pay-in's"
        " amount minus its fee, minus earlier refunds that did not fail).",
    )
    refund_fee: bool = strawberry.field(
        default=False,
        description="Also send the pay-in's fee (what is left of it) back, from the platform's"
        " fee account.",
    )
    idempotency_key: str = strawberry.field(description="Required for every money movement.")


@strawberry.input
class RefundPayInsInput:
    items: list[RefundPayInInput] = strawberry.field(
        description=f"1 to {refunds.REFUNDS_PER_REQUEST_MAX} refunds, each with its own key."
    )


@strawberry.input
class DecideRefundInput:
    refund_id: strawberry.ID
    outcome: SettlementOutcome
    message: str | None = strawberry.field(default=None, description="Why it FAILED.")


@strawberry.input
class SimulateRefundInput:
    refund_id: strawberry.ID
    outcome: SettlementOutcome
    reason: str | None = None


@strawberry.type
class RefundPayInSuccess:
    refund: Refund
    idempotent_replay: bool


RefundPayInPayload = Annotated[
    RefundPayInSuccess
    | ValidationRejection
    | NotFoundRejection
    | InsufficientFundsRejection
    | CurrencyMismatchRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("RefundPayInPayload"),
]


@strawberry.type(
    description="The items' results: the request ran, each item succeeded or was rejected."
)
class RefundPayInsSuccess:
    results: list[RefundPayInPayload] = strawberry.field(
        description="One per item, in the order of the items."
    )


RefundPayInsPayload = Annotated[
    RefundPayInsSuccess | ValidationRejection, strawberry.union("RefundPayInsPayload")
]


@strawberry.type
class DecideRefundSuccess:
    refund: Refund


DecideRefundPayload = Annotated[
    DecideRefundSuccess | NotFoundRejection | InvalidStateRejection,
    strawberry.union("DecideRefundPayload"),
]


def _new(item: RefundPayInInput) -> refunds.NewRefund:
    return refunds.NewRefund(
        pay_in_id=item.pay_in_id,
        amount=item.amount.amount if item.amount else None,
        currency=item.amount.currency if item.amount else None,
        refund_fee=item.refund_fee,
        idempotency_key=item.idempotency_key,
    )


def _result(outcome: Outcome[ledger_tables.Refund] | Rejected) -> RefundPayInPayload:
    if isinstance(outcome, Rejected):
        rejection: RefundPayInPayload = as_rejection(outcome)
        return rejection
    return RefundPayInSuccess(refund=Refund.of(outcome.value), idempotent_replay=outcome.replay)


@strawberry.type
class RefundMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Send all or part of a SUCCEEDED pay-in back to the payer's bank.",
    )
    async def refund_pay_in(self, info: Info, input: RefundPayInInput) -> RefundPayInPayload:
        outcome = await refunds.refund_pay_in(
            info.context.services.db, platform_id=info.context.platform.id, new=_new(input)
        )
        return _result(outcome)

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description=f"Refund up to {refunds.REFUNDS_PER_REQUEST_MAX} pay-ins: one result per"
        " item, in order; each item on its own (its own key; a rejection touches no other).",
    )
    async def refund_pay_ins(self, info: Info, input: RefundPayInsInput) -> RefundPayInsPayload:
        outcomes = await refunds.refund_pay_ins(
            info.context.services.db,
            platform_id=info.context.platform.id,
            items=[_new(item) for item in input.items],
        )
        return RefundPayInsSuccess(results=[_result(outcome) for outcome in outcomes])

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description="Record the bank's answer on a refund (funds come back on FAILED).",
    )
    async def decide_refund(self, info: Info, input: DecideRefundInput) -> DecideRefundPayload:
        refund = await refunds.decide_refund(
            info.context.services.db,
            platform_id=info.context.platform.id,
            refund_id=input.refund_id,
            succeeded=input.outcome is SettlementOutcome.SUCCEEDED,
            reason=input.message,
        )
        return DecideRefundSuccess(refund=Refund.of(refund))

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Sandbox: settle a refund (funds come back on FAILED).",
    )
    async def simulate_refund(self, info: Info, input: SimulateRefundInput) -> SimulatePayload:
        refund = await sandbox.simulate_refund(
            info.context.services.db,
            platform_id=info.context.platform.id,
            refund_id=input.refund_id,
            succeeded=input.outcome is SettlementOutcome.SUCCEEDED,
            reason=input.reason,
        )
        return SimulateSuccess(object=Refund.of(refund))
