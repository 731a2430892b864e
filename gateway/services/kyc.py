"""KYC: documents, requirements and the user's validation.

A user asks for validation only when nothing is missing (`requirements`); its CREATED
documents then become VALIDATION_ASKED. The decision (from an operator's
`decideUserValidation` on any platform, or `simulateValidation` and the settler on a sandbox,
all through `decide_validation`) moves the user from PENDING to VALIDATED, REFUSED or
WAITING_FOR_INFORMATION; validation sets `qualifiedAt`, turns the user's CREATED accounts
VALIDATED and validates the documents under review, a refusal refuses them (with the
decision's first reason and its message). An operator who refuses or asks for information
gives at least one `RefusalReason` (and none when validating); the user keeps its last
decision's reasons and message.

An operator may also decide one document (`decideDocument`): only a document under review
(VALIDATION_ASKED) is decided, VALIDATED or REFUSED (a refusal needs a reason); a CREATED
document is not under review yet, and a decided one stays decided (a new document replaces
it). A refused document no longer counts: its requirement comes back in `requirements` once
the user is no longer under review (REFUSED or WAITING_FOR_INFORMATION).

Files are checked by content (PDF, PNG or JPEG magic bytes, never the name or the declared
type), bounded in size, stored outside the database, and described by their SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.documents import DOCUMENT_BYTES_MIN, safe_file_name, sniff_content_type
from gateway.domain.enums import (
    AccountStatus,
    DocumentStatus,
    DocumentType,
    EventType,
    PersonKind,
    RefusalReason,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.errors import InvalidState, NotFound
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks
from gateway.domain.requirements import (
    DocumentFacts,
    Missing,
    PersonFacts,
    missing_requirements,
)
from gateway.domain.states import DOCUMENT, VALIDATION, check_transition
from gateway.services.lookups import find, object_id
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import accounts as account_rows
from gateway.store import users
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from gateway.store.tables import KycDocument, Person, User

ENTITY_DOCUMENTS = frozenset(
    {
        DocumentType.REGISTRATION_PROOF,
        DocumentType.UBO_DECLARATION,
        DocumentType.ARTICLES_OF_ASSOCIATION,
    }
)

_DECISION_EVENTS = {
    ValidationStatus.VALIDATED: EventType.USER_VALIDATED,
    ValidationStatus.REFUSED: EventType.USER_REFUSED,
    ValidationStatus.WAITING_FOR_INFORMATION: EventType.USER_WAITING_FOR_INFORMATION,
}


@dataclass(frozen=True, slots=True)
class NewDocument:
    user_id: str
    type: DocumentType
    file_name: str | None
    content: bytes
    person_id: str | None = None
    expires_on: dt.date | None = None  # the last day it is valid (services/document_expiry.py)


def _person_label(person: Person) -> str:
    if person.kind is PersonKind.LEGAL:
        return person.legal_name or "the entity"
    return f"{person.first_name} {person.last_name}"


def requirements_of(
    user: User, persons: list[Person], documents: list[KycDocument]
) -> list[Missing]:
    """What `user` must still provide (pure: from rows already loaded); nothing while its
    validation is under review. A VALIDATED user sees what it would lack if reviewed today
    (an OUT_OF_DATE document's requirement, see services/document_expiry.py)."""
    if user.validation_status is ValidationStatus.PENDING:
        return []
    person_facts = [
        PersonFacts(p.id, p.is_holder, tuple(p.roles), p.is_user_representative, _person_label(p))
        for p in persons
    ]
    document_facts = [DocumentFacts(d.person_id, d.type, d.status) for d in documents]
    return missing_requirements(user.kind, person_facts, document_facts)


async def _user_files(tx: Tx, user: User) -> tuple[list[Person], list[KycDocument]]:
    return await users.persons_and_documents(tx.session, user_id=user.id)


def _check_document(new: NewDocument, size_max: int) -> str:
    checks = Checks()
    content_type = sniff_content_type(new.content[:16])
    if len(new.content) > size_max:
        checks.add("file", f"The file exceeds {size_max} bytes.")
    elif len(new.content) < DOCUMENT_BYTES_MIN or content_type is None:
        checks.add("file", "Only PDF, PNG and JPEG files are accepted (checked by content).")
    if new.expires_on is not None and new.expires_on < dt.datetime.now(dt.UTC).date():
        checks.add("expiresOn", "The document has expired already.")
    checks.done()
    assert content_type is not None
    return content_type


def _check_subject(document_type: DocumentType, person: Person) -> None:
    entity_document = document_type in ENTITY_DOCUMENTS
    if entity_document != (person.kind is PersonKind.LEGAL):
        checks = Checks()
        subject = "the legal person" if entity_document else "a natural person"
        checks.add("type", f"A {document_type.value} is about {subject}.")
        checks.done()


async def submit_document(
    db: Database,
    files: DocumentFiles,
    *,
    platform_id: uuid.UUID,
    new: NewDocument,
    size_max: int,
) -> Outcome[KycDocument]:
    """Store a KYC document about the user's holder, or about another of its persons."""
    content_type = _check_document(new, size_max)
    document_id = new_id()
    files.write(platform_id, document_id, new.content)

    async def work(tx: Tx) -> KycDocument:
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=new.user_id,
            what="user",
            lock=True,
        )
        if user.status is UserStatus.CLOSED:
            raise InvalidState("The user is closed.")
        persons, _ = await _user_files(tx, user)
        if new.person_id is None:
            person = next(p for p in persons if p.is_holder)
        else:
            wanted = object_id(new.person_id, "person")
            person = next((p for p in persons if p.id == wanted), None)  # type: ignore[assignment]
            if person is None:
                raise NotFound(f"No person {new.person_id!r} for this user.")
        _check_subject(new.type, person)
        document = KycDocument(
            id=document_id,
            platform_id=tx.platform_id,
            user_id=user.id,
            person_id=person.id,
            type=new.type,
            status=DocumentStatus.CREATED,
            file_name=safe_file_name(new.file_name),
            content_type=content_type,
            size_bytes=len(new.content),
            sha256=hashlib.sha256(new.content).hexdigest(),
            expires_on=new.expires_on,
        )
        tx.session.add(document)
        await tx.session.flush()
        tx.emit(EventType.DOCUMENT_CREATED, document, user_id=user.id, status=document.status)
        return document

    try:
        return await perform(
            db,
            platform_id=platform_id,
            operation="submitDocument",
            key=None,
            payload={},
            model=KycDocument,
            work=work,
        )
    except BaseException:
        files.remove(platform_id, document_id)
        raise


async def request_validation(db: Database, *, platform_id: uuid.UUID, user_id: str) -> User:
    """Submit the user for review; only when no requirement is missing."""

    async def work(tx: Tx) -> User:
        user = await find(
            tx.session, User, platform_id=tx.platform_id, id_text=user_id, what="user", lock=True
        )
        if user.status is not UserStatus.ACTIVE:
            raise InvalidState(f"The user is {user.status.value.lower()}.")
        check_transition(VALIDATION, user.validation_status, ValidationStatus.PENDING, "The user")
        persons, documents = await _user_files(tx, user)
        missing = requirements_of(user, persons, documents)
        if missing:
            raise InvalidState(
                f"{len(missing)} requirement(s) missing: " + " ".join(m.message for m in missing)
            )
        previous = user.validation_status
        user.validation_status = ValidationStatus.PENDING
        user.updated_at = utcnow()
        for document in documents:
            if document.status is DocumentStatus.CREATED:
                _move_document(tx, document, DocumentStatus.VALIDATION_ASKED, user.id)
        tx.emit(
            EventType.USER_VALIDATION_REQUESTED,
            user,
            user_id=user.id,
            previous=previous,
            status=user.validation_status,
        )
        await tx.session.flush()
        return user

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="requestValidation",
        key=None,
        payload={},
        model=User,
        work=work,
    )
    return outcome.value


_DOCUMENT_EVENTS = {
    DocumentStatus.VALIDATION_ASKED: EventType.DOCUMENT_VALIDATION_ASKED,
    DocumentStatus.VALIDATED: EventType.DOCUMENT_VALIDATED,
    DocumentStatus.REFUSED: EventType.DOCUMENT_REFUSED,
}


def _move_document(
    tx: Tx,
    document: KycDocument,
    target: DocumentStatus,
    user_id: uuid.UUID,
    reason: RefusalReason | None = None,
    message: str | None = None,
) -> None:
    check_transition(DOCUMENT, document.status, target, "The document")
    if target is DocumentStatus.REFUSED:
        document.refusal_reason, document.refusal_message = reason, message
        document.refused_reason = message or (reason.value if reason else "Refused by compliance.")
    tx.move(
        document,
        target,
        _DOCUMENT_EVENTS[target],
        user_id=user_id,
        reasons=[reason.value] if reason else None,
        message=message if target is DocumentStatus.REFUSED else None,
    )


async def decide_validation(
    tx: Tx,
    user: User,
    outcome: ValidationStatus,
    reasons: Sequence[RefusalReason] = (),
    message: str | None = None,
) -> User:
    """Apply a compliance decision to a PENDING user (within the caller's transaction)."""
    if user.status is UserStatus.CLOSED:
        raise InvalidState("The user is CLOSED.")
    check_transition(VALIDATION, user.validation_status, outcome, "The user")
    previous = user.validation_status
    user.validation_status = outcome
    user.updated_at = utcnow()
    user.validation_reasons = [reason.value for reason in reasons]
    user.validation_message = message
    _, documents = await _user_files(tx, user)
    under_review = [d for d in documents if d.status is DocumentStatus.VALIDATION_ASKED]
    if outcome is ValidationStatus.VALIDATED:
        user.qualified_at = user.updated_at
        for document in under_review:
            _move_document(tx, document, DocumentStatus.VALIDATED, user.id)
        await _validate_accounts(tx, user)
    elif outcome is ValidationStatus.REFUSED:
        first = reasons[0] if reasons else None
        for document in under_review:
            _move_document(tx, document, DocumentStatus.REFUSED, user.id, first, message)
    tx.emit(
        _DECISION_EVENTS[outcome],
        user,
        user_id=user.id,
        previous=previous,
        status=outcome,
        reasons=user.validation_reasons or None,
        message=message,
    )
    await tx.session.flush()
    return user


async def _validate_accounts(tx: Tx, user: User) -> None:
    for account in await account_rows.created_accounts(tx.session, user_id=user.id):
        account.status = AccountStatus.VALIDATED
        account.updated_at = utcnow()
        tx.emit(
            EventType.ACCOUNT_VALIDATED,
            account,
            user_id=user.id,
            previous=AccountStatus.CREATED,
            status=AccountStatus.VALIDATED,
        )


# ---- the operator's decisions: one transaction each, optional idempotency key ------------

MESSAGE_LENGTH_MAX = 500


@dataclass(frozen=True, slots=True)
class ValidationDecision:
    user_id: str
    outcome: ValidationStatus
    reasons: tuple[RefusalReason, ...] = ()
    message: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentDecision:
    document_id: str
    outcome: DocumentStatus
    reason: RefusalReason | None = None
    message: str | None = None
    idempotency_key: str | None = None


def _check_decision(
    refusing: bool, reasons: Sequence[object], path: str, message: str | None
) -> None:
    checks = Checks()
    if refusing and not reasons:
        checks.add(path, "Give at least one reason when refusing or asking for information.")
    elif reasons and not refusing:
        checks.add(path, "Reasons go with a refusal or a request for information only.")
    checks.text("message", message, required=False, length_max=MESSAGE_LENGTH_MAX)
    checks.done()


def _message(text: str | None) -> str | None:
    return (text or "").strip() or None


async def decide_user_validation(
    db: Database, *, platform_id: uuid.UUID, decision: ValidationDecision
) -> Outcome[User]:
    """An operator decides a PENDING user's validation (see the module docstring)."""
    refusing = decision.outcome is not ValidationStatus.VALIDATED
    _check_decision(refusing, decision.reasons, "reasons", decision.message)

    async def work(tx: Tx) -> User:
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=decision.user_id,
            what="user",
            lock=True,
        )
        reasons = tuple(dict.fromkeys(decision.reasons))  # each once, in the order given
        return await decide_validation(
            tx, user, decision.outcome, reasons, _message(decision.message)
        )

    return await perform(
        db,
        platform_id=platform_id,
        operation="decideUserValidation",
        key=decision.idempotency_key,
        payload=input_payload(decision),
        model=User,
        work=work,
    )


async def decide_document(
    db: Database, *, platform_id: uuid.UUID, decision: DocumentDecision
) -> Outcome[KycDocument]:
    """An operator validates or refuses one document under review."""
    refusing = decision.outcome is DocumentStatus.REFUSED
    reasons = [decision.reason] if decision.reason else []
    _check_decision(refusing, reasons, "reason", decision.message)

    async def work(tx: Tx) -> KycDocument:
        found = await find(
            tx.session,
            KycDocument,
            platform_id=tx.platform_id,
            id_text=decision.document_id,
            what="document",
        )
        # The user first, as a user's decision does: the two never decide one document at once.
        await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=str(found.user_id),
            what="user",
            lock=True,
        )
        document = await find(
            tx.session,
            KycDocument,
            platform_id=tx.platform_id,
            id_text=decision.document_id,
            what="document",
            lock=True,
        )
        message = _message(decision.message)
        _move_document(tx, document, decision.outcome, document.user_id, decision.reason, message)
        await tx.session.flush()
        return document

    return await perform(
        db,
        platform_id=platform_id,
        operation="decideDocument",
        key=decision.idempotency_key,
        payload=input_payload(decision),
        model=KycDocument,
        work=work,
    )
