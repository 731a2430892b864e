"""Sandbox only: stand-ins for compliance officers and banks. On a PRODUCTION platform each
returns ForbiddenRejection and changes nothing."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from gateway.domain.enums import ValidationStatus
from gateway.graphql.access import BACKEND, OPERATOR, allow
from gateway.graphql.context import Info
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    ForbiddenRejection,
    InvalidStateRejection,
    NotFoundRejection,
)
from gateway.graphql.relay import Node
from gateway.services import sandbox


@strawberry.enum
class ValidationOutcome(enum.Enum):
    VALIDATED = "VALIDATED"
    REFUSED = "REFUSED"
    WAITING_FOR_INFORMATION = "WAITING_FOR_INFORMATION"


@strawberry.enum
class SettlementOutcome(enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.input
class SimulateValidationInput:
    user_id: strawberry.ID
    outcome: ValidationOutcome
    reason: str | None = None


@strawberry.input
class SimulateMandateInput:
    mandate_id: strawberry.ID
    outcome: SettlementOutcome


@strawberry.input
class SimulatePayInInput:
    pay_in_id: strawberry.ID
    outcome: SettlementOutcome
    reason: str | None = None


@strawberry.input
class SimulatePayOutInput:
    pay_out_id: strawberry.ID
    outcome: SettlementOutcome
    reason: str | None = None


@strawberry.type
class SimulateSuccess:
    object: Node


SimulatePayload = Annotated[
    SimulateSuccess | NotFoundRejection | ForbiddenRejection | InvalidStateRejection,
    strawberry.union("SimulatePayload"),
]


@strawberry.type
class SandboxMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Sandbox: decide a PENDING user's validation.",
    )
    async def simulate_validation(
        self,
        info: Info,
        input: SimulateValidationInput,
    ) -> SimulatePayload:
        user = await sandbox.simulate_validation(
            info.context.services.db,
            platform_id=info.context.platform.id,
            user_id=input.user_id,
            outcome=ValidationStatus(input.outcome.value),
            reason=input.reason,
        )
        return SimulateSuccess(object=NODES.convert("User", user))

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Sandbox: activate or fail a CREATED mandate.",
    )
    async def simulate_mandate(
        self,
        info: Info,
        input: SimulateMandateInput,
    ) -> SimulatePayload:
        mandate = await sandbox.simulate_mandate(
            info.context.services.db,
            platform_id=info.context.platform.id,
            mandate_id=input.mandate_id,
            succeeded=input.outcome is SettlementOutcome.SUCCEEDED,
        )
        return SimulateSuccess(object=NODES.convert("DirectDebitMandate", mandate))

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Sandbox: settle a pay-in (funds credited on SUCCEEDED).",
    )
    async def simulate_pay_in(
        self,
        info: Info,
        input: SimulatePayInInput,
    ) -> SimulatePayload:
        pay_in = await sandbox.simulate_pay_in(
            info.context.services.db,
            platform_id=info.context.platform.id,
            pay_in_id=input.pay_in_id,
            succeeded=input.outcome is SettlementOutcome.SUCCEEDED,
            reason=input.reason,
        )
        return SimulateSuccess(object=NODES.convert("PayIn", pay_in))

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Sandbox: settle a pay-out (funds return on FAILED).",
    )
    async def simulate_pay_out(
        self,
        info: Info,
        input: SimulatePayOutInput,
    ) -> SimulatePayload:
        pay_out = await sandbox.simulate_pay_out(
            info.context.services.db,
            platform_id=info.context.platform.id,
            pay_out_id=input.pay_out_id,
            succeeded=input.outcome is SettlementOutcome.SUCCEEDED,
            reason=input.reason,
        )
        return SimulateSuccess(object=NODES.convert("PayOut", pay_out))
