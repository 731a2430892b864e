"""KYC: documents, what a user still lacks before validation, and the mutations that submit a
document and request validation.

A document is uploaded as a part of a multipart request (the GraphQL multipart spec) and read
in chunks, refused as soon as it passes the size limit.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.file_uploads import Upload

from gateway.domain.enums import DocumentStatus, DocumentType, RefusalReason
from gateway.domain.errors import ValidationFailed
from gateway.graphql.access import BACKEND, OPERATOR, USER_TOKEN, allow, require_own
from gateway.graphql.context import Info
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.relay import Node
from gateway.graphql.scalars import Date, DateTime
from gateway.services import document_expiry, kyc
from gateway.store import tables

if TYPE_CHECKING:
    from gateway.graphql.persons import Person
    from gateway.graphql.users import User

UPLOAD_CHUNK_BYTES = 64 * 1024

strawberry.enum(DocumentType)
strawberry.enum(DocumentStatus)
strawberry.enum(
    RefusalReason,
    description=(
        "Why compliance refused a document or a user, or asked for more (MPS and Mangopay"
        " vocabulary); a free message goes with it."
    ),
)


async def _person(info: Info, person_id: uuid.UUID | None) -> Person | None:
    if person_id is None:
        return None
    person: Person | None = await NODES.read(info.context.loaders, "Person", person_id)
    assert person is not None, f"Person {person_id} is missing"
    return person


@strawberry.type
class KycDocument(Node):
    type: DocumentType
    status: DocumentStatus
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    refused_reason: str | None
    expires_on: Date | None = strawberry.field(
        description="The last day the document is valid; VALIDATED documents go OUT_OF_DATE"
        " after it."
    )
    refusal_reason: RefusalReason | None = strawberry.field(
        description="Why compliance refused the document (REFUSED only)."
    )
    refusal_message: str | None = strawberry.field(
        description="The free message that came with the refusal."
    )
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]
    person_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def of(cls, row: tables.KycDocument) -> KycDocument:
        return cls(
            id=strawberry.ID(str(row.id)),
            type=row.type,
            status=row.status,
            file_name=row.file_name,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            refused_reason=row.refused_reason,
            expires_on=Date(row.expires_on) if row.expires_on else None,
            refusal_reason=row.refusal_reason,
            refusal_message=row.refusal_message,
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
            person_id=row.person_id,
        )

    @strawberry.field
    def user(self, info: Info) -> Annotated[User, strawberry.lazy("gateway.graphql.users")]:
        user: User = NODES.edge(info.context.loaders, "User", self.user_id)
        return user

    @strawberry.field
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("gateway.graphql.persons")] | None:
        return await _person(info, self.person_id)


NODES.register(KycDocument, table=tables.KycDocument)


@strawberry.type
class Requirement:
    code: str
    document_type: DocumentType | None
    message: str
    person_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("gateway.graphql.persons")] | None:
        return await _person(info, self.person_id)


async def requirements_of_user(info: Info, user_id: uuid.UUID) -> list[Requirement]:
    """What the user still lacks before validation can be requested."""
    loaders = info.context.loaders
    user = await loaders.user.load(user_id)
    persons = await loaders.persons_of_user.load(user_id)
    documents = await loaders.of_user(tables.KycDocument).load(user_id)
    assert user is not None
    return [
        Requirement(
            code=m.code, document_type=m.document_type, message=m.message, person_id=m.person_id
        )
        for m in kyc.requirements_of(user, persons, documents)
    ]


@strawberry.input
class SubmitDocumentInput:
    user_id: strawberry.ID
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The person the document is about; the holder when omitted."
    )
    type: DocumentType
    file: Upload
    expires_on: Date | None = strawberry.field(
        default=None, description="The last day the document is valid (an identity card's end)."
    )


@strawberry.input
class RequestValidationInput:
    user_id: strawberry.ID


@strawberry.type
class SubmitDocumentSuccess:
    document: KycDocument


@strawberry.type
class RequestValidationSuccess:
    user: Annotated[User, strawberry.lazy("gateway.graphql.users")]


SubmitDocumentPayload = Annotated[
    SubmitDocumentSuccess | ValidationRejection | NotFoundRejection | InvalidStateRejection,
    strawberry.union("SubmitDocumentPayload"),
]
RequestValidationPayload = Annotated[
    RequestValidationSuccess | ValidationRejection | NotFoundRejection | InvalidStateRejection,
    strawberry.union("RequestValidationPayload"),
]


@strawberry.input
class MarkDocumentOutOfDateInput:
    document_id: strawberry.ID


@strawberry.type
class MarkDocumentOutOfDateSuccess:
    document: KycDocument


MarkDocumentOutOfDatePayload = Annotated[
    MarkDocumentOutOfDateSuccess | NotFoundRejection | InvalidStateRejection,
    strawberry.union("MarkDocumentOutOfDatePayload"),
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


@strawberry.type
class KycMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Upload a KYC document (multipart request): PDF, PNG, JPEG.",
    )
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
            expires_on=input.expires_on,
        )
        outcome = await kyc.submit_document(
            services.db,
            services.files,
            platform_id=info.context.platform.id,
            new=new,
            size_max=services.document_bytes_max,
        )
        return SubmitDocumentSuccess(document=KycDocument.of(outcome.value))

    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Submit the user for review; only when nothing is missing.",
    )
    async def request_validation(
        self,
        info: Info,
        input: RequestValidationInput,
    ) -> RequestValidationPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        user = await kyc.request_validation(
            info.context.services.db, platform_id=info.context.platform.id, user_id=input.user_id
        )
        return RequestValidationSuccess(user=NODES.convert("User", user))

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description="A VALIDATED document found invalid before its expiry: OUT_OF_DATE now.",
    )
    async def mark_document_out_of_date(
        self, info: Info, input: MarkDocumentOutOfDateInput
    ) -> MarkDocumentOutOfDatePayload:
        row = await document_expiry.mark_document_out_of_date(
            info.context.services.db,
            platform_id=info.context.platform.id,
            document_id=input.document_id,
        )
        return MarkDocumentOutOfDateSuccess(document=KycDocument.of(row))
