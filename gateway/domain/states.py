"""State machines of the MPS model. A transition not listed is an `InvalidState` rejection."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from gateway.domain.enums import (
    AccountStatus,
    DocumentStatus,
    MandateStatus,
    PayInStatus,
    PayOutStatus,
    RefundStatus,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.errors import InvalidState

S = TypeVar("S", bound=enum.Enum)

VALIDATION: Mapping[ValidationStatus, frozenset[ValidationStatus]] = {
    ValidationStatus.NOT_SUBMITTED: frozenset({ValidationStatus.PENDING}),
    ValidationStatus.PENDING: frozenset(
        {
            ValidationStatus.VALIDATED,
            ValidationStatus.REFUSED,
            ValidationStatus.WAITING_FOR_INFORMATION,
        }
    ),
    ValidationStatus.REFUSED: frozenset({ValidationStatus.PENDING}),
    ValidationStatus.WAITING_FOR_INFORMATION: frozenset({ValidationStatus.PENDING}),
    # Back to review: a required document expired, or identity data changed (see
    # services/document_expiry.py and services/profiles.py).
    ValidationStatus.VALIDATED: frozenset({ValidationStatus.WAITING_FOR_INFORMATION}),
}
DOCUMENT: Mapping[DocumentStatus, frozenset[DocumentStatus]] = {
    DocumentStatus.CREATED: frozenset({DocumentStatus.VALIDATION_ASKED}),
    DocumentStatus.VALIDATION_ASKED: frozenset({DocumentStatus.VALIDATED, DocumentStatus.REFUSED}),
    DocumentStatus.VALIDATED: frozenset({DocumentStatus.OUT_OF_DATE}),
    DocumentStatus.REFUSED: frozenset(),
    DocumentStatus.OUT_OF_DATE: frozenset(),
}
ACCOUNT: Mapping[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.CREATED: frozenset(
        {AccountStatus.VALIDATED, AccountStatus.BLOCKED, AccountStatus.CLOSED}
    ),
    AccountStatus.VALIDATED: frozenset({AccountStatus.BLOCKED, AccountStatus.CLOSED}),
    # Unblocking returns to VALIDATED, or to CREATED while the user is not validated yet.
    AccountStatus.BLOCKED: frozenset(
        {AccountStatus.VALIDATED, AccountStatus.CREATED, AccountStatus.CLOSED}
    ),
    AccountStatus.CLOSED: frozenset(),
}
USER: Mapping[UserStatus, frozenset[UserStatus]] = {
    UserStatus.ACTIVE: frozenset({UserStatus.BLOCKED, UserStatus.CLOSED}),
    UserStatus.BLOCKED: frozenset({UserStatus.ACTIVE, UserStatus.CLOSED}),
    UserStatus.CLOSED: frozenset(),
}
MANDATE: Mapping[MandateStatus, frozenset[MandateStatus]] = {
    MandateStatus.CREATED: frozenset({MandateStatus.ACTIVE, MandateStatus.FAILED}),
    MandateStatus.ACTIVE: frozenset({MandateStatus.CANCELED}),
    MandateStatus.FAILED: frozenset(),
    MandateStatus.CANCELED: frozenset(),
}
PAY_IN: Mapping[PayInStatus, frozenset[PayInStatus]] = {
    PayInStatus.CREATED: frozenset({PayInStatus.PENDING}),
    PayInStatus.PENDING: frozenset({PayInStatus.SUCCEEDED, PayInStatus.FAILED}),
    # A charge-back: DIRECT_DEBIT only (services/settlement.py checks the method).
    PayInStatus.SUCCEEDED: frozenset({PayInStatus.CHARGED_BACK}),
    PayInStatus.FAILED: frozenset(),
    PayInStatus.CHARGED_BACK: frozenset(),
}
PAY_OUT: Mapping[PayOutStatus, frozenset[PayOutStatus]] = {
    PayOutStatus.CREATED: frozenset({PayOutStatus.PENDING}),
    PayOutStatus.PENDING: frozenset({PayOutStatus.SUCCEEDED, PayOutStatus.FAILED}),
    PayOutStatus.SUCCEEDED: frozenset({PayOutStatus.RETURNED}),
    PayOutStatus.FAILED: frozenset(),
    PayOutStatus.RETURNED: frozenset(),
}

REFUND: Mapping[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.CREATED: frozenset({RefundStatus.PENDING}),
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}


def check_transition(machine: Mapping[S, frozenset[S]], current: S, target: S, what: str) -> None:
    """Raise InvalidState, naming the current state, unless `current -> target` is listed."""
    if target not in machine[current]:
        raise InvalidState(
            f"{what} cannot go from {current.value} to {target.value}.",
            state=current.value,
        )
