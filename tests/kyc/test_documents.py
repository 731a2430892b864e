"""KYC documents: real multipart uploads, checked by content, stored on disk by document id."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.calls import field_paths, missing, node, rejected, success
from tests.support.documents import SUBMIT_DOCUMENT
from tests.support.events import events, summary
from tests.support.kyc import HTML, JPEG, PDF, PNG, submit_document, upload
from tests.support.users import create_legal_user, create_natural_user, read_user

SMALL_LIMIT_BYTES = 2048


def stored_files(settings: Settings, platform: PlatformHandle) -> list[Path]:
    """Every file under the platform's folder of the document store."""
    folder = settings.documents_dir / str(platform.id)
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@asynccontextmanager
async def small_limit_client(db: Database, documents_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, built with a document limit of SMALL_LIMIT_BYTES."""
    settings = Settings(
        database_url=str(db.engine.url),
        migrate_on_start=False,
        documents_dir=documents_dir,
        document_bytes_max=SMALL_LIMIT_BYTES,
        gc_tuning=False,
    )
    app = create_app(settings, db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def test_a_pdf_upload_is_stored_on_disk_under_its_document_id_with_its_sha256(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)

    payload = await submit_document(
        client, sandbox, user_id=user_id, content=PDF, file_name="passport.pdf"
    )

    document = success(payload, "SubmitDocumentSuccess")["document"]
    assert document["type"] == "IDENTITY_PROOF"
    assert document["status"] == "CREATED"
    assert document["fileName"] == "passport.pdf"
    assert document["contentType"] == "application/pdf"
    assert document["sizeBytes"] == len(PDF)
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["refusedReason"] is None
    assert document["user"] == {"id": user_id}
    holder_id = (await read_user(client, sandbox, user_id))["holder"]["id"]
    assert document["person"] == {"id": holder_id}  # the holder, when personId is omitted
    path = settings.documents_dir / str(sandbox.id) / document["id"]
    assert stored_files(settings, sandbox) == [path]
    assert path.read_bytes() == PDF
    assert hashlib.sha256(path.read_bytes()).hexdigest() == document["sha256"]
    assert (await read_user(client, sandbox, user_id))["documents"] == [document]
    assert await node(client, sandbox, document["id"], "KycDocument") == {
        "__typename": "KycDocument",
        **document,
    }
    assert summary(await events(client, sandbox, ["DOCUMENT_CREATED"])) == [
        ("DOCUMENT_CREATED", None, "CREATED")
    ]


async def test_png_and_jpeg_are_recognised_by_their_content_not_their_name(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)

    png = await submit_document(
        client,
        sandbox,
        user_id=user_id,
        document_type="ADDRESS_PROOF",
        content=PNG,
        file_name="bill.pdf",
    )
    jpeg = await submit_document(
        client,
        sandbox,
        user_id=user_id,
        document_type="PEP_DECLARATION",
        content=JPEG,
        file_name="declaration",
    )

    png_document = success(png, "SubmitDocumentSuccess")["document"]
    jpeg_document = success(jpeg, "SubmitDocumentSuccess")["document"]
    assert (png_document["contentType"], png_document["type"]) == ("image/png", "ADDRESS_PROOF")
    assert (jpeg_document["contentType"], jpeg_document["fileName"]) == (
        "image/jpeg",
        "declaration",
    )
    for document, content in ((png_document, PNG), (jpeg_document, JPEG)):
        path = settings.documents_dir / str(sandbox.id) / document["id"]
        assert path.read_bytes() == content
        assert document["sha256"] == hashlib.sha256(content).hexdigest()


async def test_a_document_can_be_about_another_person_of_the_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)

    identity = await submit_document(
        client, sandbox, user_id=legal.id, person_id=legal.representative_id
    )
    registration = await submit_document(
        client, sandbox, user_id=legal.id, document_type="REGISTRATION_PROOF"
    )

    assert success(identity, "SubmitDocumentSuccess")["document"]["person"] == {
        "id": legal.representative_id
    }
    assert success(registration, "SubmitDocumentSuccess")["document"]["person"] == {
        "id": legal.holder_id
    }


async def test_the_file_name_keeps_no_path(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)

    payload = await submit_document(
        client, sandbox, user_id=user_id, file_name="../../etc/passwd.pdf"
    )

    document = success(payload, "SubmitDocumentSuccess")["document"]
    assert document["fileName"] == "passwd.pdf"
    assert stored_files(settings, sandbox) == [
        settings.documents_dir / str(sandbox.id) / document["id"]
    ]


async def test_a_pdf_name_on_content_that_is_not_pdf_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)
    text = b"Just some plain text pretending to be a PDF document.\n"

    payload = await submit_document(
        client, sandbox, user_id=user_id, content=text, file_name="passport.pdf"
    )

    assert field_paths(payload) == ["file"]
    assert stored_files(settings, sandbox) == []
    assert (await read_user(client, sandbox, user_id))["documents"] == []
    assert await events(client, sandbox, ["DOCUMENT_CREATED"]) == []


async def test_an_html_file_named_png_is_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)

    response = await upload(
        client,
        sandbox,
        user_id=user_id,
        document_type="IDENTITY_PROOF",
        content=HTML,
        file_name="selfie.png",
        declared_type="image/png",
    )

    assert response.status_code == 200
    assert field_paths(response.json()["data"]["submitDocument"]) == ["file"]
    assert stored_files(settings, sandbox) == []


async def test_a_file_shorter_than_16_bytes_is_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)

    payload = await submit_document(client, sandbox, user_id=user_id, content=b"%PDF-1.4\n")

    assert field_paths(payload) == ["file"]
    assert stored_files(settings, sandbox) == []


async def test_a_file_over_the_limit_is_refused_on_the_file_field(
    db: Database, sandbox: PlatformHandle, tmp_path: Path
) -> None:
    async with small_limit_client(db, tmp_path) as client:
        user_id = await create_natural_user(client, sandbox)
        at_limit = PDF + b"0" * (SMALL_LIMIT_BYTES - len(PDF))
        over_limit = at_limit + b"0"

        refused = await submit_document(client, sandbox, user_id=user_id, content=over_limit)
        accepted = await submit_document(client, sandbox, user_id=user_id, content=at_limit)

        assert field_paths(refused) == ["file"]
        document = success(accepted, "SubmitDocumentSuccess")["document"]
        assert document["sizeBytes"] == SMALL_LIMIT_BYTES
        assert [path.name for path in (tmp_path / str(sandbox.id)).iterdir()] == [document["id"]]
        assert len((await read_user(client, sandbox, user_id))["documents"]) == 1


async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    db: Database, sandbox: PlatformHandle, tmp_path: Path
) -> None:
    async with small_limit_client(db, tmp_path) as client:
        user_id = await create_natural_user(client, sandbox)

        response = await upload(
            client,
            sandbox,
            user_id=user_id,
            document_type="IDENTITY_PROOF",
            content=PDF + b"0" * 1_100_000,
            file_name="huge.pdf",
        )

        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert not (tmp_path / str(sandbox.id)).exists()
        assert (await read_user(client, sandbox, user_id))["documents"] == []


async def test_a_document_for_an_unknown_user_is_not_found_and_its_file_removed(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    payload = await submit_document(client, sandbox, user_id=str(uuid.uuid4()))

    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert stored_files(settings, sandbox) == []
    assert await events(client, sandbox) == []


async def test_a_document_for_another_platforms_user_is_not_found_and_its_file_removed(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    other_sandbox: PlatformHandle,
    settings: Settings,
) -> None:
    user_id = await create_natural_user(client, sandbox)

    payload = await submit_document(client, other_sandbox, user_id=user_id)

    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert stored_files(settings, other_sandbox) == []
    assert stored_files(settings, sandbox) == []
    assert (await read_user(client, sandbox, user_id))["documents"] == []


async def test_a_person_of_another_user_is_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    legal = await create_legal_user(client, sandbox)
    someone_else = await create_natural_user(client, sandbox)

    payload = await submit_document(
        client, sandbox, user_id=someone_else, person_id=legal.representative_id
    )

    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert stored_files(settings, sandbox) == []


async def test_an_identity_proof_of_the_legal_entity_is_refused_on_the_type_field(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    legal = await create_legal_user(client, sandbox)
    natural = await create_natural_user(client, sandbox)

    of_entity = await submit_document(client, sandbox, user_id=legal.id)
    of_individual = await submit_document(
        client, sandbox, user_id=natural, document_type="UBO_DECLARATION"
    )

    assert field_paths(of_entity) == ["type"]
    assert field_paths(of_individual) == ["type"]
    assert stored_files(settings, sandbox) == []


async def test_an_unknown_document_id_reads_as_null(
    client: httpx.AsyncClient, sandbox: PlatformHandle, other_sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    document = success(
        await submit_document(client, sandbox, user_id=user_id), "SubmitDocumentSuccess"
    )["document"]

    assert await missing(client, other_sandbox, document["id"])
    assert await missing(client, sandbox, str(uuid.uuid4()))


async def test_a_json_value_in_place_of_the_file_is_a_validation_rejection(
    client: httpx.AsyncClient, sandbox: PlatformHandle, settings: Settings
) -> None:
    user_id = await create_natural_user(client, sandbox)
    input = {"userId": user_id, "type": "IDENTITY_PROOF", "file": "not a file"}
    response = await client.post(
        "/graphql",
        json={"query": SUBMIT_DOCUMENT, "variables": {"input": input}},
        headers=sandbox.headers,
    )
    payload = response.json()["data"]["submitDocument"]
    rejected(payload, "ValidationRejection", "VALIDATION_FAILED")
    assert field_paths(payload) == ["file"]
    assert stored_files(settings, sandbox) == []
