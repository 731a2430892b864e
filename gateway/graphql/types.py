"""The core graph: Platform > User > Person | Account.

Leaf fields are plain attributes filled when a row becomes a GraphQL object; only relationship
edges are resolvers, and each goes through a per-request loader, so a deep query costs one
statement per level, whatever the number of objects.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterator
from functools import partial
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from gateway.domain.enums import (
    AccountStatus,
    Environment,
    EventType,
    PersonKind,
    PersonRole,
    UserKind,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.errors import InvalidArgument
from gateway.domain.money import Money as DomainMoney
from gateway.domain.pagination import Page, PageRequest
from gateway.graphql.context import Info
from gateway.graphql.loaders import now_or_later
from gateway.graphql.operations import (
    BankAccount,
    Event,
    KycDocument,
    LedgerEntry,
    PayIn,
    PayOut,
    Requirement,
    Transfer,
    WebhookEndpoint,
)
from gateway.graphql.relay import (
    Connection,
    Node,
    connection,
    event_connection,
    event_page_arguments,
    page_arguments,
)
from gateway.graphql.scalars import CountryCode, Currency, Date, DateTime, MinorUnits
from gateway.services.kyc import requirements_of
from gateway.store import ledger_tables, tables
from gateway.store.readers import UserCriteria

strawberry.enum(Environment)
strawberry.enum(UserKind)
strawberry.enum(UserStatus)
strawberry.enum(ValidationStatus)
strawberry.enum(PersonRole)
strawberry.enum(AccountStatus)


class DataIntegrityError(RuntimeError):
    """A row the model requires is missing: a bug or a damaged database, never the caller."""


@strawberry.type
class Money:
    amount: MinorUnits
    currency: Currency
    decimal: str = strawberry.field(
        description='"12.34" for 1234 EUR cents; the exponent comes from ISO 4217'
    )

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        value = DomainMoney(amount, currency)
        return cls(amount=MinorUnits(amount), currency=Currency(currency), decimal=value.decimal)


@strawberry.type
class Address:
    line1: str
    line2: str | None
    postal_code: str
    city: str
    region: str | None
    country: CountryCode


@strawberry.input
class UserFilter:
    email: str | None = None
    validation_status: ValidationStatus | None = None
    kind: UserKind | None = None


@strawberry.type
class Platform(Node):
    name: str
    environment: Environment
    allowed_currencies: list[Currency]
    created_at: DateTime

    @classmethod
    def of(cls, row: tables.Platform) -> Platform:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            environment=row.environment,
            allowed_currencies=[Currency(code) for code in row.allowed_currencies],
            created_at=DateTime(row.created_at),
        )

    @strawberry.field
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: UserFilter | None = None,
    ) -> Connection[User]:
        page = page_arguments(first, after, last, before)
        given = filter or UserFilter()
        criteria = UserCriteria(given.email, given.validation_status, given.kind)
        loaders = info.context.loaders
        users = await loaders.reader.users_page(criteria, page)
        loaders.prime_users(users.items)
        await _prefetch_for_users(info, [row.id for row in users.items])
        return connection(users, User.of)

    @strawberry.field
    async def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Account]:
        page = page_arguments(first, after, last, before)
        accounts = await info.context.loaders.reader.page(tables.Account, page)
        return connection(accounts, Account.of)

    @strawberry.field
    async def transfers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transfer]:
        page = page_arguments(first, after, last, before)
        rows = await info.context.loaders.reader.page(ledger_tables.Transfer, page)
        return connection(rows, Transfer.of)

    @strawberry.field
    async def pay_ins(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PayIn]:
        page = page_arguments(first, after, last, before)
        rows = await info.context.loaders.reader.page(ledger_tables.PayIn, page)
        return connection(rows, PayIn.of)

    @strawberry.field
    async def pay_outs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PayOut]:
        page = page_arguments(first, after, last, before)
        rows = await info.context.loaders.reader.page(ledger_tables.PayOut, page)
        return connection(rows, PayOut.of)

    @strawberry.field(description="Oldest first.")
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        types: list[EventType] | None = None,
    ) -> Connection[Event]:
        page = event_page_arguments(first, after, platform_id=info.context.platform.id)
        rows = await info.context.loaders.reader.events_page(page, types)
        return event_connection(rows, Event.of)

    @strawberry.field
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        rows = await info.context.loaders.reader.webhook_endpoints()
        return [WebhookEndpoint.of(row) for row in rows]


@strawberry.type
class User(Node):
    email: str
    login: str
    kind: UserKind
    status: UserStatus
    validation_status: ValidationStatus
    qualified_at: DateTime | None
    created_at: DateTime
    updated_at: DateTime
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: tables.User) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            login=row.login,
            kind=row.kind,
            status=row.status,
            validation_status=row.validation_status,
            qualified_at=DateTime(row.qualified_at) if row.qualified_at else None,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            row_id=row.id,
        )

    @strawberry.field
    def platform(self, info: Info) -> Platform:
        return Platform.of(info.context.platform)

    # The three edges below are plain functions: when the users page prefetched their rows
    # (see _prefetch_for_users) they answer at once, else they hand graphql-core an awaitable.
    @strawberry.field(description="The natural person, or the legal person of a LEGAL user.")
    def holder(self, info: Info) -> Person:
        return now_or_later(info.context.loaders.persons_of_user, self.row_id, self._holder)

    def _holder(self, persons: list[tables.Person]) -> Person:
        if not persons or not persons[0].is_holder:
            raise DataIntegrityError(f"user {self.row_id} has no holder person")
        return person_of(persons[0])

    @strawberry.field(description="Every person of the user, holder first.")
    def persons(self, info: Info) -> list[Person]:
        return now_or_later(info.context.loaders.persons_of_user, self.row_id, _persons)

    @strawberry.field
    def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Account]:
        page = page_arguments(first, after, last, before)
        key = (self.row_id, page)
        return now_or_later(info.context.loaders.accounts_of_user, key, _account_connection)

    @strawberry.field(description="What is still missing before validation can be requested.")
    async def requirements(self, info: Info) -> list[Requirement]:
        loaders = info.context.loaders
        user = await loaders.user.load(self.row_id)
        persons = await loaders.persons_of_user.load(self.row_id)
        documents = await loaders.of_user(tables.KycDocument).load(self.row_id)
        assert user is not None
        return [
            Requirement(
                code=m.code, document_type=m.document_type, message=m.message, person_id=m.person_id
            )
            for m in requirements_of(user, persons, documents)
        ]

    @strawberry.field
    async def bank_accounts(self, info: Info) -> list[BankAccount]:
        rows = await info.context.loaders.of_user(ledger_tables.BankAccount).load(self.row_id)
        return [BankAccount.of(row) for row in rows]

    @strawberry.field
    async def documents(self, info: Info) -> list[KycDocument]:
        rows = await info.context.loaders.of_user(tables.KycDocument).load(self.row_id)
        return [KycDocument.of(row) for row in rows]


def _persons(rows: list[tables.Person]) -> list[Person]:
    return [person_of(row) for row in rows]


def _account_connection(page: Page[tables.Account]) -> Connection[Account]:
    return connection(page, Account.of)


def _flatten(selections: list[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, those inside fragments included."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _flatten(selection.selections)


def _node_fields(info: Info) -> Iterator[SelectedField]:
    """The fields selected on each node of the connection being resolved (nodes, edges.node)."""
    for part in _flatten([s for field in info.selected_fields for s in field.selections]):
        if part.name == "nodes":
            yield from _flatten(part.selections)
        elif part.name == "edges":
            for edge in _flatten(part.selections):
                if edge.name == "node":
                    yield from _flatten(edge.selections)


def _page_of(arguments: dict[str, Any]) -> PageRequest | None:
    """The page an `accounts` selection asks for, or None when its arguments are not plain
    (the selection keeps literals as text): the user's own field then reads and checks them."""
    try:
        first, last = (
            None if arguments.get(name) is None else int(arguments[name])
            for name in ("first", "last")
        )
        after, before = arguments.get("after"), arguments.get("before")
        if not all(cursor is None or isinstance(cursor, str) for cursor in (after, before)):
            return None
        return page_arguments(first, after, last, before)
    except (InvalidArgument, TypeError, ValueError):
        return None


async def _prefetch_for_users(info: Info, user_ids: list[uuid.UUID]) -> None:
    """Load, for a whole page of users at once, the persons and accounts pages its selection
    asks for (one statement each, as the loaders would), so that each user's edges answer
    without a task of their own. Arguments a user's edge would refuse are left to it."""
    if not user_ids:
        return
    loaders = info.context.loaders
    fields = list(_node_fields(info))
    pages = {_page_of(field.arguments) for field in fields if field.name == "accounts"}
    waits: list[Awaitable[Any]] = [
        loaders.accounts_of_user.load_many([(user_id, page) for user_id in user_ids])
        for page in pages
        if page is not None
    ]
    if any(field.name in ("holder", "persons", "requirements") for field in fields):
        waits.append(loaders.persons_of_user.load_many(user_ids))
    if waits:
        await asyncio.gather(*waits)


def _user(info: Info, user_id: uuid.UUID) -> User:
    return now_or_later(info.context.loaders.user, user_id, partial(_user_of, user_id))


def _user_of(user_id: uuid.UUID, row: tables.User | None) -> User:
    if row is None:
        raise DataIntegrityError(f"user {user_id} is missing")
    return User.of(row)


@strawberry.interface
class Person(Node):
    nationality: CountryCode
    address: Address
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    def user(self, info: Info) -> User:
        return _user(info, self.user_id)

    @classmethod
    def resolve_type(cls, obj: Any, _info: Any, _abstract_type: Any) -> str:
        """NaturalPerson or LegalPerson: the object's own type, which Strawberry's generic
        lookup (casts, generics) takes longer to find than the person's fields to read."""
        return str(obj.__strawberry_definition__.name)


@strawberry.type
class NaturalPerson(Person):
    first_name: str
    last_name: str
    birth_date: Date
    roles: list[PersonRole] = strawberry.field(
        description="Empty for the holder of a NATURAL user."
    )
    is_user_representative: bool
    ownership_percentage: float | None
    parent_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The entity this person represents or owns, if any.")
    async def legal_person(self, info: Info) -> LegalPerson | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.person.load(self.parent_id)
        return None if row is None else LegalPerson.of(row)

    @classmethod
    def of(cls, row: tables.Person) -> NaturalPerson:
        assert row.first_name is not None
        assert row.last_name is not None
        assert row.birth_date is not None
        return cls(
            **_person_fields(row),
            first_name=row.first_name,
            last_name=row.last_name,
            birth_date=Date(row.birth_date),
            roles=[PersonRole(role) for role in row.roles],
            is_user_representative=row.is_user_representative,
            ownership_percentage=row.ownership_percentage,
            parent_id=row.parent_id,
        )


@strawberry.type
class LegalPerson(Person):
    legal_name: str = strawberry.field(description="MPS business_entity")
    category: str = strawberry.field(description="MPS category: company, association...")
    registration_number: str | None

    @classmethod
    def of(cls, row: tables.Person) -> LegalPerson:
        assert row.legal_name is not None
        assert row.category is not None
        return cls(
            **_person_fields(row),
            legal_name=row.legal_name,
            category=row.category,
            registration_number=row.registration_number,
        )

    async def _members(self, info: Info, role: PersonRole) -> list[NaturalPerson]:
        persons = await info.context.loaders.persons_of_user.load(self.user_id)
        return [
            NaturalPerson.of(row)
            for row in persons
            if row.parent_id == uuid.UUID(self.id) and role.value in row.roles
        ]

    @strawberry.field
    async def representatives(self, info: Info) -> list[NaturalPerson]:
        return await self._members(info, PersonRole.LEGAL_REPRESENTATIVE)

    @strawberry.field
    async def beneficial_owners(self, info: Info) -> list[NaturalPerson]:
        return await self._members(info, PersonRole.BENEFICIAL_OWNER)


def _person_fields(row: tables.Person) -> dict[str, Any]:
    return {
        "id": strawberry.ID(str(row.id)),
        "nationality": CountryCode(row.nationality),
        "address": Address(
            line1=row.address_line1,
            line2=row.address_line2,
            postal_code=row.address_postal_code,
            city=row.address_city,
            region=row.address_region,
            country=CountryCode(row.address_country),
        ),
        "created_at": DateTime(row.created_at),
        "user_id": row.user_id,
    }


def person_of(row: tables.Person) -> Person:
    if row.kind is PersonKind.LEGAL:
        return LegalPerson.of(row)
    return NaturalPerson.of(row)


@strawberry.type
class Account(Node):
    currency: Currency = strawberry.field(
        description="Fixed at opening: an account is mono-currency."
    )
    label: str | None
    status: AccountStatus
    balance: Money = strawberry.field(
        description="Funds available; the sum of the account's entries."
    )
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: tables.Account) -> Account:
        return cls(
            id=strawberry.ID(str(row.id)),
            currency=Currency(row.currency),
            label=row.label,
            status=row.status,
            balance=Money.of(row.balance, row.currency),
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
        )

    @strawberry.field
    def user(self, info: Info) -> User:
        return _user(info, self.user_id)

    @strawberry.field(description="Newest first.")
    async def entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LedgerEntry]:
        page = page_arguments(first, after, last, before)
        key = (uuid.UUID(self.id), page)
        return connection(await info.context.loaders.entries_of_account.load(key), LedgerEntry.of)
