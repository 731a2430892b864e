"""Onboarding mutations: users, persons, accounts, bank accounts, documents, validation."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from gateway.domain.errors import ValidationFailed
from gateway.graphql.access import platform_key_only, require_own
from gateway.graphql.context import Info
from gateway.graphql.inputs import (
    AccountStatusInput,
    AddBankAccountInput,
    AddPersonInput,
    CreateUserInput,
    OpenAccountInput,
    RequestValidationInput,
    SubmitDocumentInput,
)
from gateway.graphql.operations import BankAccount, KycDocument
from gateway.graphql.rejections import (
    DuplicateRejection,
    IdempotencyConflictRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.types import Account, NaturalPerson, User
from gateway.services import accounts, kyc, users
from gateway.services.accounts import AccountChange
from gateway.store import tables

UPLOAD_CHUNK_BYTES = 64 * 1024


@strawberry.type
class CreateUserSuccess:
    user: User


@strawberry.type
class AddPersonSuccess:
    person: NaturalPerson


@strawberry.type
class OpenAccountSuccess:
    account: Account


@strawberry.type
class AddBankAccountSuccess:
    bank_account: BankAccount


@strawberry.type
class SubmitDocumentSuccess:
    document: KycDocument


@strawberry.type
class RequestValidationSuccess:
    user: User


@strawberry.type
class AccountStatusSuccess:
    account: Account


CreateUserPayload = Annotated[
    CreateUserSuccess | ValidationRejection | DuplicateRejection | IdempotencyConflictRejection,
    strawberry.union("CreateUserPayload"),
]
AddPersonPayload = Annotated[
    AddPersonSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("AddPersonPayload"),
]
OpenAccountPayload = Annotated[
    OpenAccountSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("OpenAccountPayload"),
]
AddBankAccountPayload = Annotated[
    AddBankAccountSuccess | ValidationRejection | NotFoundRejection | IdempotencyConflictRejection,
    strawberry.union("AddBankAccountPayload"),
]
SubmitDocumentPayload = Annotated[
    SubmitDocumentSuccess | ValidationRejection | NotFoundRejection | InvalidStateRejection,
    strawberry.union("SubmitDocumentPayload"),
]
RequestValidationPayload = Annotated[
    RequestValidationSuccess | ValidationRejection | NotFoundRejection | InvalidStateRejection,
    strawberry.union("RequestValidationPayload"),
]
AccountStatusPayload = Annotated[
    AccountStatusSuccess | NotFoundRejection | InvalidStateRejection,
    strawberry.union("AccountStatusPayload"),
]


async def _read_upload(upload: Any, size_max: int) -> tuple[bytes, str | None]:
    """The upload's bytes, refusing early (without reading it all) past `size_max`."""
    if not callable(getattr(upload, "read", None)):  # a JSON value where a file part belongs
        raise ValidationFailed.one(
            "file", "Send the file as a part of a multipart request (GraphQL multipart spec)."
        )
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(UPLOAD_CHUNK_BYTES):
        size += len(chunk)
        if size > size_max:
            raise ValidationFailed.one("file", f"The file exceeds {size_max} bytes.")
        chunks.append(chunk)
    return b"".join(chunks), getattr(upload, "filename", None)


async def _change_account(info: Info, account_id: str, change: AccountChange) -> Account:
    services = info.context.services
    row = await accounts.change_account_status(
        services.db, platform_id=info.context.platform.id, account_id=account_id, change=change
    )
    return Account.of(row)


@strawberry.type
class OnboardingMutations:
    @strawberry.mutation(
        extensions=platform_key_only(),
        description="Create a user with its holder (and legal representative).",
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        new = users.NewUser(
            email=input.email,
            login=input.login,
            person=input.person.data(),
            idempotency_key=input.idempotency_key,
        )
        outcome = await users.create_user(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreateUserSuccess(user=User.of(outcome.value))

    @strawberry.mutation(description="Add a representative, owner, director or shareholder.")
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

    @strawberry.mutation(description="Open an account in one of the platform's currencies.")
    async def open_account(self, info: Info, input: OpenAccountInput) -> OpenAccountPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        new = accounts.NewAccount(
            user_id=input.user_id,
            currency=input.currency,
            label=input.label,
            idempotency_key=input.idempotency_key,
        )
        outcome = await accounts.open_account(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return OpenAccountSuccess(account=Account.of(outcome.value))

    @strawberry.mutation(description="Register an IBAN of the user.")
    async def add_bank_account(
        self,
        info: Info,
        input: AddBankAccountInput,
    ) -> AddBankAccountPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        new = accounts.NewBankAccount(
            user_id=input.user_id,
            owner_name=input.owner_name,
            iban=input.iban,
            bic=input.bic,
            idempotency_key=input.idempotency_key,
        )
        outcome = await accounts.add_bank_account(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return AddBankAccountSuccess(bank_account=BankAccount.of(outcome.value))

    @strawberry.mutation(description="Upload a KYC document (multipart request): PDF, PNG, JPEG.")
    async def submit_document(
        self,
        info: Info,
        input: SubmitDocumentInput,
    ) -> SubmitDocumentPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        await require_own(info, tables.Person, input.person_id, what="person")
        services = info.context.services
        content, file_name = await _read_upload(input.file, services.document_bytes_max)
        new = kyc.NewDocument(
            user_id=input.user_id,
            person_id=input.person_id,
            type=input.type,
            file_name=file_name,
            content=content,
        )
        outcome = await kyc.submit_document(
            services.db,
            services.files,
            platform_id=info.context.platform.id,
            new=new,
            size_max=services.document_bytes_max,
        )
        return SubmitDocumentSuccess(document=KycDocument.of(outcome.value))

    @strawberry.mutation(description="Submit the user for review; only when nothing is missing.")
    async def request_validation(
        self,
        info: Info,
        input: RequestValidationInput,
    ) -> RequestValidationPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        user = await kyc.request_validation(
            info.context.services.db, platform_id=info.context.platform.id, user_id=input.user_id
        )
        return RequestValidationSuccess(user=User.of(user))

    @strawberry.mutation(
        extensions=platform_key_only(),
        description="Block an account: it neither sends nor receives.",
    )
    async def block_account(self, info: Info, input: AccountStatusInput) -> AccountStatusPayload:
        account = await _change_account(info, input.account_id, AccountChange.BLOCK)
        return AccountStatusSuccess(account=account)

    @strawberry.mutation(
        extensions=platform_key_only(),
        description="Unblock a BLOCKED account: back to VALIDATED (CREATED while its user is not"
        " validated).",
    )
    async def unblock_account(
        self,
        info: Info,
        input: AccountStatusInput,
    ) -> AccountStatusPayload:
        account = await _change_account(info, input.account_id, AccountChange.UNBLOCK)
        return AccountStatusSuccess(account=account)

    @strawberry.mutation(
        extensions=platform_key_only(),
        description="Close an account for good: only at a zero balance, with nothing in flight.",
    )
    async def close_account(self, info: Info, input: AccountStatusInput) -> AccountStatusPayload:
        account = await _change_account(info, input.account_id, AccountChange.CLOSE)
        return AccountStatusSuccess(account=account)
