"""What a user must still provide before validation can be requested.

NATURAL users: an IDENTITY_PROOF of the holder. LEGAL users: a REGISTRATION_PROOF and a
UBO_DECLARATION of the entity, and an IDENTITY_PROOF of each legal representative (and at least
one representative flagged as the user representative). A refused document does not count,
nor does one OUT_OF_DATE (expired, or found invalid after validation): its requirement comes
back with the code DOCUMENT_OUT_OF_DATE until a new document of that type is submitted.

A missing document's message names it as the schema spells its type and names the person it
is about, with the role that makes it needed: "IDENTITY_PROOF of Ada Lovelace (legal
representative) is missing." The requirement also carries both as fields, for programs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain.enums import DocumentStatus, DocumentType, PersonRole, UserKind


@dataclass(frozen=True, slots=True)
class PersonFacts:
    id: uuid.UUID
    is_holder: bool
    roles: tuple[str, ...]
    is_user_representative: bool
    label: str


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    person_id: uuid.UUID | None
    type: DocumentType
    status: DocumentStatus


@dataclass(frozen=True, slots=True)
class Missing:
    code: str
    message: str
    document_type: DocumentType | None = None
    person_id: uuid.UUID | None = None


NOT_COUNTING = frozenset({DocumentStatus.REFUSED, DocumentStatus.OUT_OF_DATE})


def _of(
    documents: Iterable[DocumentFacts], person_id: uuid.UUID, kind: DocumentType
) -> list[DocumentFacts]:
    return [d for d in documents if d.person_id == person_id and d.type is kind]


def _has(documents: Iterable[DocumentFacts], person_id: uuid.UUID, kind: DocumentType) -> bool:
    return any(d.status not in NOT_COUNTING for d in _of(documents, person_id, kind))


def _document(
    person: PersonFacts, kind: DocumentType, documents: Iterable[DocumentFacts]
) -> Missing:
    role = "holder" if person.is_holder else "legal representative"
    expired = any(d.status is DocumentStatus.OUT_OF_DATE for d in _of(documents, person.id, kind))
    if expired:
        message = f"{kind.value} of {person.label} ({role}) is out of date."
        return Missing("DOCUMENT_OUT_OF_DATE", message, kind, person.id)
    message = f"{kind.value} of {person.label} ({role}) is missing."
    return Missing("DOCUMENT_MISSING", message, kind, person.id)


def missing_requirements(
    kind: UserKind, persons: list[PersonFacts], documents: list[DocumentFacts]
) -> list[Missing]:
    holder = next((person for person in persons if person.is_holder), None)
    if holder is None:
        return [Missing("HOLDER_MISSING", "The user has no holder person.")]
    if kind is UserKind.NATURAL:
        needed = [(holder, DocumentType.IDENTITY_PROOF)]
        return [_document(p, t, documents) for p, t in needed if not _has(documents, p.id, t)]
    representatives = [
        p for p in persons if PersonRole.LEGAL_REPRESENTATIVE.value in p.roles and not p.is_holder
    ]
    missing: list[Missing] = []
    if not any(p.is_user_representative for p in representatives):
        missing.append(
            Missing(
                "USER_REPRESENTATIVE_MISSING",
                "A legal representative flagged as the user representative is required.",
            )
        )
    needed = [(holder, DocumentType.REGISTRATION_PROOF), (holder, DocumentType.UBO_DECLARATION)]
    needed += [(p, DocumentType.IDENTITY_PROOF) for p in representatives]
    missing += [_document(p, t, documents) for p, t in needed if not _has(documents, p.id, t)]
    return missing
