"""Updates of a user (`updateUser`: e-mail, login) and of its persons (`updatePerson`).

Only the fields given change; each passes the checks of creation (gateway/domain/inputs.py),
and a new e-mail or login must be free on the platform (a race between two requests ends as
the same `Duplicate`, the database guarding both). Nothing changes on a CLOSED user. An update
that changes something appends USER_UPDATED or PERSON_UPDATED with the changed input fields.

What may change in which validation state of the user:

| fields (input names)               | NOT_SUBMITTED, REFUSED, | PENDING        | VALIDATED        |
|                                    | WAITING_FOR_INFORMATION | (under review) |                  |
|------------------------------------|-------------------------|----------------|------------------|
| email, login                       | yes                     | yes            | yes              |
| address                            | yes                     | yes            | yes              |
| identity: firstName, lastName,     | yes                     | InvalidState   | yes, and back to |
| birthDate, nationality, legalName, |                         | naming PENDING | review (WAITING_ |
| category, registrationNumber       |                         |                | FOR_INFORMATION) |
| structure: roles,                  | yes                     | InvalidState   | yes, and back to |
| ownershipPercentage,               |                         | naming PENDING | review           |
| isUserRepresentative               |                         |                |                  |

The documents that described the old data stop counting (VALIDATED -> OUT_OF_DATE, as in
services/document_expiry.py), whatever the state, so their requirement comes back:

- identity of a natural person: its IDENTITY_PROOF; of the legal person: its
  REGISTRATION_PROOF and ARTICLES_OF_ASSOCIATION;
- structure: the entity's UBO_DECLARATION;
- address: the person's ADDRESS_PROOF (never required, so an address alone never sends the
  user back to review).

A VALIDATED user whose identity or structure changes goes `VALIDATED ->
WAITING_FOR_INFORMATION` (event USER_WAITING_FOR_INFORMATION), then submits the new documents,
requests validation and waits for a decision; pay-outs (which need VALIDATED) stop meanwhile.
Documents still CREATED are not retired: they may be the new ones, uploaded first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.domain.enums import (
    DocumentType,
    EventType,
    PersonKind,
    PersonRole,
    UserKind,
    ValidationStatus,
)
from gateway.domain.errors import Duplicate, InvalidState
from gateway.domain.inputs import (
    AddressData,
    Checks,
    NaturalPersonData,
    check_address,
    check_email,
    check_login,
    check_natural_person,
)
from gateway.services.document_expiry import retire_person_documents, send_back_to_review
from gateway.services.lifecycle import check_user_open
from gateway.services.lookups import find
from gateway.services.unit_of_work import Tx, input_payload, perform
from gateway.services.users import address_columns
from gateway.store import lifecycle as lifecycle_rows
from gateway.store import users
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.tables import Person, User

IDENTITY_FIELDS = frozenset(
    {
        "firstName",
        "lastName",
        "birthDate",
        "nationality",
        "legalName",
        "category",
        "registrationNumber",
    }
)
STRUCTURE_FIELDS = frozenset({"roles", "ownershipPercentage", "isUserRepresentative"})
NATURAL_FIELDS = frozenset({"firstName", "lastName", "birthDate"})
LEGAL_FIELDS = frozenset({"legalName", "category", "registrationNumber"})
_COLUMNS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "birthDate": "birth_date",
    "nationality": "nationality",
    "legalName": "legal_name",
    "category": "category",
    "registrationNumber": "registration_number",
    "ownershipPercentage": "ownership_percentage",
    "isUserRepresentative": "is_user_representative",
}
_IDENTITY_DOCUMENTS = {
    PersonKind.NATURAL: (DocumentType.IDENTITY_PROOF,),
    PersonKind.LEGAL: (DocumentType.REGISTRATION_PROOF, DocumentType.ARTICLES_OF_ASSOCIATION),
}


@dataclass(frozen=True, slots=True)
class UserUpdate:
    user_id: str
    email: str | None = None
    login: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class PersonUpdate:
    """None: unchanged."""

    person_id: str
    first_name: str | None = None
    last_name: str | None = None
    birth_date: dt.date | None = None
    nationality: str | None = None
    address: AddressData | None = None
    legal_name: str | None = None
    category: str | None = None
    registration_number: str | None = None
    ownership_percentage: float | None = None
    roles: Sequence[PersonRole] | None = None
    is_user_representative: bool | None = None
    idempotency_key: str | None = None

    def given(self) -> dict[str, Any]:
        """The fields given, by their input name (camelCase), with their values."""
        names = {f.name: f.name for f in dataclasses.fields(self)}
        camel = {
            name: name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
            for name in names
        }
        return {
            camel[name]: getattr(self, name)
            for name in names
            if name not in ("person_id", "idempotency_key") and getattr(self, name) is not None
        }


def _nothing_given() -> None:
    checks = Checks()
    checks.add("input", "Give at least one field to change.")
    checks.done()


def _check_user_update(update: UserUpdate) -> str | None:
    if update.email is None and update.login is None:
        _nothing_given()
    checks = Checks()
    email = None if update.email is None else check_email(checks, "email", update.email)
    if update.login is not None:
        check_login(checks, "login", update.login)
    checks.done()
    return email


async def _check_names_free(tx: Tx, user: User, email: str | None, login: str | None) -> None:
    clashes = await lifecycle_rows.name_clashes(
        tx.session,
        platform_id=tx.platform_id,
        user_id=user.id,
        email_key=None if email is None else email.lower(),
        login=login,
    )
    for email_key, taken_login in clashes:
        if email is not None and email_key == email.lower():
            raise Duplicate("This e-mail is already used on the platform.", field="email")
        if taken_login == login:
            raise Duplicate("This login is already used on the platform.", field="login")


def _apply_user_update(user: User, email: str | None, login: str | None) -> list[str]:
    changed = []
    if email is not None and email != user.email:
        user.email, user.email_key = email, email.lower()
        changed.append("email")
    if login is not None and login != user.login:
        user.login = login
        changed.append("login")
    return changed


async def update_user(db: Database, *, platform_id: uuid.UUID, update: UserUpdate) -> User:
    """Change a user's e-mail or login (any state but CLOSED)."""
    email = _check_user_update(update)

    async def work(tx: Tx) -> User:
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=update.user_id,
            what="user",
            lock=True,
        )
        check_user_open(user)
        await _check_names_free(tx, user, email, update.login)
        changed = _apply_user_update(user, email, update.login)
        if not changed:
            return user
        user.updated_at = utcnow()
        field = await lifecycle_rows.save_user_names(tx.session, user=user)
        if field is not None:
            raise Duplicate(f"This {field} is already used on the platform.", field=field)
        tx.emit(EventType.USER_UPDATED, user, user_id=user.id, changed_fields=changed)
        return user

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="updateUser",
        key=update.idempotency_key,
        payload=input_payload(update),
        model=User,
        work=work,
    )
    return outcome.value


def _check_kind(checks: Checks, person: Person, user: User, given: dict[str, Any]) -> None:
    natural = person.kind is PersonKind.NATURAL
    for name in sorted(given):
        if name in LEGAL_FIELDS and natural:
            checks.add(name, "Only a legal person has this field.")
        if name in NATURAL_FIELDS and not natural:
            checks.add(name, "Only a natural person has this field.")
        if name in STRUCTURE_FIELDS and (person.is_holder or user.kind is not UserKind.LEGAL):
            checks.add(name, "Only the persons around a LEGAL user's entity have this field.")


def _check_values(checks: Checks, person: Person, update: PersonUpdate) -> None:
    """The creation checks, on the person as the update would leave it."""
    if person.kind is PersonKind.NATURAL:
        merged = NaturalPersonData(
            first_name=update.first_name
            if update.first_name is not None
            else person.first_name or "",
            last_name=update.last_name if update.last_name is not None else person.last_name or "",
            birth_date=update.birth_date or person.birth_date or dt.date.today(),
            nationality=update.nationality or person.nationality,
            address=update.address or AddressData("-", "-", "-", person.address_country),
        )
        probe = Checks()
        check_natural_person(probe, "p", merged, today=dt.datetime.now(dt.UTC).date())
        for problem in probe.problems:
            checks.add(problem.field.removeprefix("p."), problem.message)
        return
    checks.text("legalName", update.legal_name, required=False, length_max=300)
    if update.legal_name is not None and not update.legal_name.strip():
        checks.add("legalName", "Must not be blank.")
    checks.text("category", update.category, required=False, length_max=100)
    if update.category is not None and not update.category.strip():
        checks.add("category", "Must not be blank.")
    checks.text("registrationNumber", update.registration_number, required=False, length_max=100)
    if update.address is not None:
        check_address(checks, "address", update.address)


def _check_structure(checks: Checks, person: Person, update: PersonUpdate) -> None:
    roles = [r.value for r in update.roles] if update.roles is not None else person.roles
    if update.roles is not None and not update.roles:
        checks.add("roles", "Give at least one role.")
    share = update.ownership_percentage
    if share is not None and not 0 < share <= 100:
        checks.add("ownershipPercentage", "Must be more than 0 and at most 100.")
    representative = (
        update.is_user_representative
        if update.is_user_representative is not None
        else person.is_user_representative
    )
    if representative and PersonRole.LEGAL_REPRESENTATIVE.value not in roles:
        checks.add("isUserRepresentative", "Only a LEGAL_REPRESENTATIVE can represent the user.")


def _check_state(user: User, given: dict[str, Any]) -> None:
    check_user_open(user)
    reviewed = set(given) & (IDENTITY_FIELDS | STRUCTURE_FIELDS)
    if reviewed and user.validation_status is ValidationStatus.PENDING:
        fields = ", ".join(sorted(reviewed))
        raise InvalidState(
            f"The user's validation is PENDING: {fields} cannot change while under review."
        )


async def _check_total_ownership(tx: Tx, person: Person, share: float | None) -> None:
    if share is None:
        return
    held = await users.ownership_held(
        tx.session, platform_id=tx.platform_id, user_id=person.user_id
    )
    held -= person.ownership_percentage or 0
    if held + share > 100 + 1e-9:
        checks = Checks()
        checks.add("ownershipPercentage", f"Owners would hold more than 100 % ({held} % held).")
        checks.done()


def _apply_person_update(person: Person, given: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in given.items():
        if name == "address":
            columns = address_columns(value)
            if any(getattr(person, k) != v for k, v in columns.items()):
                for key, column_value in columns.items():
                    setattr(person, key, column_value)
                changed.append(name)
            continue
        if name == "roles":
            value = sorted({role.value for role in value})
        elif isinstance(value, str) and name != "nationality":
            value = value.strip() or None
        column = "roles" if name == "roles" else _COLUMNS[name]
        if getattr(person, column) != value:
            setattr(person, column, value)
            changed.append(name)
    return sorted(changed)


async def _retire_for(tx: Tx, user: User, person: Person, changed: list[str]) -> None:
    if set(changed) & IDENTITY_FIELDS:
        await retire_person_documents(tx, user, person.id, _IDENTITY_DOCUMENTS[person.kind])
    if set(changed) & STRUCTURE_FIELDS:
        holder = await users.holder_of(tx.session, user_id=user.id)
        assert holder is not None
        await retire_person_documents(tx, user, holder.id, [DocumentType.UBO_DECLARATION])
    if "address" in changed:
        await retire_person_documents(tx, user, person.id, [DocumentType.ADDRESS_PROOF])
    reviewed = set(changed) & (IDENTITY_FIELDS | STRUCTURE_FIELDS)
    if reviewed and user.validation_status is ValidationStatus.VALIDATED:
        send_back_to_review(tx, user)


async def update_person(db: Database, *, platform_id: uuid.UUID, update: PersonUpdate) -> Person:
    """Change a person's data; see the module docstring for what each state allows."""
    given = update.given()
    if not given:
        _nothing_given()

    async def work(tx: Tx) -> Person:
        person = await find(
            tx.session,
            Person,
            platform_id=tx.platform_id,
            id_text=update.person_id,
            what="person",
            lock=True,
        )
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=str(person.user_id),
            what="user",
            lock=True,
        )
        checks = Checks()
        _check_kind(checks, person, user, given)
        checks.done()
        _check_values(checks, person, update)
        _check_structure(checks, person, update)
        checks.done()
        _check_state(user, given)
        await _check_total_ownership(tx, person, update.ownership_percentage)
        changed = _apply_person_update(person, given)
        if not changed:
            return person
        user.updated_at = utcnow()
        await tx.session.flush()
        await _retire_for(tx, user, person, changed)
        tx.emit(EventType.PERSON_UPDATED, person, user_id=user.id, changed_fields=changed)
        await tx.session.flush()
        return person

    payload = input_payload(update)
    if update.roles is not None:
        payload["roles"] = sorted({role.value for role in update.roles})
    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="updatePerson",
        key=update.idempotency_key,
        payload=payload,
        model=Person,
        work=work,
    )
    return outcome.value
