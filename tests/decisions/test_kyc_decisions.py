"""Compliance decisions: an operator validates, refuses or asks more of a PENDING user, and
decides single documents under review, on PRODUCTION and SANDBOX platforms alike."""

from __future__ import annotations

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.store.engine import Database
from tests.decisions import decision_events
from tests.support.accounts import open_account, read_account
from tests.support.calls import field_paths, rejected, state, success, top_level_error
from tests.support.decisions import decide_document, decide_user, operator_of
from tests.support.documents import DECIDE_DOCUMENT, DECIDE_USER_VALIDATION
from tests.support.inputs import new_key
from tests.support.kyc import request_validation, submit_document
from tests.support.platforms import PlatformHandle, key_with_role
from tests.support.users import create_natural_user, read_user


async def _pending_user(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> tuple[str, str, str]:
    """A PENDING user with a CREATED account and an identity proof under review."""
    user_id = await create_natural_user(client, platform)
    account_id = await open_account(client, platform, user_id)
    submitted = await submit_document(client, platform, user_id=user_id)
    document_id = success(submitted, "SubmitDocumentSuccess")["document"]["id"]
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    return user_id, account_id, document_id


async def test_an_operator_validates_a_pending_user_with_todays_effects(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    operator = await operator_of(db, any_platform)
    user_id, account_id, document_id = await _pending_user(client, any_platform)

    payload = await decide_user(client, operator, user_id, "VALIDATED")

    user = success(payload, "DecideUserValidationSuccess")["user"]
    assert (user["validationStatus"], user["validationReasons"]) == ("VALIDATED", [])
    assert user["qualifiedAt"] is not None
    assert (await read_account(client, any_platform, account_id))["status"] == "VALIDATED"
    found = await decision_events(
        client, any_platform, "USER_VALIDATED", "DOCUMENT_VALIDATED", "ACCOUNT_VALIDATED"
    )
    assert sorted((e["type"], e["objectId"]) for e in found) == sorted(
        [
            ("USER_VALIDATED", user_id),
            ("DOCUMENT_VALIDATED", document_id),
            ("ACCOUNT_VALIDATED", account_id),
        ]
    )


async def test_refusing_a_user_needs_a_reason_and_keeps_reasons_and_message(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    operator = await operator_of(db, any_platform)
    user_id, _, document_id = await _pending_user(client, any_platform)
    before = await state(client, any_platform, user_id, document_id)

    needless = await decide_user(client, operator, user_id, "VALIDATED", ["OTHER"])
    assert field_paths(needless) == ["reasons"]
    for outcome in ("REFUSED", "WAITING_FOR_INFORMATION"):
        payload = await decide_user(client, operator, user_id, outcome)
        assert (
            rejected(payload, "ValidationRejection", "VALIDATION_FAILED")["fields"][0]["field"]
            == "reasons"
        )
    assert await state(client, any_platform, user_id, document_id) == before

    reasons = ["DOCUMENT_UNREADABLE", "UNDERAGE_PERSON"]
    payload = await decide_user(
        client, operator, user_id, "REFUSED", reasons, message="Scan again, please."
    )

    user = success(payload, "DecideUserValidationSuccess")["user"]
    assert user["validationStatus"] == "REFUSED"
    assert (user["validationReasons"], user["validationMessage"]) == (
        reasons,
        "Scan again, please.",
    )
    assert [r["documentType"] for r in user["requirements"]] == ["IDENTITY_PROOF"]
    [event] = await decision_events(client, any_platform, "USER_REFUSED")
    assert (event["reasons"], event["message"]) == (reasons, "Scan again, please.")
    [refused] = await decision_events(client, any_platform, "DOCUMENT_REFUSED")
    assert (refused["objectId"], refused["reasons"]) == (document_id, ["DOCUMENT_UNREADABLE"])


async def test_a_decision_that_does_not_apply_names_the_users_state(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    operator = await operator_of(db, any_platform)
    user_id, _, _ = await _pending_user(client, any_platform)
    fresh = await create_natural_user(client, any_platform)
    success(
        await decide_user(client, operator, user_id, "VALIDATED"), "DecideUserValidationSuccess"
    )

    again = await decide_user(client, operator, user_id, "REFUSED", ["SPECIFIC_CASE"])
    early = await decide_user(client, operator, fresh, "VALIDATED")

    assert rejected(again, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "VALIDATED"
    assert "VALIDATED" in again["message"]
    assert rejected(early, "InvalidStateRejection", "INVALID_STATE")["currentState"] == (
        "NOT_SUBMITTED"
    )
    assert (await read_user(client, any_platform, fresh))["validationStatus"] == "NOT_SUBMITTED"


async def test_an_operator_decides_single_documents_under_review(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    operator = await operator_of(db, any_platform)
    user_id, _, document_id = await _pending_user(client, any_platform)
    newcomer = await create_natural_user(client, any_platform)  # not under review yet
    created = await submit_document(client, any_platform, user_id=newcomer)
    created_id = success(created, "SubmitDocumentSuccess")["document"]["id"]

    unexplained = await decide_document(client, operator, document_id, "REFUSED")
    not_yet = await decide_document(client, operator, created_id, "VALIDATED")
    refused = await decide_document(
        client, operator, document_id, "REFUSED", "DOCUMENT_EXPIRED", message="Expired in May."
    )
    twice = await decide_document(client, operator, document_id, "VALIDATED")

    assert (
        rejected(unexplained, "ValidationRejection", "VALIDATION_FAILED")["fields"][0]["field"]
        == "reason"
    )
    assert rejected(not_yet, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "CREATED"
    document = success(refused, "DecideDocumentSuccess")["document"]
    assert (document["status"], document["refusalReason"], document["refusalMessage"]) == (
        "REFUSED",
        "DOCUMENT_EXPIRED",
        "Expired in May.",
    )
    assert document["refusedReason"] == "Expired in May."
    assert rejected(twice, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "REFUSED"
    [event] = await decision_events(client, any_platform, "DOCUMENT_REFUSED")
    assert (event["objectId"], event["previousStatus"], event["reasons"]) == (
        document_id,
        "VALIDATION_ASKED",
        ["DOCUMENT_EXPIRED"],
    )

    # Refused, the identity proof no longer counts once the user is asked for information.
    asked = await decide_user(
        client, operator, user_id, "WAITING_FOR_INFORMATION", ["DOCUMENT_EXPIRED"]
    )
    user = success(asked, "DecideUserValidationSuccess")["user"]
    assert [r["documentType"] for r in user["requirements"]] == ["IDENTITY_PROOF"]


async def test_a_retried_decision_replays_and_another_with_its_key_conflicts(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    operator = await operator_of(db, any_platform)
    user_id, _, _ = await _pending_user(client, any_platform)
    other_id, _, _ = await _pending_user(client, any_platform)
    key, late_key = new_key(), new_key()
    first = await decide_user(client, operator, user_id, "VALIDATED", idempotencyKey=key)
    events_before = await decision_events(client, any_platform, "USER_VALIDATED")

    replay = await decide_user(client, operator, user_id, "VALIDATED", idempotencyKey=key)
    conflict = await decide_user(client, operator, other_id, "VALIDATED", idempotencyKey=key)
    late = await decide_user(client, operator, user_id, "VALIDATED", idempotencyKey=late_key)
    late_again = await decide_user(client, operator, user_id, "VALIDATED", idempotencyKey=late_key)

    assert success(first, "DecideUserValidationSuccess")["idempotentReplay"] is False
    assert success(replay, "DecideUserValidationSuccess")["idempotentReplay"] is True
    assert replay["user"]["id"] == user_id
    rejected(conflict, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")
    assert (await read_user(client, any_platform, other_id))["validationStatus"] == "PENDING"
    assert await decision_events(client, any_platform, "USER_VALIDATED") == events_before
    # A decision already taken is InvalidState; its replay names the same state.
    assert rejected(late, "InvalidStateRejection", "INVALID_STATE")["currentState"] == "VALIDATED"
    assert late_again == late


async def test_only_operator_keys_decide(
    client: httpx.AsyncClient, db: Database, any_platform: PlatformHandle
) -> None:
    user_id, _, document_id = await _pending_user(client, any_platform)
    readonly = await key_with_role(db, any_platform, ApiKeyRole.READONLY)
    before = await state(client, any_platform, user_id, document_id)

    for handle in (any_platform, readonly):
        user_input = {"userId": user_id, "outcome": "VALIDATED"}
        document_input = {"documentId": document_id, "outcome": "VALIDATED"}
        for document, input in (
            (DECIDE_USER_VALIDATION, user_input),
            (DECIDE_DOCUMENT, document_input),
        ):
            error = await top_level_error(client, handle, document, input)
            assert error["extensions"]["code"] == "FORBIDDEN", error

    assert await state(client, any_platform, user_id, document_id) == before
