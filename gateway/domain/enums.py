"""The enumerations of the MPS model, shared by the store, the services and the graph."""

from __future__ import annotations

import enum


class Environment(enum.Enum):
    SANDBOX = "SANDBOX"
    PRODUCTION = "PRODUCTION"


class ApiKeyRole(enum.Enum):
    """What an API key may do in its platform (see gateway/graphql/access.py)."""

    BACKEND = "BACKEND"  # the platform's server: everything but decisions
    OPERATOR = "OPERATOR"  # the back-office: compliance and treasury decisions, reads
    READONLY = "READONLY"  # reporting: reads only


class ActorKind(enum.Enum):
    """Who made a change: an API key, a user through a user token, the sandbox settler, or the
    gateway itself (the command line, migrations, periodic jobs)."""

    API_KEY = "API_KEY"
    USER = "USER"
    SETTLER = "SETTLER"
    SYSTEM = "SYSTEM"


class UserKind(enum.Enum):
    NATURAL = "NATURAL"
    LEGAL = "LEGAL"


class UserStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    CLOSED = "CLOSED"


class ValidationStatus(enum.Enum):
    NOT_SUBMITTED = "NOT_SUBMITTED"
    PENDING = "PENDING"
    WAITING_FOR_INFORMATION = "WAITING_FOR_INFORMATION"
    VALIDATED = "VALIDATED"
    REFUSED = "REFUSED"


class PersonKind(enum.Enum):
    NATURAL = "NATURAL"
    LEGAL = "LEGAL"


class PersonRole(enum.Enum):
    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"
    BENEFICIAL_OWNER = "BENEFICIAL_OWNER"
    DIRECTOR = "DIRECTOR"
    SHAREHOLDER = "SHAREHOLDER"


class AccountStatus(enum.Enum):
    CREATED = "CREATED"
    VALIDATED = "VALIDATED"
    BLOCKED = "BLOCKED"
    CLOSED = "CLOSED"


class EntryKind(enum.Enum):
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"
    PAY_IN = "PAY_IN"
    PAY_OUT = "PAY_OUT"
    PAY_OUT_RETURN = "PAY_OUT_RETURN"  # a pay-out that failed, or came back after success
    CHARGEBACK = "CHARGEBACK"  # a direct debit the payer's bank took back after success
    # Money back and fees: reversals of transfers, refunds of pay-ins, the platform's fees.
    TRANSFER_REVERSAL_OUT = "TRANSFER_REVERSAL_OUT"  # taken back from the credited account
    TRANSFER_REVERSAL_IN = "TRANSFER_REVERSAL_IN"  # given back to the debited account
    REFUND = "REFUND"  # a refund of a pay-in leaves the account (and enters settlement)
    REFUND_RETURN = "REFUND_RETURN"  # a failed refund comes back
    FEE = "FEE"  # a fee credited to the platform's fee account
    FEE_REFUND = "FEE_REFUND"  # a fee given back, debited from the platform's fee account


class TransferStatus(enum.Enum):
    SUCCEEDED = "SUCCEEDED"


class RefundStatus(enum.Enum):
    CREATED = "CREATED"
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class MandateStatus(enum.Enum):
    CREATED = "CREATED"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class PayInMethod(enum.Enum):
    BANK_WIRE = "BANK_WIRE"
    DIRECT_DEBIT = "DIRECT_DEBIT"


class PayInStatus(enum.Enum):
    CREATED = "CREATED"
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CHARGED_BACK = "CHARGED_BACK"  # DIRECT_DEBIT only, after SUCCEEDED


class PayOutStatus(enum.Enum):
    CREATED = "CREATED"
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"  # sent back by the receiving bank after SUCCEEDED


class DocumentType(enum.Enum):
    IDENTITY_PROOF = "IDENTITY_PROOF"
    REGISTRATION_PROOF = "REGISTRATION_PROOF"
    UBO_DECLARATION = "UBO_DECLARATION"
    ARTICLES_OF_ASSOCIATION = "ARTICLES_OF_ASSOCIATION"
    ADDRESS_PROOF = "ADDRESS_PROOF"
    PEP_DECLARATION = "PEP_DECLARATION"


class DocumentStatus(enum.Enum):
    CREATED = "CREATED"
    VALIDATION_ASKED = "VALIDATION_ASKED"
    VALIDATED = "VALIDATED"
    REFUSED = "REFUSED"
    OUT_OF_DATE = "OUT_OF_DATE"  # expired, or found invalid after validation: counts no more


class RefusalReason(enum.Enum):
    """Why compliance refused a document or a user, or asked for more: the MPS and Mangopay
    vocabulary (MPS replaced DOCUMENT_FALSIFIED by COMPLIANCE_REASON; Mangopay says
    DOCUMENT_HAS_EXPIRED and DOCUMENT_DO_NOT_MATCH_USER_DATA). A free message goes with it."""

    COMPLIANCE_REASON = "COMPLIANCE_REASON"
    DOCUMENT_UNREADABLE = "DOCUMENT_UNREADABLE"
    DOCUMENT_EXPIRED = "DOCUMENT_EXPIRED"
    DOCUMENT_INCOMPLETE = "DOCUMENT_INCOMPLETE"
    DOCUMENT_NOT_MATCHING_USER_DATA = "DOCUMENT_NOT_MATCHING_USER_DATA"
    DOCUMENT_MISSING = "DOCUMENT_MISSING"
    DOCUMENT_NOT_ACCEPTED = "DOCUMENT_NOT_ACCEPTED"
    UNDERAGE_PERSON = "UNDERAGE_PERSON"
    SPECIFIC_CASE = "SPECIFIC_CASE"
    OTHER = "OTHER"


class EventType(enum.Enum):
    """Names mirror MPS webhook categories: PAY_IN_SUCCESSFUL is MPS `pay_in_successful`."""

    USER_CREATED = "USER_CREATED"
    USER_VALIDATION_REQUESTED = "USER_VALIDATION_REQUESTED"
    USER_VALIDATED = "USER_VALIDATED"
    USER_REFUSED = "USER_REFUSED"
    USER_WAITING_FOR_INFORMATION = "USER_WAITING_FOR_INFORMATION"
    PERSON_CREATED = "PERSON_CREATED"
    DOCUMENT_CREATED = "DOCUMENT_CREATED"
    ACCOUNT_CREATED = "ACCOUNT_CREATED"
    ACCOUNT_VALIDATED = "ACCOUNT_VALIDATED"
    TRANSFER_SUCCESSFUL = "TRANSFER_SUCCESSFUL"
    PAY_IN_CREATED = "PAY_IN_CREATED"
    PAY_IN_SUCCESSFUL = "PAY_IN_SUCCESSFUL"
    PAY_IN_FAILED = "PAY_IN_FAILED"
    MANDATE_CREATED = "MANDATE_CREATED"
    MANDATE_ACTIVATED = "MANDATE_ACTIVATED"
    MANDATE_FAILED = "MANDATE_FAILED"
    DIRECT_DEBIT_SUCCESSFUL = "DIRECT_DEBIT_SUCCESSFUL"
    DIRECT_DEBIT_FAILED = "DIRECT_DEBIT_FAILED"
    PAY_OUT_CREATED = "PAY_OUT_CREATED"
    PAY_OUT_SUCCESSFUL = "PAY_OUT_SUCCESSFUL"
    PAY_OUT_FAILED = "PAY_OUT_FAILED"
    # Beyond the MPS categories: the other state changes of DOMAIN.md, so the log is complete.
    PAY_IN_PENDING = "PAY_IN_PENDING"
    PAY_OUT_PENDING = "PAY_OUT_PENDING"
    DOCUMENT_VALIDATION_ASKED = "DOCUMENT_VALIDATION_ASKED"
    DOCUMENT_VALIDATED = "DOCUMENT_VALIDATED"
    DOCUMENT_REFUSED = "DOCUMENT_REFUSED"
    ACCOUNT_BLOCKED = "ACCOUNT_BLOCKED"
    ACCOUNT_UNBLOCKED = "ACCOUNT_UNBLOCKED"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    BANK_ACCOUNT_CREATED = "BANK_ACCOUNT_CREATED"
    # The user lifecycle: blocking, closing, updates, expiring documents, canceled mandates.
    USER_BLOCKED = "USER_BLOCKED"
    USER_UNBLOCKED = "USER_UNBLOCKED"
    USER_CLOSED = "USER_CLOSED"
    USER_UPDATED = "USER_UPDATED"
    PERSON_UPDATED = "PERSON_UPDATED"
    DOCUMENT_OUT_OF_DATE = "DOCUMENT_OUT_OF_DATE"
    MANDATE_CANCELED = "MANDATE_CANCELED"
    # Operator decisions: what comes back after a success.
    PAY_OUT_RETURNED = "PAY_OUT_RETURNED"
    DIRECT_DEBIT_CHARGED_BACK = "DIRECT_DEBIT_CHARGED_BACK"
    # Money back and fees: reversals of transfers, refunds of pay-ins.
    TRANSFER_REVERSED = "TRANSFER_REVERSED"
    REFUND_CREATED = "REFUND_CREATED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUND_SUCCESSFUL = "REFUND_SUCCESSFUL"
    REFUND_FAILED = "REFUND_FAILED"
