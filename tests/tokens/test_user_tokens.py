"""User tokens from the outside: issued by a platform key, acting for one user, refused when
expired, tampered with, revoked, or when their user or issuing key is no longer valid."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.credentials import Principal
from gateway.services.user_tokens import issue_user_token
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.tables import ApiKey, User
from tests.conftest import PlatformHandle, make_platform
from tests.support import data, graphql
from tests.support.calls import mutate, rejected, success, top_level_error
from tests.support.decisions import operator_of
from tests.support.documents import ADD_BANK_ACCOUNT, CREATE_USER
from tests.support.inputs import (
    FR_IBAN,
    legal_person,
    natural_person,
    new_key,
    transfer_input,
    user_input,
)
from tests.support.lifecycle import block_user, unblock_user
from tests.support.payments import funded_account
from tests.support.server import LiveServer, serve
from tests.support.tokens import CREATE_TOKEN, as_user, refused, user_token
from tests.support.users import create_natural_user
from tests.support.websocket import events, init, socket, subscribe

REVOKE_TOKENS = """mutation ($input: RevokeUserTokensInput!) { revokeUserTokens(input: $input) {
  __typename ... on RevokeUserTokensSuccess { revokedBefore user { id } }
} }"""
TRANSFER = """mutation ($input: CreateTransferInput!) { createTransfer(input: $input) {
  __typename
  ... on CreateTransferSuccess { transfer { id debitedAccountId creditedAccountId } }
  ... on Rejection { code message }
} }"""
SCOPE = """{ viewer { id }
  platform { id
    users(first: 100) { totalCount edges { node { id } } }
    accounts(first: 100) { edges { node { id user { id } } } }
    transfers(first: 100) { edges { node { id } } }
    payIns(first: 100) { edges { node { id } } }
    events(first: 100) { edges { node { objectId } } }
    webhookEndpoints { id } } }"""


@pytest.fixture
async def sandbox(db: Database) -> PlatformHandle:
    return await make_platform(db)


async def test_under_a_token_viewer_is_its_user_and_under_a_key_null(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    payload = await mutate(client, sandbox, CREATE_TOKEN, {"userId": user_id})
    issued = success(payload, "CreateUserTokenSuccess")
    expires_at = dt.datetime.fromisoformat(issued["expiresAt"])
    lifetime = expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=14) < lifetime <= dt.timedelta(minutes=15)
    viewer = await data(
        client, "{ viewer { id } }", headers=as_user(sandbox, issued["token"]).headers
    )
    assert viewer == {"viewer": {"id": user_id}}
    assert await data(client, "{ viewer { id } }", headers=sandbox.headers) == {"viewer": None}


async def test_a_token_sees_only_its_users_subtree_through_the_platform(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await funded_account(client, sandbox, 5_000)
    theirs = await funded_account(client, sandbox, 7_000)
    await mutate(client, sandbox, TRANSFER, transfer_input(theirs.account_id, mine.account_id, 100))
    await mutate(client, sandbox, CREATE_USER, user_input({"legal": legal_person()}))
    token = await user_token(client, sandbox, mine.user_id)
    seen = (await data(client, SCOPE, headers=as_user(sandbox, token).headers))["platform"]
    assert seen["users"] == {"totalCount": 1, "edges": [{"node": {"id": mine.user_id}}]}
    assert [edge["node"]["user"]["id"] for edge in seen["accounts"]["edges"]] == [mine.user_id]
    assert len(seen["transfers"]["edges"]) == 1  # received from the other user: both see it
    assert len(seen["payIns"]["edges"]) == 1  # the funding of the token's own account
    assert theirs.user_id not in json.dumps(seen)
    assert theirs.account_id not in json.dumps(seen["accounts"])
    assert seen["webhookEndpoints"] == []
    objects = {edge["node"]["objectId"] for edge in seen["events"]["edges"]}
    everything = (await data(client, SCOPE, headers=sandbox.headers))["platform"]
    assert everything["users"]["totalCount"] == 3
    assert objects < {edge["node"]["objectId"] for edge in everything["events"]["edges"]}
    assert theirs.user_id not in objects
    assert theirs.account_id not in objects


async def test_node_lookups_of_another_users_objects_read_as_absent(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await funded_account(client, sandbox, 0)
    theirs = await funded_account(client, sandbox, 1_000)
    token = await user_token(client, sandbox, mine.user_id)
    document = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    ids = [theirs.user_id, theirs.account_id, mine.account_id, str(uuid.uuid4())]
    found = await data(client, document, {"ids": ids}, headers=as_user(sandbox, token).headers)
    assert found == {"nodes": [None, None, {"id": mine.account_id}, None]}


async def test_a_token_transfers_from_its_own_account_and_sees_the_other_side_by_id_only(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await funded_account(client, sandbox, 5_000)
    theirs = await funded_account(client, sandbox, 0)
    user = as_user(sandbox, await user_token(client, sandbox, mine.user_id))
    payload = await mutate(
        client, user, TRANSFER, transfer_input(mine.account_id, theirs.account_id, 1_200)
    )
    transfer = success(payload, "CreateTransferSuccess")["transfer"]
    assert transfer["creditedAccountId"] == theirs.account_id
    other_side = "query ($id: ID!) { node(id: $id) { ... on Transfer { creditedAccount { id } } } }"
    body = await graphql(client, other_side, {"id": transfer["id"]}, headers=user.headers)
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    balance = "query ($id: ID!) { node(id: $id) { ... on Account { balance { amount } } } }"
    credited = await data(client, balance, {"id": theirs.account_id}, headers=sandbox.headers)
    assert credited == {"node": {"balance": {"amount": 1_200}}}


async def test_a_token_cannot_debit_another_users_account(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await funded_account(client, sandbox, 0)
    theirs = await funded_account(client, sandbox, 5_000)
    user = as_user(sandbox, await user_token(client, sandbox, mine.user_id))
    stolen = transfer_input(theirs.account_id, mine.account_id, 5_000)
    refusal = rejected(
        await mutate(client, user, TRANSFER, stolen), "NotFoundRejection", "NOT_FOUND"
    )
    unknown_id = str(uuid.uuid4())
    unknown = await mutate(client, user, TRANSFER, {**stolen, "debitedAccountId": unknown_id})
    assert {**refusal, "message": refusal["message"].replace(theirs.account_id, "?")} == {
        **unknown,
        "message": unknown["message"].replace(unknown_id, "?"),
    }
    balance = "query ($id: ID!) { node(id: $id) { ... on Account { balance { amount } } } }"
    left = await data(client, balance, {"id": theirs.account_id}, headers=sandbox.headers)
    assert left == {"node": {"balance": {"amount": 5_000}}}


async def test_a_token_adds_bank_accounts_only_to_its_own_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await create_natural_user(client, sandbox)
    theirs = await create_natural_user(client, sandbox)
    user = as_user(sandbox, await user_token(client, sandbox, mine))
    details = {"ownerName": "Ada Lovelace", "iban": FR_IBAN, "idempotencyKey": new_key()}
    own = await mutate(client, user, ADD_BANK_ACCOUNT, {"userId": mine, **details})
    success(own, "AddBankAccountSuccess")
    foreign = {"userId": theirs, **details, "idempotencyKey": new_key()}
    rejected(
        await mutate(client, user, ADD_BANK_ACCOUNT, foreign), "NotFoundRejection", "NOT_FOUND"
    )
    listing = "query ($id: ID!) { node(id: $id) { ... on User { bankAccounts { id } } } }"
    found = await data(client, listing, {"id": theirs}, headers=sandbox.headers)
    assert found == {"node": {"bankAccounts": []}}


PLATFORM_ONLY: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "createUser": (CREATE_USER, lambda _user: user_input({"natural": natural_person()})),
    "createUserToken": (CREATE_TOKEN, lambda user: {"userId": user}),
    "revokeUserTokens": (REVOKE_TOKENS, lambda user: {"userId": user}),
    "createWebhookEndpoint": (
        """mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input)
        { __typename } }""",
        lambda _user: {"url": "https://example.com/hooks"},
    ),
    "simulateValidation": (
        """mutation ($input: SimulateValidationInput!) { simulateValidation(input: $input)
        { __typename } }""",
        lambda user: {"userId": user, "outcome": "VALIDATED"},
    ),
}


@pytest.mark.parametrize("name", sorted(PLATFORM_ONLY))
async def test_platform_only_mutations_are_forbidden_to_a_token(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, name: str
) -> None:
    mine = await create_natural_user(client, sandbox)
    user = as_user(sandbox, await user_token(client, sandbox, mine))
    document, make_input = PLATFORM_ONLY[name]
    async with db.session() as session:
        before = await session.scalar(sa.select(sa.func.count()).select_from(User))
    error = await top_level_error(client, user, document, make_input(mine))
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == [name]
    async with db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(User)) == before
    assert not await refused(client, user.key)  # revokeUserTokens did not run either


async def test_token_lifetimes_outside_the_bounds_are_validation_rejections(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    for seconds in (59, 86_401, -1):
        payload = await mutate(
            client, sandbox, CREATE_TOKEN, {"userId": user_id, "expiresInSeconds": seconds}
        )
        rejected(payload, "ValidationRejection", "VALIDATION_FAILED")
    unknown = await mutate(client, sandbox, CREATE_TOKEN, {"userId": str(uuid.uuid4())})
    rejected(unknown, "NotFoundRejection", "NOT_FOUND")


async def test_a_token_for_a_blocked_user_is_neither_issued_nor_accepted(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    officer = await operator_of(db, sandbox)
    user_id = await create_natural_user(client, sandbox)
    token = await user_token(client, sandbox, user_id)
    await block_user(client, officer, user_id)
    assert await refused(client, token)
    payload = await mutate(client, sandbox, CREATE_TOKEN, {"userId": user_id})
    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    await unblock_user(client, officer, user_id)
    # Blocking revoked the tokens issued before it: the user needs a new one.
    assert await refused(client, token)
    assert not await refused(client, await user_token(client, sandbox, user_id))


async def test_revoking_a_users_tokens_refuses_them_from_the_next_request(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    first = await user_token(client, sandbox, user_id)
    second = await user_token(client, sandbox, user_id)
    assert not await refused(client, first)
    payload = await mutate(client, sandbox, REVOKE_TOKENS, {"userId": user_id})
    success(payload, "RevokeUserTokensSuccess")
    assert await refused(client, first)
    assert await refused(client, second)
    assert not await refused(client, await user_token(client, sandbox, user_id))


async def test_revoking_the_issuing_key_refuses_its_tokens(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    token = await user_token(client, sandbox, user_id)
    async with db.transaction() as session:
        await session.execute(
            sa.update(ApiKey)
            .where(col(ApiKey.platform_id) == sandbox.id)
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    assert await refused(client, token)


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    key = await _key_principal(db, sandbox)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    expired = await issue_user_token(
        db, principal=key, user_id=user_id, expires_in_s=3600, now=long_ago
    )
    assert await refused(client, expired.token)
    current = await issue_user_token(db, principal=key, user_id=user_id, expires_in_s=3600)
    assert not await refused(client, current.token)


async def _key_principal(db: Database, platform: PlatformHandle) -> Principal:
    async with db.session() as session:
        key_id = await session.scalar(
            sa.select(col(ApiKey.id)).where(col(ApiKey.platform_id) == platform.id)
        )
    assert isinstance(key_id, uuid.UUID)
    return Principal(platform_id=platform.id, api_key_id=key_id)


def _with_claims(token: str, **changes: Any) -> str:
    """The token with its payload changed and its original signature kept (a forgery)."""
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=")
    return ".".join([header, forged.decode(), signature])


async def test_tampered_and_foreign_tokens_are_refused(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    mine = await create_natural_user(client, sandbox)
    theirs = await create_natural_user(client, sandbox)
    token = await user_token(client, sandbox, mine)
    other = await make_platform(db)
    stranger = await create_natural_user(client, other)
    foreign = await user_token(client, other, stranger)
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    unsigned = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), key=None, algorithm="none"
    )
    guessed = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}), key="secret" * 8, algorithm="HS256"
    )
    forgeries = {
        "signature flipped": f"{header}.{payload}.{flipped}",
        "another user": _with_claims(token, sub=theirs),
        "longer life": _with_claims(token, exp=2**40),
        "another platform's signature": _with_claims(foreign, pid=str(sandbox.id), sub=mine),
        "alg none": unsigned,
        "guessed secret": guessed,
        "garbage": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
        "too long": token + "A" * 2_000,
    }
    for name, forged in forgeries.items():
        assert await refused(client, forged), name
    assert not await refused(client, token)
    assert not await refused(client, foreign)


@pytest.fixture
async def live(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    async for server in serve(settings.model_copy(update={"events_poll_interval_s": 0.2}), db):
        yield server


async def test_a_tokens_subscription_carries_only_its_users_events(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    async with httpx.AsyncClient(base_url=live.http) as http:
        mine = await funded_account(http, platform, 10_000)
        theirs = await funded_account(http, platform, 10_000)
        bystander = await funded_account(http, platform, 0)
        token = await user_token(http, platform, mine.user_id)
        listing = await data(
            http,
            "{ platform { events(first: 100) { edges { cursor } } } }",
            headers=platform.headers,
        )
        now = listing["platform"]["events"]["edges"][-1]["cursor"]
        transfers = []
        for debited, credited in [
            (theirs, bystander),  # between two other users: invisible
            (theirs, mine),  # received: visible
            (mine, bystander),  # sent: visible
        ]:
            input = transfer_input(debited.account_id, credited.account_id, 100)
            payload = await mutate(http, platform, TRANSFER, input)
            transfers.append(success(payload, "CreateTransferSuccess")["transfer"]["id"])
        async with socket(live) as ws:
            await init(ws, as_user(platform, token))
            await subscribe(ws, "1", after=now, types=["TRANSFER_SUCCESSFUL"])
            received = await events(ws, 2)
            bystander_token = await user_token(http, platform, bystander.user_id)
            late = transfer_input(mine.account_id, bystander.account_id, 1)
            sent_late = await mutate(http, as_user(platform, bystander_token), TRANSFER, late)
            assert sent_late["__typename"] == "NotFoundRejection"  # not the bystander's account
            payload = await mutate(http, platform, TRANSFER, late)
            transfers.append(success(payload, "CreateTransferSuccess")["transfer"]["id"])
            received += await events(ws, 1)
    assert [event["objectId"] for event in received] == transfers[1:]
