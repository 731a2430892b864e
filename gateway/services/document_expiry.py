"""Documents that stop counting: expired, or found invalid after their validation.

A KYC document may carry an expiry date (`expiresOn`, the last day it is valid). A VALIDATED
document goes OUT_OF_DATE (event DOCUMENT_OUT_OF_DATE):

- by the periodic sweep (`run_document_expiry`, started by the app on every platform,
  production included, every `document_expiry_interval_s`), the day after its expiry date. The
  sweep reads due documents in small keyset batches and decides each in its own transaction,
  which locks the document and re-checks it, so several instances may sweep at once;
- by an operator (`markDocumentOutOfDate`) who finds it invalid before then;
- when the person it describes changes its identity data (services/profiles.py).

An OUT_OF_DATE document no longer counts: its requirement comes back in `User.requirements`
(code DOCUMENT_OUT_OF_DATE). When that happens to a VALIDATED user, the user goes back to
review: `VALIDATED -> WAITING_FOR_INFORMATION` (event USER_WAITING_FOR_INFORMATION), in the
same transaction. It then submits a new document and requests validation, and compliance
decides again. Meanwhile pay-outs (which need a VALIDATED user) are refused; transfers and
pay-ins go on, and the accounts keep their status. A document that is not required (an
ADDRESS_PROOF, say) going out of date changes nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Iterable

from gateway.domain.enums import DocumentStatus, DocumentType, EventType, ValidationStatus
from gateway.domain.errors import Rejected
from gateway.domain.states import DOCUMENT, VALIDATION, check_transition
from gateway.services.kyc import requirements_of
from gateway.services.lifecycle import check_user_open
from gateway.services.lookups import find
from gateway.services.unit_of_work import Tx, perform
from gateway.store import lifecycle as lifecycle_rows
from gateway.store import users
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.tables import KycDocument, User

logger = logging.getLogger("gateway.documents")
EXPIRY_BATCH_MAX = 100


def retire_document(tx: Tx, document: KycDocument) -> None:
    """VALIDATED -> OUT_OF_DATE (within the caller's transaction)."""
    check_transition(DOCUMENT, document.status, DocumentStatus.OUT_OF_DATE, "The document")
    tx.move(
        document,
        DocumentStatus.OUT_OF_DATE,
        EventType.DOCUMENT_OUT_OF_DATE,
        user_id=document.user_id,
    )


def send_back_to_review(tx: Tx, user: User) -> None:
    """VALIDATED -> WAITING_FOR_INFORMATION: the user must be reviewed again."""
    check_transition(
        VALIDATION, user.validation_status, ValidationStatus.WAITING_FOR_INFORMATION, "The user"
    )
    previous = user.validation_status
    user.validation_status = ValidationStatus.WAITING_FOR_INFORMATION
    user.updated_at = utcnow()
    tx.emit(
        EventType.USER_WAITING_FOR_INFORMATION,
        user,
        user_id=user.id,
        previous=previous,
        status=user.validation_status,
    )


async def retire_person_documents(
    tx: Tx, user: User, person_id: uuid.UUID, types: Iterable[DocumentType]
) -> list[KycDocument]:
    """Retire the person's VALIDATED documents of `types`; the documents retired."""
    wanted = frozenset(types)
    _, documents = await users.persons_and_documents(tx.session, user_id=user.id)
    retired = [
        d
        for d in documents
        if d.person_id == person_id and d.type in wanted and d.status is DocumentStatus.VALIDATED
    ]
    for document in retired:
        retire_document(tx, document)
    return retired


async def _after_retirement(tx: Tx, user: User) -> None:
    """A VALIDATED user that now misses a requirement goes back to review."""
    if user.validation_status is not ValidationStatus.VALIDATED:
        return
    persons, documents = await users.persons_and_documents(tx.session, user_id=user.id)
    if requirements_of(user, persons, documents):
        send_back_to_review(tx, user)


async def _retire(tx: Tx, document: KycDocument) -> KycDocument:
    user = await find(
        tx.session,
        User,
        platform_id=tx.platform_id,
        id_text=str(document.user_id),
        what="user",
        lock=True,
    )
    check_user_open(user)
    retire_document(tx, document)
    await tx.session.flush()
    await _after_retirement(tx, user)
    await tx.session.flush()
    return document


async def mark_document_out_of_date(
    db: Database, *, platform_id: uuid.UUID, document_id: str
) -> KycDocument:
    """An operator's finding: a VALIDATED document no longer counts, from now."""

    async def work(tx: Tx) -> KycDocument:
        document = await find(
            tx.session,
            KycDocument,
            platform_id=tx.platform_id,
            id_text=document_id,
            what="document",
            lock=True,
        )
        return await _retire(tx, document)

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="markDocumentOutOfDate",
        key=None,
        payload={},
        model=KycDocument,
        work=work,
    )
    return outcome.value


async def _expire(
    db: Database, platform_id: uuid.UUID, document_id: uuid.UUID, today: dt.date
) -> bool:
    retired: list[bool] = []

    async def work(tx: Tx) -> KycDocument:
        retired.clear()
        document = await find(
            tx.session,
            KycDocument,
            platform_id=tx.platform_id,
            id_text=str(document_id),
            what="document",
            lock=True,
        )
        expired = document.expires_on is not None and document.expires_on < today
        if document.status is not DocumentStatus.VALIDATED or not expired:
            return document  # retired elsewhere meanwhile: nothing to do
        retired.append(True)
        return await _retire(tx, document)

    await perform(
        db,
        platform_id=platform_id,
        operation="expireDocument",
        key=None,
        payload={},
        model=KycDocument,
        work=work,
    )
    return bool(retired)


async def expire_due(
    db: Database, *, today: dt.date | None = None, batch_max: int = EXPIRY_BATCH_MAX
) -> int:
    """One sweep: every VALIDATED document expired before `today` (UTC) goes OUT_OF_DATE,
    read `batch_max` at a time in id order. Returns how many went."""
    day = today or utcnow().date()
    expired = 0
    after: uuid.UUID | None = None
    while True:
        async with db.session() as session:
            batch = await lifecycle_rows.expired_documents(
                session, today=day, after=after, limit=batch_max
            )
        for platform_id, document_id in batch:
            try:
                expired += await _expire(db, platform_id, document_id, day)
            except Rejected as rejection:
                logger.info("expiry skipped document %s: %s", document_id, rejection)
        if len(batch) < batch_max:
            return expired
        after = batch[-1][1]


async def run_document_expiry(db: Database, *, interval_s: float) -> None:
    """Sweep forever (until cancelled); errors are logged, never fatal."""
    while True:
        try:
            await expire_due(db)
        except Exception:
            logger.exception("document expiry sweep failed")
        await asyncio.sleep(interval_s)
