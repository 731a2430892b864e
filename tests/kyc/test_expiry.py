"""Documents that expire (gateway/services/document_expiry.py): the periodic sweep on every
platform and an operator's finding turn a VALIDATED document OUT_OF_DATE, its requirement
comes back, and a VALIDATED user that needs it goes back to review."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlmodel import col

from gateway.app import create_app
from gateway.services.document_expiry import expire_due
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.tables import KycDocument
from tests.support.calls import field_paths, mutate, node, rejected, success, top_level_error
from tests.support.decisions import operator_of, operator_validates
from tests.support.documents import MARK_DOCUMENT_OUT_OF_DATE
from tests.support.events import events, summary
from tests.support.kyc import request_validation, simulate_validation, submit_document
from tests.support.platforms import PlatformHandle
from tests.support.users import create_legal_user, create_natural_user, read_user

TODAY = dt.datetime.now(dt.UTC).date()
LAST_VALID_DAY = TODAY + dt.timedelta(days=30)
EXPIRY_EVENTS = ["DOCUMENT_OUT_OF_DATE", "USER_WAITING_FOR_INFORMATION"]


async def _validated_user(
    client: httpx.AsyncClient, platform: PlatformHandle, db: Database | None = None
) -> tuple[str, str]:
    """A NATURAL user VALIDATED on an identity proof valid through LAST_VALID_DAY: (user, doc)."""
    user_id = await create_natural_user(client, platform)
    proof = await submit_document(
        client, platform, user_id=user_id, expires_on=LAST_VALID_DAY.isoformat()
    )
    document = success(proof, "SubmitDocumentSuccess")["document"]
    assert document["expiresOn"] == LAST_VALID_DAY.isoformat()
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    if db is None:
        decided = await simulate_validation(client, platform, user_id, "VALIDATED")
        success(decided, "SimulateSuccess")
    else:
        await operator_validates(client, db, platform, user_id)
    return user_id, document["id"]


def _requirements(user: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["code"], r["documentType"]) for r in user["requirements"]]


async def test_the_sweep_retires_a_document_the_day_after_its_last_valid_day(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id, document_id = await _validated_user(client, sandbox)
    await expire_due(db, today=LAST_VALID_DAY)
    assert (await node(client, sandbox, document_id, "KycDocument"))["status"] == "VALIDATED"

    await expire_due(db, today=LAST_VALID_DAY + dt.timedelta(days=1), batch_max=1)

    assert (await node(client, sandbox, document_id, "KycDocument"))["status"] == "OUT_OF_DATE"
    user = await read_user(client, sandbox, user_id)
    assert user["validationStatus"] == "WAITING_FOR_INFORMATION"
    assert _requirements(user) == [("DOCUMENT_OUT_OF_DATE", "IDENTITY_PROOF")]
    assert "out of date" in user["requirements"][0]["message"]
    assert summary(await events(client, sandbox, EXPIRY_EVENTS)) == [
        ("DOCUMENT_OUT_OF_DATE", "VALIDATED", "OUT_OF_DATE"),
        ("USER_WAITING_FOR_INFORMATION", "VALIDATED", "WAITING_FOR_INFORMATION"),
    ]
    await expire_due(db, today=LAST_VALID_DAY + dt.timedelta(days=2))
    assert len(await events(client, sandbox, EXPIRY_EVENTS)) == 2


async def test_the_sweep_works_on_production_platforms_too(
    client: httpx.AsyncClient, db: Database, production: PlatformHandle
) -> None:
    user_id, document_id = await _validated_user(client, production, db)
    await expire_due(db, today=LAST_VALID_DAY + dt.timedelta(days=1))
    assert (await node(client, production, document_id, "KycDocument"))["status"] == "OUT_OF_DATE"
    user = await read_user(client, production, user_id)
    assert user["validationStatus"] == "WAITING_FOR_INFORMATION"


async def test_a_new_document_and_a_new_decision_validate_the_user_again(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id, _ = await _validated_user(client, sandbox)
    await expire_due(db, today=LAST_VALID_DAY + dt.timedelta(days=1))
    renewed = await submit_document(
        client, sandbox, user_id=user_id, expires_on=(TODAY + dt.timedelta(days=3650)).isoformat()
    )
    success(renewed, "SubmitDocumentSuccess")
    assert (await read_user(client, sandbox, user_id))["requirements"] == []
    success(await request_validation(client, sandbox, user_id), "RequestValidationSuccess")
    success(await simulate_validation(client, sandbox, user_id, "VALIDATED"), "SimulateSuccess")
    assert (await read_user(client, sandbox, user_id))["validationStatus"] == "VALIDATED"


async def test_an_operator_marks_a_validated_document_out_of_date_once(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id, document_id = await _validated_user(client, sandbox)

    marked = await mutate(client, officer, MARK_DOCUMENT_OUT_OF_DATE, {"documentId": document_id})

    assert success(marked, "MarkDocumentOutOfDateSuccess")["document"]["status"] == "OUT_OF_DATE"
    user = await read_user(client, sandbox, user_id)
    assert user["validationStatus"] == "WAITING_FOR_INFORMATION"
    assert _requirements(user) == [("DOCUMENT_OUT_OF_DATE", "IDENTITY_PROOF")]
    again = await mutate(client, officer, MARK_DOCUMENT_OUT_OF_DATE, {"documentId": document_id})
    assert "OUT_OF_DATE" in rejected(again, "InvalidStateRejection", "INVALID_STATE")["message"]


async def test_only_a_validated_document_goes_out_of_date_and_only_by_an_operator(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)
    created = success(
        await submit_document(client, sandbox, user_id=user_id), "SubmitDocumentSuccess"
    )
    document_id = created["document"]["id"]
    input = {"documentId": document_id}
    refused = await mutate(client, officer, MARK_DOCUMENT_OUT_OF_DATE, input)
    assert "CREATED" in rejected(refused, "InvalidStateRejection", "INVALID_STATE")["message"]
    error = await top_level_error(client, sandbox, MARK_DOCUMENT_OUT_OF_DATE, input)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await node(client, sandbox, document_id, "KycDocument"))["status"] == "CREATED"


async def test_a_document_not_required_goes_out_of_date_without_a_new_review(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)
    extra = await submit_document(client, sandbox, user_id=user_id, document_type="ADDRESS_PROOF")
    success(await submit_document(client, sandbox, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, sandbox, user_id), "RequestValidationSuccess")
    success(await simulate_validation(client, sandbox, user_id, "VALIDATED"), "SimulateSuccess")
    input = {"documentId": extra["document"]["id"]}
    success(
        await mutate(client, officer, MARK_DOCUMENT_OUT_OF_DATE, input),
        "MarkDocumentOutOfDateSuccess",
    )
    user = await read_user(client, sandbox, user_id)
    assert (user["validationStatus"], user["requirements"]) == ("VALIDATED", [])


async def test_a_document_that_expired_already_is_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    payload = await submit_document(client, sandbox, user_id=user_id, expires_on=yesterday)
    assert field_paths(payload) == ["expiresOn"]
    today = await submit_document(client, sandbox, user_id=user_id, expires_on=TODAY.isoformat())
    success(today, "SubmitDocumentSuccess")


async def test_the_app_sweeps_production_platforms_by_itself(
    client: httpx.AsyncClient, db: Database, production: PlatformHandle, settings: Settings
) -> None:
    user_id, document_id = await _validated_user(client, production, db)
    # Time passes: the last valid day is behind us (no API sets a past date).
    async with db.transaction() as session:
        await session.execute(
            sa.update(KycDocument)
            .where(col(KycDocument.id) == uuid.UUID(document_id))
            .values(expires_on=TODAY - dt.timedelta(days=1))
        )
    quick = settings.model_copy(
        update={"document_expiry": True, "document_expiry_interval_s": 0.05}
    )
    async with LifespanManager(create_app(quick, db=db)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            for _ in range(100):
                user = await read_user(http, production, user_id)
                if user["validationStatus"] == "WAITING_FOR_INFORMATION":
                    break
                await asyncio.sleep(0.05)
    assert _requirements(user) == [("DOCUMENT_OUT_OF_DATE", "IDENTITY_PROOF")]
    assert (await node(client, production, document_id, "KycDocument"))["status"] == "OUT_OF_DATE"


async def test_a_legal_representatives_expired_identity_proof_is_required_again(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    legal = await create_legal_user(client, sandbox)
    for document_type in ("REGISTRATION_PROOF", "UBO_DECLARATION"):
        entity = await submit_document(
            client, sandbox, user_id=legal.id, document_type=document_type
        )
        success(entity, "SubmitDocumentSuccess")
    proof = await submit_document(
        client, sandbox, user_id=legal.id, person_id=legal.representative_id
    )
    success(await request_validation(client, sandbox, legal.id), "RequestValidationSuccess")
    success(await simulate_validation(client, sandbox, legal.id, "VALIDATED"), "SimulateSuccess")
    input = {"documentId": proof["document"]["id"]}
    marked = await mutate(client, officer, MARK_DOCUMENT_OUT_OF_DATE, input)
    success(marked, "MarkDocumentOutOfDateSuccess")
    user = await read_user(client, sandbox, legal.id)
    assert user["validationStatus"] == "WAITING_FOR_INFORMATION"
    [requirement] = user["requirements"]
    assert requirement["person"]["id"] == legal.representative_id
    assert "(legal representative) is out of date" in requirement["message"]
