"""Onboarding of users and their persons: the legal identities behind the funds.

A NATURAL user has one natural person, its holder. A LEGAL user has a legal person as holder
and natural persons around it: at least one legal representative flagged as the user
representative (created with the user), then beneficial owners, directors and shareholders.
E-mails are unique per platform ignoring case, logins are unique per platform; the database
enforces both, and a race between two requests is reported as the same `Duplicate`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.domain.enums import (
    EventType,
    PersonKind,
    PersonRole,
    UserKind,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.errors import Duplicate, InvalidState
from gateway.domain.ids import new_id
from gateway.domain.inputs import (
    AddressData,
    Checks,
    LegalPersonData,
    NaturalPersonData,
    check_email,
    check_legal_person,
    check_login,
    check_natural_person,
)
from gateway.services.lookups import find
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import users
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.tables import Person, User


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    login: str
    person: NaturalPersonData | LegalPersonData
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class NewPerson:
    user_id: str
    person: NaturalPersonData
    roles: Sequence[PersonRole]
    ownership_percentage: float | None = None
    is_user_representative: bool = False
    idempotency_key: str | None = None


def address_columns(address: AddressData) -> dict[str, Any]:
    return {
        "address_line1": address.line1.strip(),
        "address_line2": address.line2.strip() if address.line2 else None,
        "address_postal_code": address.postal_code.strip(),
        "address_city": address.city.strip(),
        "address_region": address.region.strip() if address.region else None,
        "address_country": address.country,
    }


def natural_person_row(tx: Tx, user_id: uuid.UUID, data: NaturalPersonData, **extra: Any) -> Person:
    return Person(
        id=new_id(),
        platform_id=tx.platform_id,
        user_id=user_id,
        kind=PersonKind.NATURAL,
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
        birth_date=data.birth_date,
        nationality=data.nationality,
        **address_columns(data.address),
        **extra,
    )


def _legal_person_rows(tx: Tx, user_id: uuid.UUID, data: LegalPersonData) -> list[Person]:
    entity = Person(
        id=new_id(),
        platform_id=tx.platform_id,
        user_id=user_id,
        kind=PersonKind.LEGAL,
        is_holder=True,
        legal_name=data.legal_name.strip(),
        category=data.category.strip(),
        registration_number=(data.registration_number or "").strip() or None,
        nationality=data.nationality,
        **address_columns(data.address),
    )
    representative = natural_person_row(
        tx,
        user_id,
        data.representative,
        is_holder=False,
        parent_id=entity.id,
        roles=[PersonRole.LEGAL_REPRESENTATIVE.value],
        is_user_representative=True,
    )
    return [entity, representative]


def _check_new_user(new: NewUser) -> str:
    checks = Checks()
    email = check_email(checks, "email", new.email)
    check_login(checks, "login", new.login)
    today = dt.datetime.now(dt.UTC).date()
    if isinstance(new.person, LegalPersonData):
        check_legal_person(checks, "person.legal", new.person, today=today)
    else:
        check_natural_person(checks, "person.natural", new.person, today=today)
    checks.done()
    return email


async def _check_unique(tx: Tx, email: str, login: str) -> None:
    clashes = await users.user_clashes(
        tx.session, platform_id=tx.platform_id, email_key=email.lower(), login=login
    )
    for email_key, taken_login in clashes:
        if email_key == email.lower():
            raise Duplicate("This e-mail is already used on the platform.", field="email")
        if taken_login == login:
            raise Duplicate("This login is already used on the platform.", field="login")


async def create_user(db: Database, *, platform_id: uuid.UUID, new: NewUser) -> Outcome[User]:
    """Create a user with its holder person (and, for a LEGAL user, its representative)."""
    email = _check_new_user(new)

    async def work(tx: Tx) -> User:
        await _check_unique(tx, email, new.login)
        legal = isinstance(new.person, LegalPersonData)
        user = User(
            id=new_id(),
            platform_id=tx.platform_id,
            email=email,
            email_key=email.lower(),
            login=new.login,
            kind=UserKind.LEGAL if legal else UserKind.NATURAL,
            status=UserStatus.ACTIVE,
            validation_status=ValidationStatus.NOT_SUBMITTED,
        )
        if isinstance(new.person, LegalPersonData):
            persons = _legal_person_rows(tx, user.id, new.person)
        else:
            persons = [natural_person_row(tx, user.id, new.person, is_holder=True)]
        field = await users.add_user(tx.session, user=user, persons=persons)
        if field is not None:
            raise Duplicate(f"This {field} is already used on the platform.", field=field)
        tx.emit(EventType.USER_CREATED, user, user_id=user.id, status=user.validation_status)
        for person in persons:
            tx.emit(EventType.PERSON_CREATED, person, user_id=user.id)
        return user

    return await perform(
        db,
        platform_id=platform_id,
        operation="createUser",
        key=new.idempotency_key,
        payload=input_payload(new),
        model=User,
        work=work,
    )


def _check_new_person(new: NewPerson) -> None:
    checks = Checks()
    check_natural_person(checks, "person", new.person, today=dt.datetime.now(dt.UTC).date())
    if not new.roles:
        checks.add("roles", "Give at least one role.")
    share = new.ownership_percentage
    if share is not None and not 0 < share <= 100:
        checks.add("ownershipPercentage", "Must be more than 0 and at most 100.")
    if new.is_user_representative and PersonRole.LEGAL_REPRESENTATIVE not in new.roles:
        checks.add("isUserRepresentative", "Only a LEGAL_REPRESENTATIVE can represent the user.")
    checks.done()


async def _check_total_ownership(tx: Tx, user_id: uuid.UUID, share: float | None) -> None:
    if share is None:
        return
    held = await users.ownership_held(tx.session, platform_id=tx.platform_id, user_id=user_id)
    if held + share > 100 + 1e-9:
        checks = Checks()
        checks.add("ownershipPercentage", f"Owners would hold more than 100 % ({held} % held).")
        checks.done()


async def add_person(db: Database, *, platform_id: uuid.UUID, new: NewPerson) -> Outcome[Person]:
    """Add a natural person (representative, owner, director, shareholder) to a LEGAL user."""
    _check_new_person(new)
    roles = sorted({role.value for role in new.roles})

    async def work(tx: Tx) -> Person:
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=new.user_id,
            what="user",
            lock=True,
        )
        if user.kind is not UserKind.LEGAL:
            raise InvalidState("Only a LEGAL user has persons besides its holder.")
        if user.status is UserStatus.CLOSED:
            raise InvalidState("The user is closed.")
        await _check_total_ownership(tx, user.id, new.ownership_percentage)
        holder = await users.holder_of(tx.session, user_id=user.id)
        assert holder is not None
        person = natural_person_row(
            tx,
            user.id,
            new.person,
            is_holder=False,
            parent_id=holder.id,
            roles=roles,
            ownership_percentage=new.ownership_percentage,
            is_user_representative=new.is_user_representative,
        )
        tx.session.add(person)
        user.updated_at = utcnow()
        await tx.session.flush()
        tx.emit(EventType.PERSON_CREATED, person, user_id=user.id)
        return person

    return await perform(
        db,
        platform_id=platform_id,
        operation="addPerson",
        key=new.idempotency_key,
        payload={**input_payload(new), "roles": roles},
        model=Person,
        work=work,
    )
