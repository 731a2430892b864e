"""Money movements, bank details, KYC documents and events: the types the graph exposes.

Leaf fields are plain attributes filled from the row; the edges back to accounts, users and
persons go through the request's loaders (imported lazily: the core types refer to these).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Annotated, Any

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
from gateway.domain.errors import Forbidden
from gateway.domain.pagination import encode_event_cursor
from gateway.graphql.context import Info
from gateway.graphql.relay import Connection, Node, connection, page_arguments
from gateway.graphql.scalars import DateTime
from gateway.store import delivery_tables, journal_tables, ledger_tables, tables
from gateway.store.delivery_tables import WebhookDeliveryStatus

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


def _core() -> Any:
    from gateway.graphql import types

    return types


def _money(amount: int, currency: str) -> Money:
    money: Money = _core().Money.of(amount, currency)
    return money


async def _account(info: Info, account_id: uuid.UUID) -> Account:
    row = await info.context.loaders.account.load(account_id)
    if row is None:  # only a user token's loaders hide an account that a transfer names
        raise Forbidden("This account belongs to another user; its id is on the transfer.")
    account: Account = _core().Account.of(row)
    return account


async def _user(info: Info, user_id: uuid.UUID) -> User:
    row = await info.context.loaders.user.load(user_id)
    assert row is not None, f"user {user_id} is missing"
    user: User = _core().User.of(row)
    return user


async def _row(info: Info, model: type, key: uuid.UUID) -> Any:
    row = await info.context.loaders.by_id(model).load(key)
    assert row is not None, f"{model.__name__} {key} is missing"
    return row


def _id(row: Any) -> strawberry.ID:
    return strawberry.ID(str(row.id))


@strawberry.type
class Transfer(Node):
    amount: MoneyRef
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
            id=_id(row),
            amount=_money(row.amount, row.currency),
            label=row.label,
            status=row.status,
            created_at=DateTime(row.created_at),
            debited_account_id=strawberry.ID(str(row.debited_account_id)),
            credited_account_id=strawberry.ID(str(row.credited_account_id)),
        )

    @strawberry.field
    async def debited_account(self, info: Info) -> AccountRef:
        return await _account(info, uuid.UUID(self.debited_account_id))

    @strawberry.field
    async def credited_account(self, info: Info) -> AccountRef:
        return await _account(info, uuid.UUID(self.credited_account_id))


@strawberry.type
class BankAccount(Node):
    owner_name: str
    iban: str = strawberry.field(description="Validated, in electronic format (no spaces).")
    bic: str | None
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.BankAccount) -> BankAccount:
        return cls(
            id=_id(row),
            owner_name=row.owner_name,
            iban=row.iban,
            bic=row.bic,
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> UserRef:
        return await _user(info, self.user_id)


async def _bank_account(info: Info, key: uuid.UUID) -> BankAccount:
    return BankAccount.of(await _row(info, ledger_tables.BankAccount, key))


@strawberry.type
class DirectDebitMandate(Node):
    status: MandateStatus
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]
    bank_account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.DirectDebitMandate) -> DirectDebitMandate:
        return cls(
            id=_id(row),
            status=row.status,
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
            bank_account_id=row.bank_account_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> UserRef:
        return await _user(info, self.user_id)

    @strawberry.field
    async def bank_account(self, info: Info) -> BankAccount:
        return await _bank_account(info, self.bank_account_id)


@strawberry.type
class PayIn(Node):
    amount: MoneyRef
    method: PayInMethod
    wire_reference: str | None = strawberry.field(
        description="BANK_WIRE only: the reference the payer must quote."
    )
    status: PayInStatus
    failure_reason: str | None
    created_at: DateTime
    updated_at: DateTime
    credited_account_id: strawberry.Private[uuid.UUID]
    mandate_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def of(cls, row: ledger_tables.PayIn) -> PayIn:
        return cls(
            id=_id(row),
            amount=_money(row.amount, row.currency),
            method=row.method,
            wire_reference=row.wire_reference,
            status=row.status,
            failure_reason=row.failure_reason,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            credited_account_id=row.credited_account_id,
            mandate_id=row.mandate_id,
        )

    @strawberry.field
    async def credited_account(self, info: Info) -> AccountRef:
        return await _account(info, self.credited_account_id)

    @strawberry.field(description="DIRECT_DEBIT only.")
    async def mandate(self, info: Info) -> DirectDebitMandate | None:
        if self.mandate_id is None:
            return None
        return DirectDebitMandate.of(
            await _row(info, ledger_tables.DirectDebitMandate, self.mandate_id)
        )


@strawberry.type
class PayOut(Node):
    amount: MoneyRef
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
            id=_id(row),
            amount=_money(row.amount, row.currency),
            label=row.label,
            status=row.status,
            failure_reason=row.failure_reason,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            debited_account_id=row.debited_account_id,
            bank_account_id=row.bank_account_id,
        )

    @strawberry.field
    async def debited_account(self, info: Info) -> AccountRef:
        return await _account(info, self.debited_account_id)

    @strawberry.field
    async def bank_account(self, info: Info) -> BankAccount:
        return await _bank_account(info, self.bank_account_id)


Operation = Annotated[Transfer | PayIn | PayOut, strawberry.union("Operation")]
_OPERATIONS: dict[str, tuple[type, Any]] = {
    "Transfer": (ledger_tables.Transfer, Transfer),
    "PayIn": (ledger_tables.PayIn, PayIn),
    "PayOut": (ledger_tables.PayOut, PayOut),
}


@strawberry.type
class LedgerEntry(Node):
    kind: EntryKind
    amount: MoneyRef = strawberry.field(description="Signed: credits positive, debits negative.")
    balance_after: MoneyRef
    created_at: DateTime
    account_id: strawberry.Private[uuid.UUID]
    operation_type: strawberry.Private[str]
    operation_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.LedgerEntry) -> LedgerEntry:
        assert row.account_id is not None, "settlement legs are not nodes"
        return cls(
            id=_id(row),
            kind=row.kind,
            amount=_money(row.amount, row.currency),
            balance_after=_money(row.balance_after, row.currency),
            created_at=DateTime(row.created_at),
            account_id=row.account_id,
            operation_type=row.operation_type,
            operation_id=row.operation_id,
        )

    @strawberry.field
    async def account(self, info: Info) -> AccountRef:
        return await _account(info, self.account_id)

    @strawberry.field
    async def operation(self, info: Info) -> Operation:
        model, kind = _OPERATIONS[self.operation_type]
        return kind.of(await _row(info, model, self.operation_id))  # type: ignore[no-any-return]


@strawberry.type
class KycDocument(Node):
    type: DocumentType
    status: DocumentStatus
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    refused_reason: str | None
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]
    person_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def of(cls, row: tables.KycDocument) -> KycDocument:
        return cls(
            id=_id(row),
            type=row.type,
            status=row.status,
            file_name=row.file_name,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            refused_reason=row.refused_reason,
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
            person_id=row.person_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> UserRef:
        return await _user(info, self.user_id)

    @strawberry.field
    async def person(self, info: Info) -> PersonRef | None:
        if self.person_id is None:
            return None
        person: Person = _core().person_of(await _row(info, tables.Person, self.person_id))
        return person


@strawberry.type
class Requirement:
    code: str
    document_type: DocumentType | None
    message: str
    person_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field
    async def person(self, info: Info) -> PersonRef | None:
        if self.person_id is None:
            return None
        person: Person = _core().person_of(await _row(info, tables.Person, self.person_id))
        return person


@strawberry.type
class Event(Node):
    cursor: str = strawberry.field(
        description="Opaque, strictly increasing within a platform; resume a subscription after it."
    )
    type: EventType
    occurred_at: DateTime
    object_id: strawberry.ID
    previous_status: str | None
    status: str | None
    fresh_loaders: strawberry.Private[Any] = None

    @classmethod
    def of(cls, row: journal_tables.Event, *, fresh_loaders: Any = None) -> Event:
        return cls(
            id=_id(row),
            cursor=encode_event_cursor(row.platform_id, row.sequence),
            type=row.type,
            occurred_at=DateTime(row.occurred_at),
            object_id=strawberry.ID(str(row.object_id)),
            previous_status=row.previous_status,
            status=row.status,
            fresh_loaders=fresh_loaders,
        )

    @strawberry.field(description="The object as it is now.")
    async def object(self, info: Info) -> Node | None:
        from gateway.graphql.query import resolve_node

        return await resolve_node(info, str(self.object_id), loaders=self.fresh_loaders)


strawberry.enum(WebhookDeliveryStatus)


@strawberry.type(description="One try to POST an event to an endpoint.")
class WebhookAttempt:
    attempt: int = strawberry.field(description="1 for the first try, then 2, 3...")
    attempted_at: DateTime
    status_code: int | None = strawberry.field(description="The HTTP status answered, if any.")
    error: str | None = strawberry.field(description="Why no answer came (or was refused).")
    duration_ms: int

    @classmethod
    def of(cls, row: delivery_tables.WebhookAttempt) -> WebhookAttempt:
        return cls(
            attempt=row.attempt,
            attempted_at=DateTime(row.attempted_at),
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )


@strawberry.type(description="An event owed to an endpoint: retried until a 2xx or given up.")
class WebhookDelivery:
    id: strawberry.ID
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: DateTime | None = strawberry.field(description="PENDING only.")
    last_status_code: int | None
    attempts: list[WebhookAttempt] = strawberry.field(description="Oldest first.")
    created_at: DateTime
    event_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(
        cls, row: delivery_tables.WebhookDelivery, attempts: list[delivery_tables.WebhookAttempt]
    ) -> WebhookDelivery:
        return cls(
            id=_id(row),
            status=row.status,
            attempt_count=row.attempt_count,
            next_attempt_at=DateTime(row.next_attempt_at) if row.next_attempt_at else None,
            last_status_code=row.last_status_code,
            attempts=[WebhookAttempt.of(attempt) for attempt in attempts],
            created_at=DateTime(row.created_at),
            event_id=row.event_id,
        )

    @strawberry.field
    async def event(self, info: Info) -> Event:
        return Event.of(await _row(info, journal_tables.Event, self.event_id))


@strawberry.type
class WebhookEndpoint(Node):
    url: str
    event_types: list[EventType] = strawberry.field(description="Empty: every type.")
    description: str | None
    enabled: bool
    created_at: DateTime
    disabled_reason: str | None = strawberry.field(
        description="Why deliveries stopped, when they failed for too long."
    )
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: journal_tables.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=_id(row),
            url=row.url,
            event_types=[EventType(t) for t in row.event_types],
            description=row.description,
            enabled=row.enabled,
            created_at=DateTime(row.created_at),
            disabled_reason=row.disabled_reason,
            row_id=row.id,
        )

    @strawberry.field(description="Newest first, each with its attempts.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        reader = info.context.loaders.reader
        request = page_arguments(first, after, None, None)
        page = await reader.webhook_deliveries_page(self.row_id, request)
        attempts: dict[uuid.UUID, list[delivery_tables.WebhookAttempt]] = defaultdict(list)
        if page.items:
            for attempt in await reader.webhook_attempts([row.id for row in page.items]):
                attempts[attempt.delivery_id].append(attempt)
        return connection(page, lambda row: WebhookDelivery.of(row, attempts[row.id]))
