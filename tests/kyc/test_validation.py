"""The KYC flow, worked examples: requirements, requestValidation and the sandbox decisions."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PlatformHandle
from tests.support.accounts import open_account, read_account
from tests.support.calls import mutate, rejected, success
from tests.support.documents import BLOCK_ACCOUNT
from tests.support.events import events, summary
from tests.support.kyc import request_validation, simulate_validation, submit_document
from tests.support.users import LegalUser, create_legal_user, create_natural_user, read_user


def needed(user: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """The user's requirements as (code, documentType, person id)."""
    return [
        (r["code"], r["documentType"], (r["person"] or {}).get("id")) for r in user["requirements"]
    ]


def statuses(user: dict[str, Any]) -> list[str]:
    return [document["status"] for document in user["documents"]]


async def upload_legal_file(
    client: httpx.AsyncClient, platform: PlatformHandle, legal: LegalUser
) -> None:
    """Everything a LEGAL user with one representative needs."""
    for document_type in ("REGISTRATION_PROOF", "UBO_DECLARATION"):
        payload = await submit_document(
            client, platform, user_id=legal.id, document_type=document_type
        )
        success(payload, "SubmitDocumentSuccess")
    payload = await submit_document(
        client, platform, user_id=legal.id, person_id=legal.representative_id
    )
    success(payload, "SubmitDocumentSuccess")


async def pending_legal_user(client: httpx.AsyncClient, platform: PlatformHandle) -> LegalUser:
    legal = await create_legal_user(client, platform)
    await upload_legal_file(client, platform, legal)
    success(await request_validation(client, platform, legal.id), "RequestValidationSuccess")
    return legal


async def test_a_natural_user_needs_an_identity_proof_of_its_holder(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    user = await read_user(client, sandbox, user_id)

    assert needed(user) == [("DOCUMENT_MISSING", "IDENTITY_PROOF", user["holder"]["id"])]
    assert (
        user["requirements"][0]["message"] == "IDENTITY_PROOF of Ada Lovelace (holder) is missing."
    )

    await submit_document(client, sandbox, user_id=user_id, document_type="ADDRESS_PROOF")
    assert len(needed(await read_user(client, sandbox, user_id))) == 1

    await submit_document(client, sandbox, user_id=user_id)
    assert needed(await read_user(client, sandbox, user_id)) == []


async def test_a_legal_user_needs_the_entity_papers_and_an_identity_proof_per_representative(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)

    user = await read_user(client, sandbox, legal.id)

    assert needed(user) == [
        ("DOCUMENT_MISSING", "REGISTRATION_PROOF", legal.holder_id),
        ("DOCUMENT_MISSING", "UBO_DECLARATION", legal.holder_id),
        ("DOCUMENT_MISSING", "IDENTITY_PROOF", legal.representative_id),
    ]
    assert [r["message"] for r in user["requirements"]] == [
        "REGISTRATION_PROOF of Acme SAS (holder) is missing.",
        "UBO_DECLARATION of Acme SAS (holder) is missing.",
        "IDENTITY_PROOF of Grace Hopper (legal representative) is missing.",
    ]


async def test_requesting_validation_while_anything_is_missing_is_an_invalid_state(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    await submit_document(client, sandbox, user_id=legal.id, document_type="REGISTRATION_PROOF")
    await submit_document(client, sandbox, user_id=legal.id, document_type="UBO_DECLARATION")

    payload = await request_validation(client, sandbox, legal.id)

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert payload["message"] == (
        "1 requirement(s) missing:"
        " IDENTITY_PROOF of Grace Hopper (legal representative) is missing."
    )
    user = await read_user(client, sandbox, legal.id)
    assert user["validationStatus"] == "NOT_SUBMITTED"
    assert statuses(user) == ["CREATED", "CREATED"]
    assert await events(client, sandbox, ["USER_VALIDATION_REQUESTED"]) == []


async def test_with_every_document_uploaded_validation_becomes_pending(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    await upload_legal_file(client, sandbox, legal)

    payload = await request_validation(client, sandbox, legal.id)

    returned = success(payload, "RequestValidationSuccess")["user"]
    assert returned["validationStatus"] == "PENDING"
    assert returned["requirements"] == []
    user = await read_user(client, sandbox, legal.id)
    assert user["validationStatus"] == "PENDING"
    assert statuses(user) == ["VALIDATION_ASKED"] * 3
    assert summary(await events(client, sandbox, ["USER_VALIDATION_REQUESTED"])) == [
        ("USER_VALIDATION_REQUESTED", "NOT_SUBMITTED", "PENDING")
    ]


async def test_requesting_validation_twice_is_an_invalid_state(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await pending_legal_user(client, sandbox)

    payload = await request_validation(client, sandbox, legal.id)

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")


async def test_validation_sets_qualified_at_and_validates_created_accounts_and_documents(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    account_id = await open_account(client, sandbox, legal.id)
    await upload_legal_file(client, sandbox, legal)
    success(await request_validation(client, sandbox, legal.id), "RequestValidationSuccess")

    payload = await simulate_validation(client, sandbox, legal.id, "VALIDATED")

    decided = success(payload, "SimulateSuccess")["object"]
    assert decided["__typename"] == "User"
    assert decided["validationStatus"] == "VALIDATED"
    assert decided["qualifiedAt"] is not None
    user = await read_user(client, sandbox, legal.id)
    assert user["validationStatus"] == "VALIDATED"
    assert user["qualifiedAt"] == decided["qualifiedAt"]
    assert statuses(user) == ["VALIDATED"] * 3
    assert (await read_account(client, sandbox, account_id))["status"] == "VALIDATED"
    assert summary(await events(client, sandbox, ["USER_VALIDATED", "ACCOUNT_VALIDATED"])) == [
        ("ACCOUNT_VALIDATED", "CREATED", "VALIDATED"),
        ("USER_VALIDATED", "PENDING", "VALIDATED"),
    ]
    assert len(await events(client, sandbox, ["DOCUMENT_VALIDATED"])) == 3


async def test_a_blocked_account_stays_blocked_when_its_user_is_validated(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    open_id = await open_account(client, sandbox, user_id)
    blocked_id = await open_account(client, sandbox, user_id)
    success(
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": blocked_id}),
        "AccountStatusSuccess",
    )
    await submit_document(client, sandbox, user_id=user_id)
    await request_validation(client, sandbox, user_id)

    success(await simulate_validation(client, sandbox, user_id, "VALIDATED"), "SimulateSuccess")

    assert (await read_account(client, sandbox, open_id))["status"] == "VALIDATED"
    assert (await read_account(client, sandbox, blocked_id))["status"] == "BLOCKED"


async def test_a_refusal_refuses_the_documents_and_the_requirements_come_back(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await pending_legal_user(client, sandbox)
    account_id = await open_account(client, sandbox, legal.id)

    payload = await simulate_validation(client, sandbox, legal.id, "REFUSED", "Blurry scans.")

    assert success(payload, "SimulateSuccess")["object"]["validationStatus"] == "REFUSED"
    user = await read_user(client, sandbox, legal.id)
    assert user["validationStatus"] == "REFUSED"
    assert user["qualifiedAt"] is None
    assert statuses(user) == ["REFUSED"] * 3
    assert {document["refusedReason"] for document in user["documents"]} == {"Blurry scans."}
    assert [code for code, _, _ in needed(user)] == ["DOCUMENT_MISSING"] * 3
    assert len(await events(client, sandbox, ["DOCUMENT_REFUSED"])) == 3
    assert (await read_account(client, sandbox, account_id))["status"] == "CREATED"
    rejected(
        await request_validation(client, sandbox, legal.id),
        "InvalidStateRejection",
        "INVALID_STATE",
    )

    await upload_legal_file(client, sandbox, legal)
    again = await request_validation(client, sandbox, legal.id)

    assert success(again, "RequestValidationSuccess")["user"]["validationStatus"] == "PENDING"
    user = await read_user(client, sandbox, legal.id)
    assert statuses(user) == ["REFUSED"] * 3 + ["VALIDATION_ASKED"] * 3
    assert summary(
        await events(client, sandbox, ["USER_REFUSED", "USER_VALIDATION_REQUESTED"])
    ) == [
        ("USER_VALIDATION_REQUESTED", "NOT_SUBMITTED", "PENDING"),
        ("USER_REFUSED", "PENDING", "REFUSED"),
        ("USER_VALIDATION_REQUESTED", "REFUSED", "PENDING"),
    ]


async def test_waiting_for_information_then_asking_again_goes_back_to_pending(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await pending_legal_user(client, sandbox)

    waiting = await simulate_validation(client, sandbox, legal.id, "WAITING_FOR_INFORMATION")

    assert success(waiting, "SimulateSuccess")["object"]["validationStatus"] == (
        "WAITING_FOR_INFORMATION"
    )
    user = await read_user(client, sandbox, legal.id)
    assert statuses(user) == ["VALIDATION_ASKED"] * 3  # still under review
    assert needed(user) == []
    await submit_document(
        client, sandbox, user_id=legal.id, document_type="ARTICLES_OF_ASSOCIATION"
    )

    again = await request_validation(client, sandbox, legal.id)

    assert success(again, "RequestValidationSuccess")["user"]["validationStatus"] == "PENDING"
    assert statuses(await read_user(client, sandbox, legal.id)) == ["VALIDATION_ASKED"] * 4
    assert summary(await events(client, sandbox, ["USER_WAITING_FOR_INFORMATION"])) == [
        ("USER_WAITING_FOR_INFORMATION", "PENDING", "WAITING_FOR_INFORMATION")
    ]


async def test_a_natural_user_goes_through_the_same_flow_with_one_document(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    rejected(
        await request_validation(client, sandbox, user_id), "InvalidStateRejection", "INVALID_STATE"
    )
    await submit_document(client, sandbox, user_id=user_id)

    success(await request_validation(client, sandbox, user_id), "RequestValidationSuccess")
    success(await simulate_validation(client, sandbox, user_id, "VALIDATED"), "SimulateSuccess")

    user = await read_user(client, sandbox, user_id)
    assert (user["validationStatus"], statuses(user)) == ("VALIDATED", ["VALIDATED"])


async def test_deciding_a_user_who_did_not_ask_is_an_invalid_state(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)

    for outcome in ("VALIDATED", "REFUSED", "WAITING_FOR_INFORMATION"):
        payload = await simulate_validation(client, sandbox, user_id, outcome)
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")

    assert (await read_user(client, sandbox, user_id))["validationStatus"] == "NOT_SUBMITTED"


async def test_a_validated_user_cannot_be_decided_or_submitted_again(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await pending_legal_user(client, sandbox)
    success(await simulate_validation(client, sandbox, legal.id, "VALIDATED"), "SimulateSuccess")

    refused = await simulate_validation(client, sandbox, legal.id, "REFUSED")
    asked = await request_validation(client, sandbox, legal.id)

    rejected(refused, "InvalidStateRejection", "INVALID_STATE")
    rejected(asked, "InvalidStateRejection", "INVALID_STATE")
    assert (await read_user(client, sandbox, legal.id))["validationStatus"] == "VALIDATED"
