"""Operator decisions: the back-office half of every asynchronous step, on PRODUCTION and
SANDBOX platforms alike, for OPERATOR keys only (BACKEND, READONLY and user tokens get
FORBIDDEN).

Compliance decides users and documents (services/kyc.py); treasury records wires, fails them,
settles direct debits and pay-outs, records charge-backs and returns, and decides mandates
(services/settlement.py). The sandbox's `simulate*` mutations and its settler call the same
services: one state machine, whoever decides. A decision that does not apply to the object's
current state is an `InvalidStateRejection` whose `currentState` names that state; each takes
an optional `idempotencyKey` (a retry replays its result, another decision with the same key is
an `IdempotencyConflictRejection`).
"""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from gateway.domain.enums import (
    DocumentStatus,
    PayInStatus,
    PayOutStatus,
    RefusalReason,
    ValidationStatus,
)
from gateway.graphql.access import OPERATOR, allow
from gateway.graphql.context import Info
from gateway.graphql.kyc import KycDocument
from gateway.graphql.money import MoneyInput
from gateway.graphql.payments import DirectDebitMandate, PayIn, PayOut
from gateway.graphql.rejections import (
    CurrencyMismatchRejection,
    IdempotencyConflictRejection,
    InsufficientFundsRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.sandbox import ValidationOutcome
from gateway.graphql.scalars import Date
from gateway.graphql.users import User
from gateway.services import kyc, settlement


@strawberry.enum
class DocumentOutcome(enum.Enum):
    VALIDATED = "VALIDATED"
    REFUSED = "REFUSED"


@strawberry.enum
class MandateOutcome(enum.Enum):
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


@strawberry.enum
class PayOutOutcome(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"


@strawberry.enum
class DirectDebitOutcome(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CHARGED_BACK = "CHARGED_BACK"


@strawberry.input
class DecideUserValidationInput:
    user_id: strawberry.ID
    outcome: ValidationOutcome
    reasons: list[RefusalReason] = strawberry.field(
        default_factory=list,
        description=(
            "At least one when the outcome is REFUSED or WAITING_FOR_INFORMATION; none when"
            " VALIDATED."
        ),
    )
    message: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class DecideDocumentInput:
    document_id: strawberry.ID
    outcome: DocumentOutcome
    reason: RefusalReason | None = strawberry.field(default=None, description="Required to refuse.")
    message: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class DecideMandateInput:
    mandate_id: strawberry.ID
    outcome: MandateOutcome
    reason: str | None = strawberry.field(default=None, description="Why it failed.")
    idempotency_key: str | None = None


@strawberry.input
class RecordWirePayInInput:
    pay_in_id: strawberry.ID
    amount_received: MoneyInput = strawberry.field(
        description="What arrived; may differ from the announced amount, not in currency."
    )
    value_date: Date
    bank_reference: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class FailWirePayInInput:
    pay_in_id: strawberry.ID
    reason: str | None = strawberry.field(
        default=None, description="Why: the wire never came, or was rejected."
    )
    idempotency_key: str | None = None


@strawberry.input
class SettleDirectDebitInput:
    pay_in_id: strawberry.ID
    outcome: DirectDebitOutcome
    reason: str | None = strawberry.field(default=None, description="Why it failed or came back.")
    idempotency_key: str | None = None


@strawberry.input
class DecidePayOutInput:
    pay_out_id: strawberry.ID
    outcome: PayOutOutcome
    reason: str | None = strawberry.field(default=None, description="Why it failed or came back.")
    idempotency_key: str | None = None


@strawberry.type
class DecideUserValidationSuccess:
    user: User
    idempotent_replay: bool


@strawberry.type
class DecideDocumentSuccess:
    document: KycDocument
    idempotent_replay: bool


@strawberry.type
class DecideMandateSuccess:
    mandate: DirectDebitMandate
    idempotent_replay: bool


@strawberry.type
class DecidePayInSuccess:
    pay_in: PayIn
    idempotent_replay: bool


@strawberry.type
class DecidePayOutSuccess:
    pay_out: PayOut
    idempotent_replay: bool


_COMMON = (
    ValidationRejection | NotFoundRejection | InvalidStateRejection | IdempotencyConflictRejection
)
DecideUserValidationPayload = Annotated[
    DecideUserValidationSuccess | _COMMON, strawberry.union("DecideUserValidationPayload")
]
DecideDocumentPayload = Annotated[
    DecideDocumentSuccess | _COMMON, strawberry.union("DecideDocumentPayload")
]
DecideMandatePayload = Annotated[
    DecideMandateSuccess | _COMMON, strawberry.union("DecideMandatePayload")
]
RecordWirePayInPayload = Annotated[
    DecidePayInSuccess | CurrencyMismatchRejection | _COMMON,
    strawberry.union("RecordWirePayInPayload"),
]
FailWirePayInPayload = Annotated[
    DecidePayInSuccess | _COMMON, strawberry.union("FailWirePayInPayload")
]
SettleDirectDebitPayload = Annotated[
    DecidePayInSuccess | InsufficientFundsRejection | _COMMON,
    strawberry.union("SettleDirectDebitPayload"),
]
DecidePayOutPayload = Annotated[
    DecidePayOutSuccess | _COMMON, strawberry.union("DecidePayOutPayload")
]


@strawberry.type
class DecisionMutations:
    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description=(
            "Compliance: decide a PENDING user's validation. VALIDATED sets qualifiedAt, turns"
            " its CREATED accounts VALIDATED and validates its documents under review; REFUSED"
            " refuses them; REFUSED and WAITING_FOR_INFORMATION need at least one reason."
        ),
    )
    async def decide_user_validation(
        self, info: Info, input: DecideUserValidationInput
    ) -> DecideUserValidationPayload:
        decision = kyc.ValidationDecision(
            user_id=input.user_id,
            outcome=ValidationStatus(input.outcome.value),
            reasons=tuple(input.reasons),
            message=input.message,
            idempotency_key=input.idempotency_key,
        )
        outcome = await kyc.decide_user_validation(
            info.context.services.db, platform_id=info.context.platform.id, decision=decision
        )
        return DecideUserValidationSuccess(
            user=User.of(outcome.value), idempotent_replay=outcome.replay
        )

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description=(
            "Compliance: validate or refuse one document under review (VALIDATION_ASKED);"
            " refusing needs a reason, and the document's requirement comes back once the user"
            " is no longer under review."
        ),
    )
    async def decide_document(
        self, info: Info, input: DecideDocumentInput
    ) -> DecideDocumentPayload:
        decision = kyc.DocumentDecision(
            document_id=input.document_id,
            outcome=DocumentStatus(input.outcome.value),
            reason=input.reason,
            message=input.message,
            idempotency_key=input.idempotency_key,
        )
        outcome = await kyc.decide_document(
            info.context.services.db, platform_id=info.context.platform.id, decision=decision
        )
        return DecideDocumentSuccess(
            document=KycDocument.of(outcome.value), idempotent_replay=outcome.replay
        )

    @strawberry.mutation(
        extensions=allow(OPERATOR), description="Activate or fail a CREATED mandate."
    )
    async def decide_mandate(self, info: Info, input: DecideMandateInput) -> DecideMandatePayload:
        decision = settlement.MandateDecision(
            mandate_id=input.mandate_id,
            active=input.outcome is MandateOutcome.ACTIVE,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        outcome = await settlement.decide_mandate(
            info.context.services.db, platform_id=info.context.platform.id, decision=decision
        )
        return DecideMandateSuccess(
            mandate=DirectDebitMandate.of(outcome.value), idempotent_replay=outcome.replay
        )

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description=(
            "Treasury: the wire of a CREATED or PENDING BANK_WIRE pay-in arrived. The pay-in"
            " SUCCEEDS for the amount received, which is what the account is credited, even when"
            " it differs from the amount announced (both are kept); a wire in another currency"
            " is a CurrencyMismatchRejection and changes nothing."
        ),
    )
    async def record_wire_pay_in(
        self, info: Info, input: RecordWirePayInInput
    ) -> RecordWirePayInPayload:
        receipt = settlement.WireReceipt(
            pay_in_id=input.pay_in_id,
            wire=settlement.ReceivedWire(
                amount=input.amount_received.amount,
                currency=input.amount_received.currency,
                value_date=input.value_date,
                bank_reference=input.bank_reference,
            ),
            idempotency_key=input.idempotency_key,
        )
        outcome = await settlement.record_wire_pay_in(
            info.context.services.db, platform_id=info.context.platform.id, receipt=receipt
        )
        return DecidePayInSuccess(pay_in=PayIn.of(outcome.value), idempotent_replay=outcome.replay)

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description="Treasury: a BANK_WIRE pay-in's wire never came or was rejected: FAILED.",
    )
    async def fail_wire_pay_in(self, info: Info, input: FailWirePayInInput) -> FailWirePayInPayload:
        decision = settlement.PayInDecision(
            pay_in_id=input.pay_in_id,
            outcome=PayInStatus.FAILED,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        outcome = await settlement.fail_wire_pay_in(
            info.context.services.db, platform_id=info.context.platform.id, decision=decision
        )
        return DecidePayInSuccess(pay_in=PayIn.of(outcome.value), idempotent_replay=outcome.replay)

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description=(
            "Treasury: a DIRECT_DEBIT pay-in SUCCEEDED or FAILED, or, after success, was"
            " CHARGED_BACK: the amount leaves the account again, refused with"
            " InsufficientFundsRejection while the account does not hold it."
        ),
    )
    async def settle_direct_debit(
        self, info: Info, input: SettleDirectDebitInput
    ) -> SettleDirectDebitPayload:
        decision = settlement.PayInDecision(
            pay_in_id=input.pay_in_id,
            outcome=PayInStatus(input.outcome.value),
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        outcome = await settlement.settle_direct_debit(
            info.context.services.db, platform_id=info.context.platform.id, decision=decision
        )
        return DecidePayInSuccess(pay_in=PayIn.of(outcome.value), idempotent_replay=outcome.replay)

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description=(
            "Treasury: a CREATED or PENDING pay-out SUCCEEDED or FAILED (funds back), or, after"
            " success, was RETURNED by the receiving bank (funds back, entry PAY_OUT_RETURN)."
        ),
    )
    async def decide_pay_out(self, info: Info, input: DecidePayOutInput) -> DecidePayOutPayload:
        decision = settlement.PayOutDecision(
            pay_out_id=input.pay_out_id,
            outcome=PayOutStatus(input.outcome.value),
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        outcome = await settlement.decide_pay_out(
            info.context.services.db, platform_id=info.context.platform.id, decision=decision
        )
        return DecidePayOutSuccess(
            pay_out=PayOut.of(outcome.value), idempotent_replay=outcome.replay
        )
