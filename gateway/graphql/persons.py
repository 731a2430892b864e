"""Persons: the natural and legal persons of a user, their addresses, `addPerson` and
`updatePerson` (what may change in which state: gateway/services/profiles.py).

A user's holder is its natural person, or for a LEGAL user the legal person, which has
representatives and beneficial owners among the user's natural persons.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from gateway.domain.enums import PersonKind, PersonRole
from gateway.domain.inputs import AddressData, LegalPersonData, NaturalPersonData
from gateway.graphql.access import BACKEND, USER_TOKEN, allow, require_own
from gateway.graphql.context import Info
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    IdempotencyConflictRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.relay import Node
from gateway.graphql.scalars import CountryCode, Date, DateTime
from gateway.services import profiles, users
from gateway.store import tables

if TYPE_CHECKING:
    from gateway.graphql.users import User

strawberry.enum(PersonRole)


@strawberry.type
class Address:
    line1: str
    line2: str | None
    postal_code: str
    city: str
    region: str | None
    country: CountryCode


@strawberry.interface
class Person(Node):
    nationality: CountryCode
    address: Address
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    def user(self, info: Info) -> Annotated[User, strawberry.lazy("gateway.graphql.users")]:
        user: User = NODES.edge(info.context.loaders, "User", self.user_id)
        return user

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


NODES.register(
    Person, table=tables.Person, convert=person_of, object_types=(NaturalPerson, LegalPerson)
)


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    region: str | None = None
    country: CountryCode

    def data(self) -> AddressData:
        return AddressData(
            line1=self.line1,
            line2=self.line2,
            postal_code=self.postal_code,
            city=self.city,
            region=self.region,
            country=self.country,
        )


@strawberry.input
class NaturalPersonInput:
    first_name: str
    last_name: str
    birth_date: Date
    nationality: CountryCode
    address: AddressInput

    def data(self) -> NaturalPersonData:
        return NaturalPersonData(
            first_name=self.first_name,
            last_name=self.last_name,
            birth_date=self.birth_date,
            nationality=self.nationality,
            address=self.address.data(),
        )


@strawberry.input
class LegalPersonInput:
    legal_name: str
    category: str
    registration_number: str | None = None
    nationality: CountryCode
    address: AddressInput
    representative: NaturalPersonInput = strawberry.field(
        description="Becomes the user representative (MPS: at least one is required)."
    )

    def data(self) -> LegalPersonData:
        return LegalPersonData(
            legal_name=self.legal_name,
            category=self.category,
            registration_number=self.registration_number,
            nationality=self.nationality,
            address=self.address.data(),
            representative=self.representative.data(),
        )


@strawberry.input(one_of=True)
class PersonInput:
    natural: NaturalPersonInput | None = strawberry.UNSET
    legal: LegalPersonInput | None = strawberry.UNSET

    def data(self) -> NaturalPersonData | LegalPersonData:
        if self.legal:
            return self.legal.data()
        assert self.natural
        return self.natural.data()


@strawberry.input
class AddPersonInput:
    user_id: strawberry.ID = strawberry.field(description="A LEGAL user.")
    person: NaturalPersonInput
    roles: list[PersonRole]
    ownership_percentage: float | None = None
    is_user_representative: bool | None = None
    idempotency_key: str | None = None


@strawberry.type
class AddPersonSuccess:
    person: NaturalPerson


AddPersonPayload = Annotated[
    AddPersonSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("AddPersonPayload"),
]


@strawberry.input(description="Only the fields given (not null) change.")
class UpdatePersonInput:
    person_id: strawberry.ID
    first_name: str | None = None
    last_name: str | None = None
    birth_date: Date | None = None
    nationality: CountryCode | None = None
    address: AddressInput | None = strawberry.field(
        default=None, description="Replaces the whole address."
    )
    legal_name: str | None = None
    category: str | None = None
    registration_number: str | None = None
    ownership_percentage: float | None = None
    roles: list[PersonRole] | None = None
    is_user_representative: bool | None = None
    idempotency_key: str | None = None

    def update(self) -> profiles.PersonUpdate:
        return profiles.PersonUpdate(
            person_id=self.person_id,
            first_name=self.first_name,
            last_name=self.last_name,
            birth_date=self.birth_date,
            nationality=self.nationality,
            address=None if self.address is None else self.address.data(),
            legal_name=self.legal_name,
            category=self.category,
            registration_number=self.registration_number,
            ownership_percentage=self.ownership_percentage,
            roles=self.roles,
            is_user_representative=self.is_user_representative,
            idempotency_key=self.idempotency_key,
        )


@strawberry.type
class UpdatePersonSuccess:
    person: Person


UpdatePersonPayload = Annotated[
    UpdatePersonSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("UpdatePersonPayload"),
]


@strawberry.type
class PersonMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Add a representative, owner, director or shareholder.",
    )
    async def add_person(self, info: Info, input: AddPersonInput) -> AddPersonPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        new = users.NewPerson(
            user_id=input.user_id,
            person=input.person.data(),
            roles=input.roles,
            ownership_percentage=input.ownership_percentage,
            is_user_representative=bool(input.is_user_representative),
            idempotency_key=input.idempotency_key,
        )
        outcome = await users.add_person(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return AddPersonSuccess(person=NaturalPerson.of(outcome.value))

    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Change a person's data (given fields only); identity changes of a"
        " VALIDATED user send it back to review.",
    )
    async def update_person(self, info: Info, input: UpdatePersonInput) -> UpdatePersonPayload:
        await require_own(info, tables.Person, input.person_id, what="person")
        row = await profiles.update_person(
            info.context.services.db, platform_id=info.context.platform.id, update=input.update()
        )
        return UpdatePersonSuccess(person=person_of(row))
