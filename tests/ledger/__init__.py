"""Ledger tests: invariants read from the tables, a stateful property test, concurrent runs.

The one builder they share lives here: `onboard_validated_user` walks a NATURAL user through
the real onboarding services (create, identity proof, validation request, sandbox decision),
then opens its EUR accounts and registers a bank account. Nothing is inserted by hand, so
every balance the tests see comes from ledger entries, and pay-outs are allowed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from gateway.domain.documents import DOCUMENT_BYTES_MAX
from gateway.domain.enums import DocumentType, ValidationStatus
from gateway.domain.inputs import AddressData, NaturalPersonData
from gateway.services.accounts import NewAccount, NewBankAccount, add_bank_account, open_account
from gateway.services.kyc import NewDocument, request_validation, submit_document
from gateway.services.sandbox import simulate_validation
from gateway.services.users import NewUser, create_user
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles

IDENTITY_PROOF_PDF = b"%PDF-1.4\n% an identity proof for tests\n%%EOF\n"
IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True, slots=True)
class Holder:
    """A VALIDATED user with VALIDATED EUR accounts and one bank account for pay-outs."""

    user_id: str
    account_ids: tuple[str, ...]
    bank_account_id: str


def _person(login: str) -> NaturalPersonData:
    address = AddressData(line1="1 rue de la Paix", postal_code="75002", city="Paris", country="FR")
    return NaturalPersonData(
        first_name="Ada",
        last_name=login.title(),
        birth_date=dt.date(1990, 1, 1),
        nationality="FR",
        address=address,
    )


async def onboard_validated_user(
    db: Database, files: DocumentFiles, *, platform_id: uuid.UUID, login: str, accounts: int = 1
) -> Holder:
    """A user taken to VALIDATED the way a platform would, with `accounts` EUR accounts."""
    new_user = NewUser(email=f"{login}@example.com", login=login, person=_person(login))
    user_id = str((await create_user(db, platform_id=platform_id, new=new_user)).value.id)
    proof = NewDocument(
        user_id=user_id,
        type=DocumentType.IDENTITY_PROOF,
        file_name="identity.pdf",
        content=IDENTITY_PROOF_PDF,
    )
    await submit_document(
        db, files, platform_id=platform_id, new=proof, size_max=DOCUMENT_BYTES_MAX
    )
    await request_validation(db, platform_id=platform_id, user_id=user_id)
    user = await simulate_validation(
        db, platform_id=platform_id, user_id=user_id, outcome=ValidationStatus.VALIDATED
    )
    assert user.validation_status is ValidationStatus.VALIDATED
    account_ids = []
    for _ in range(accounts):
        opened = await open_account(
            db, platform_id=platform_id, new=NewAccount(user_id=user_id, currency="EUR")
        )
        account_ids.append(str(opened.value.id))
    bank = NewBankAccount(user_id=user_id, owner_name=f"Ada {login.title()}", iban=IBAN)
    bank_account = (await add_bank_account(db, platform_id=platform_id, new=bank)).value
    return Holder(user_id, tuple(account_ids), str(bank_account.id))
