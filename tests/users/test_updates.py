"""updateUser and updatePerson (gateway/services/profiles.py): only the given fields change,
with the checks of creation, unique e-mails and logins, and what each validation state allows
(identity data frozen under review; a VALIDATED user whose identity changes goes back to
review and its old identity proof stops counting)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.store.engine import Database
from tests.support.accounts import add_bank_account
from tests.support.calls import field_paths, mutate, rejected, state, success, top_level_error
from tests.support.documents import CREATE_PAY_OUT, UPDATE_PERSON, UPDATE_USER
from tests.support.events import events
from tests.support.inputs import address, new_key, pay_out_input, unique
from tests.support.kyc import request_validation, simulate_validation, submit_document
from tests.support.payments import funded_account
from tests.support.platforms import PlatformHandle, key_with_role
from tests.support.tokens import as_user, user_token
from tests.support.users import add_person, create_legal_user, create_natural_user, read_user


async def _holder(client: httpx.AsyncClient, platform: PlatformHandle, user_id: str) -> str:
    holder_id: str = (await read_user(client, platform, user_id))["holder"]["id"]
    return holder_id


async def _update_person(
    client: httpx.AsyncClient, platform: PlatformHandle, person_id: str, **fields: Any
) -> dict[str, Any]:
    return await mutate(client, platform, UPDATE_PERSON, {"personId": person_id, **fields})


def _changes(found: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return [(event["type"], event["changedFields"]) for event in found]


async def test_update_user_changes_only_the_given_fields_and_says_which(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    login = (await read_user(client, sandbox, user_id))["login"]
    email = f"{unique('renamed')}@Example.COM"

    updated = await mutate(client, sandbox, UPDATE_USER, {"userId": user_id, "email": email})

    user = success(updated, "UpdateUserSuccess")["user"]
    assert (user["email"], user["login"]) == (email.replace("Example.COM", "example.com"), login)
    assert _changes(await events(client, sandbox, ["USER_UPDATED"])) == [
        ("USER_UPDATED", ["email"])
    ]


async def test_an_email_or_login_of_another_user_is_a_duplicate_and_changes_nothing(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    first = await read_user(client, sandbox, await create_natural_user(client, sandbox))
    second_id = await create_natural_user(client, sandbox)
    before = await state(client, sandbox, second_id)
    for field, value in (("email", first["email"].upper()), ("login", first["login"])):
        payload = await mutate(client, sandbox, UPDATE_USER, {"userId": second_id, field: value})
        assert rejected(payload, "DuplicateRejection", "DUPLICATE")["field"] == field
    assert await state(client, sandbox, second_id) == before


async def test_two_users_taking_the_same_email_at_once_end_with_one_duplicate(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ids = [await create_natural_user(client, sandbox) for _ in range(2)]
    email = f"{unique('race')}@example.com"
    answers = await asyncio.gather(
        *(mutate(client, sandbox, UPDATE_USER, {"userId": i, "email": email}) for i in ids)
    )
    assert sorted(a["__typename"] for a in answers) == ["DuplicateRejection", "UpdateUserSuccess"]


async def test_bad_or_missing_values_are_validation_rejections(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    bad = {"userId": user_id, "email": "not-an-email", "login": "x"}
    assert field_paths(await mutate(client, sandbox, UPDATE_USER, bad)) == ["email", "login"]
    assert field_paths(await mutate(client, sandbox, UPDATE_USER, {"userId": user_id})) == ["input"]
    holder = await _holder(client, sandbox, user_id)
    person = await _update_person(
        client, sandbox, holder, birthDate="2999-01-01", legalName="Acme", roles=["DIRECTOR"]
    )
    assert field_paths(person) == ["legalName", "roles"]
    future = await _update_person(client, sandbox, holder, birthDate="2999-01-01", firstName=" ")
    assert field_paths(future) == ["firstName", "birthDate"]


async def test_an_idempotency_key_replays_the_update_and_refuses_another_input(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    key, login = new_key(), unique("login")
    input = {"userId": user_id, "login": login, "idempotencyKey": key}
    first = success(await mutate(client, sandbox, UPDATE_USER, input), "UpdateUserSuccess")
    again = success(await mutate(client, sandbox, UPDATE_USER, input), "UpdateUserSuccess")
    assert first["user"]["login"] == again["user"]["login"] == login
    other = await mutate(client, sandbox, UPDATE_USER, {**input, "login": unique("other")})
    rejected(other, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")
    assert len(await events(client, sandbox, ["USER_UPDATED"])) == 1


async def test_identity_data_changes_freely_before_review_and_not_under_review(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    holder = await _holder(client, sandbox, user_id)
    renamed = await _update_person(client, sandbox, holder, firstName="Augusta")
    assert success(renamed, "UpdatePersonSuccess")["person"]["firstName"] == "Augusta"
    success(await submit_document(client, sandbox, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, sandbox, user_id), "RequestValidationSuccess")
    before = await state(client, sandbox, user_id, holder)

    refused = await _update_person(client, sandbox, holder, lastName="King", nationality="GB")

    message = rejected(refused, "InvalidStateRejection", "INVALID_STATE")["message"]
    assert all(word in message for word in ("PENDING", "lastName", "nationality")), message
    assert await state(client, sandbox, user_id, holder) == before
    moved = await _update_person(client, sandbox, holder, address=address(city="Lyon"))
    assert success(moved, "UpdatePersonSuccess")["person"]["address"]["city"] == "Lyon"
    login = unique("pending")
    success(
        await mutate(client, sandbox, UPDATE_USER, {"userId": user_id, "login": login}),
        "UpdateUserSuccess",
    )
    assert (await read_user(client, sandbox, user_id))["validationStatus"] == "PENDING"


async def test_an_identity_change_sends_a_validated_user_back_to_review(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 500, validated=True)
    holder = await _holder(client, sandbox, funded.user_id)
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)

    success(await _update_person(client, sandbox, holder, lastName="King"), "UpdatePersonSuccess")

    user = await read_user(client, sandbox, funded.user_id)
    assert user["validationStatus"] == "WAITING_FOR_INFORMATION"
    assert [(r["code"], r["documentType"]) for r in user["requirements"]] == [
        ("DOCUMENT_OUT_OF_DATE", "IDENTITY_PROOF")
    ]
    found = await events(
        client,
        sandbox,
        ["PERSON_UPDATED", "DOCUMENT_OUT_OF_DATE", "USER_WAITING_FOR_INFORMATION"],
    )
    assert [(e["type"], e["previousStatus"], e["status"], e["changedFields"]) for e in found] == [
        ("DOCUMENT_OUT_OF_DATE", "VALIDATED", "OUT_OF_DATE", None),
        ("USER_WAITING_FOR_INFORMATION", "VALIDATED", "WAITING_FOR_INFORMATION", None),
        ("PERSON_UPDATED", None, None, ["lastName"]),
    ]
    pay_out = await mutate(
        client, sandbox, CREATE_PAY_OUT, pay_out_input(funded.account_id, bank_account_id, 10)
    )
    assert "VALIDATED" in rejected(pay_out, "InvalidStateRejection", "INVALID_STATE")["message"]
    success(await submit_document(client, sandbox, user_id=funded.user_id), "SubmitDocumentSuccess")
    assert (await read_user(client, sandbox, funded.user_id))["requirements"] == []
    success(await request_validation(client, sandbox, funded.user_id), "RequestValidationSuccess")
    validated = await simulate_validation(client, sandbox, funded.user_id, "VALIDATED")
    assert success(validated, "SimulateSuccess")


async def test_an_address_change_keeps_a_validated_user_validated(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 0, validated=True)
    holder = await _holder(client, sandbox, funded.user_id)
    moved = await _update_person(client, sandbox, holder, address=address(line1="1 quai Voltaire"))
    success(moved, "UpdatePersonSuccess")
    user = await read_user(client, sandbox, funded.user_id)
    assert (user["validationStatus"], user["requirements"]) == ("VALIDATED", [])
    assert user["holder"]["address"]["line1"] == "1 quai Voltaire"


async def test_the_persons_of_a_legal_user_change_roles_and_shares_within_100_percent(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    owner = await add_person(client, sandbox, legal.id, ["SHAREHOLDER"], ownershipPercentage=60.0)
    roles = ["LEGAL_REPRESENTATIVE", "BENEFICIAL_OWNER"]
    changed = await _update_person(
        client, sandbox, legal.representative_id, roles=roles, ownershipPercentage=40.0
    )
    person = success(changed, "UpdatePersonSuccess")["person"]
    assert (sorted(person["roles"]), person["ownershipPercentage"]) == (sorted(roles), 40.0)
    too_much = await _update_person(client, sandbox, owner["id"], ownershipPercentage=61.0)
    assert field_paths(too_much) == ["ownershipPercentage"]
    entity = await _update_person(client, sandbox, legal.holder_id, ownershipPercentage=10.0)
    assert field_paths(entity) == ["ownershipPercentage"]
    renamed = await _update_person(client, sandbox, legal.holder_id, legalName="Acme Group SAS")
    assert success(renamed, "UpdatePersonSuccess")["person"]["legalName"] == "Acme Group SAS"


async def test_a_user_token_updates_its_own_user_and_no_other(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await create_natural_user(client, sandbox)
    other = await create_natural_user(client, sandbox)
    me = as_user(sandbox, await user_token(client, sandbox, mine))
    login = unique("self")
    own = await mutate(client, me, UPDATE_USER, {"userId": mine, "login": login})
    assert success(own, "UpdateUserSuccess")["user"]["login"] == login
    before = await state(client, sandbox, other)
    refused = await mutate(client, me, UPDATE_USER, {"userId": other, "login": unique("x")})
    rejected(refused, "NotFoundRejection", "NOT_FOUND")
    person = await _update_person(client, me, await _holder(client, sandbox, other), firstName="X")
    rejected(person, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, other) == before


async def test_readonly_and_operator_keys_may_not_update(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    for role in (ApiKeyRole.READONLY, ApiKeyRole.OPERATOR):
        key = await key_with_role(db, sandbox, role)
        error = await top_level_error(client, key, UPDATE_USER, {"userId": user_id, "login": "y12"})
        assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_new_share_retires_the_ubo_declaration_of_a_validated_legal_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    for document_type in ("REGISTRATION_PROOF", "UBO_DECLARATION"):
        entity = await submit_document(
            client, sandbox, user_id=legal.id, document_type=document_type
        )
        success(entity, "SubmitDocumentSuccess")
    proof = await submit_document(
        client, sandbox, user_id=legal.id, person_id=legal.representative_id
    )
    success(proof, "SubmitDocumentSuccess")
    success(await request_validation(client, sandbox, legal.id), "RequestValidationSuccess")
    success(await simulate_validation(client, sandbox, legal.id, "VALIDATED"), "SimulateSuccess")

    shared = await _update_person(
        client, sandbox, legal.representative_id, ownershipPercentage=30.0
    )

    success(shared, "UpdatePersonSuccess")
    user = await read_user(client, sandbox, legal.id)
    assert user["validationStatus"] == "WAITING_FOR_INFORMATION"
    assert [(r["code"], r["documentType"]) for r in user["requirements"]] == [
        ("DOCUMENT_OUT_OF_DATE", "UBO_DECLARATION")
    ]
    statuses = {d["type"]: d["status"] for d in user["documents"]}
    assert statuses == {
        "REGISTRATION_PROOF": "VALIDATED",
        "UBO_DECLARATION": "OUT_OF_DATE",
        "IDENTITY_PROOF": "VALIDATED",
    }
