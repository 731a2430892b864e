"""Money movements, bank details, KYC documents and events: the types the graph exposes.

Their tables arrive with the onboarding and payments work; until then the connections that
list them are empty, and these types are built from rows by that work's loaders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import (
    DocumentStatus,
    DocumentType,
    EntryKind,
    EventType,
    MandateStatus,
    PayInMethod,
    PayInStatus,
    PayOutStatus,
    TransferStatus,
)
from gateway.graphql.relay import Node
from gateway.graphql.scalars import DateTime

if TYPE_CHECKING:
    from gateway.graphql.types import Account, Money, Person, User

_TYPES = "gateway.graphql.types"
AccountRef = Annotated["Account", strawberry.lazy(_TYPES)]
UserRef = Annotated["User", strawberry.lazy(_TYPES)]
PersonRef = Annotated["Person", strawberry.lazy(_TYPES)]
MoneyRef = Annotated["Money", strawberry.lazy(_TYPES)]

strawberry.enum(EntryKind)
strawberry.enum(TransferStatus)
strawberry.enum(MandateStatus)
strawberry.enum(PayInMethod)
strawberry.enum(PayInStatus)
strawberry.enum(PayOutStatus)
strawberry.enum(DocumentType)
strawberry.enum(DocumentStatus)
strawberry.enum(EventType)


@strawberry.type
class Transfer(Node):
    debited_account: AccountRef
    credited_account: AccountRef
    amount: MoneyRef
    label: str | None
    status: TransferStatus
    created_at: DateTime


@strawberry.type
class BankAccount(Node):
    user: UserRef
    owner_name: str
    iban: str
    bic: str | None
    created_at: DateTime


@strawberry.type
class DirectDebitMandate(Node):
    user: UserRef
    bank_account: BankAccount
    status: MandateStatus
    created_at: DateTime


@strawberry.type
class PayIn(Node):
    credited_account: AccountRef
    amount: MoneyRef
    method: PayInMethod
    mandate: DirectDebitMandate | None
    wire_reference: str | None
    status: PayInStatus
    failure_reason: str | None
    created_at: DateTime
    updated_at: DateTime


@strawberry.type
class PayOut(Node):
    debited_account: AccountRef
    bank_account: BankAccount
    amount: MoneyRef
    label: str | None
    status: PayOutStatus
    failure_reason: str | None
    created_at: DateTime
    updated_at: DateTime


Operation = Annotated[Transfer | PayIn | PayOut, strawberry.union("Operation")]


@strawberry.type
class LedgerEntry(Node):
    account: AccountRef
    kind: EntryKind
    amount: MoneyRef
    balance_after: MoneyRef
    operation: Operation
    created_at: DateTime


@strawberry.type
class KycDocument(Node):
    user: UserRef
    person: PersonRef | None
    type: DocumentType
    status: DocumentStatus
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    refused_reason: str | None
    created_at: DateTime


@strawberry.type
class Requirement:
    code: str
    document_type: DocumentType | None
    person: PersonRef | None
    message: str


@strawberry.type
class Event(Node):
    cursor: str
    type: EventType
    occurred_at: DateTime
    object_id: strawberry.ID
    object: Node | None
    previous_status: str | None
    status: str | None


@strawberry.type
class WebhookEndpoint(Node):
    url: str
    event_types: list[EventType]
    enabled: bool
    created_at: DateTime
