"""Who did what: every event, ledger entry and idempotency record names its actor, and
`Platform.events(objectId:)` with `actor` answers "who refused this user, with which key,
when" in one query. A user token sees only what kind of actor it was, never which key."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.credentials import key_prefix
from gateway.domain.enums import ActorKind, ApiKeyRole
from gateway.services.api_keys import list_api_keys
from gateway.services.sandbox import settle_due
from gateway.store.engine import Database
from gateway.store.journal_tables import IdempotencyRecord
from gateway.store.ledger_tables import LedgerEntry
from tests.conftest import PlatformHandle, make_platform
from tests.security.parties import user_token
from tests.support.accounts import open_account
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_TRANSFER
from tests.support.inputs import transfer_input
from tests.support.kyc import request_validation, simulate_validation, submit_document
from tests.support.payments import create_wire, fund
from tests.support.platforms import key_with_role
from tests.support.users import create_natural_user

WHO_DID_WHAT = """query Who($objectId: ID!, $types: [EventType!]) {
  platform { events(first: 50, objectId: $objectId, types: $types) { nodes {
    type objectId occurredAt
    actor { kind role apiKeyId userId apiKey { id prefix label role } }
  } } } }"""


async def _key_id(db: Database, platform: PlatformHandle) -> str:
    prefix = key_prefix(platform.key)
    [key] = [k for k in await list_api_keys(db, platform_id=platform.id) if k.prefix == prefix]
    return str(key.id)


async def _legs(db: Database, operation_id: str) -> list[LedgerEntry]:
    async with db.session() as session:
        statement = sa.select(LedgerEntry).where(
            col(LedgerEntry.operation_id) == uuid.UUID(operation_id)
        )
        return list((await session.scalars(statement)).all())


async def _events(
    client: httpx.AsyncClient, handle: PlatformHandle, object_id: str, *types: str
) -> list[dict[str, Any]]:
    variables = {"objectId": object_id, "types": list(types) or None}
    found: list[dict[str, Any]] = (await query(client, handle, WHO_DID_WHAT, variables))[
        "platform"
    ]["events"]["nodes"]
    return found


async def test_who_refused_this_user_with_which_key_and_when_takes_one_query(
    client: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    operator = await key_with_role(db, platform, ApiKeyRole.OPERATOR)
    user_id = await create_natural_user(client, platform)
    success(await submit_document(client, platform, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    refused = await simulate_validation(client, operator, user_id, "REFUSED", "blurred")
    success(refused, "SimulateSuccess")

    [event] = await _events(client, platform, user_id, "USER_REFUSED")
    assert event["objectId"] == user_id
    assert event["occurredAt"]
    operator_key_id = await _key_id(db, operator)
    assert event["actor"] == {
        "kind": "API_KEY",
        "role": "OPERATOR",
        "apiKeyId": operator_key_id,
        "userId": None,
        "apiKey": {
            "id": operator_key_id,
            "prefix": key_prefix(operator.key),
            "label": "OPERATOR",
            "role": "OPERATOR",
        },
    }
    # The rest of the user's history names the backend key that made it.
    history = await _events(client, platform, user_id)
    assert [e["type"] for e in history] == [
        "USER_CREATED",
        "USER_VALIDATION_REQUESTED",
        "USER_REFUSED",
    ]
    backend_key_id = await _key_id(db, platform)
    assert [e["actor"]["role"] for e in history] == ["BACKEND", "BACKEND", "OPERATOR"]
    assert history[0]["actor"]["apiKeyId"] == backend_key_id
    # Another object's id, or an id that names nothing, finds no event of this user.
    assert await _events(client, platform, str(uuid.uuid4())) == []
    bad = await client.post(
        "/graphql",
        json={"query": WHO_DID_WHAT, "variables": {"objectId": "nope"}},
        headers=platform.headers,
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_user_tokens_changes_name_the_user_and_the_key_that_issued_the_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    user_id = await create_natural_user(client, platform)
    payer = await open_account(client, platform, user_id)
    payee = await open_account(client, platform, user_id)
    await fund(client, platform, payer, 1_000)
    token = await user_token(client, platform, user_id)
    input = transfer_input(payer, payee, 250)
    transfer = success(await mutate(client, token, CREATE_TRANSFER, input), "CreateTransferSuccess")
    transfer_id = transfer["transfer"]["id"]
    backend_key_id = await _key_id(db, platform)

    [seen_by_key] = await _events(client, platform, transfer_id)
    assert seen_by_key["actor"] == {
        "kind": "USER",
        "role": None,
        "apiKeyId": backend_key_id,
        "userId": user_id,
        "apiKey": {
            "id": backend_key_id,
            "prefix": key_prefix(platform.key),
            "label": "created with the platform",
            "role": "BACKEND",
        },
    }
    # The user sees its own event, and only that an actor of some kind made it.
    [seen_by_user] = await _events(client, token, transfer_id)
    assert seen_by_user["actor"] == {
        "kind": "USER",
        "role": None,
        "apiKeyId": None,
        "userId": None,
        "apiKey": None,
    }
    legs = await _legs(db, transfer_id)
    async with db.session() as session:
        record = await session.scalar(
            sa.select(IdempotencyRecord).where(
                col(IdempotencyRecord.platform_id) == platform.id,
                col(IdempotencyRecord.key) == input["idempotencyKey"],
            )
        )
    assert len(legs) == 2
    assert record is not None
    for row in (*legs, record):
        assert row.actor_kind is ActorKind.USER
        assert (str(row.actor_user_id), str(row.actor_key_id)) == (user_id, backend_key_id)
        assert row.actor_role is None


async def test_the_settler_and_the_system_are_actors_too(
    client: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db, natural_users=1, accounts_per_user=1)
    users = await query(client, platform, "{ platform { users(first: 1) { nodes { id } } } }")
    seeded_user = users["platform"]["users"]["nodes"][0]["id"]
    [created] = await _events(client, platform, seeded_user, "USER_CREATED")
    assert created["actor"]["kind"] == "SYSTEM"  # seeded by the command line's demo data
    assert created["actor"]["apiKeyId"] is None

    user_id = await create_natural_user(client, platform)
    account_id = await open_account(client, platform, user_id)
    pay_in_id = await create_wire(client, platform, account_id, 700)
    assert await settle_due(db, delay_s=0) >= 1
    settled = await _events(client, platform, pay_in_id, "PAY_IN_PENDING", "PAY_IN_SUCCESSFUL")
    assert [e["actor"]["kind"] for e in settled] == ["SETTLER", "SETTLER"]
    legs = await _legs(db, pay_in_id)
    assert {row.actor_kind for row in legs} == {ActorKind.SETTLER}
