"""The differential suite's world: two platforms filled through the services and the API, with
every kind of object, nulls where fields are nullable, and lists long enough to page.

The main platform holds demo users (natural and legal, with representatives and beneficial
owners; some validated, others never qualified), a validated LEGAL user with an object of every
kind (`victim`, whose token is one of the credentials) and a validated NATURAL one
(`neighbour`), users with no, one and four accounts, an account with enough ledger entries for
several pages, a transfer from the token's user to another user's account (whose
`creditedAccount` that token may not read), pay-ins left CREATED (a wire, a direct debit),
webhook endpoints with deliveries that succeeded, failed and wait for a retry. The other
platform has users and objects of its own, so that its ids stand for another tenant's.

Ids, counts and cursors are read back through the API with the main platform's BACKEND key,
by type name, for the documents' variables and the generators' scalars.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import ApiKeyRole
from gateway.services.deliveries import Claimed, record
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.webhook_requests import AttemptResult
from gateway.store import deliveries as delivery_store
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookDelivery
from gateway.store.engine import Database
from tests.compiled.harness import Credential
from tests.security.parties import add_webhook_endpoint, build_party, user_token
from tests.support.accounts import open_account
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_PAY_IN, CREATE_TRANSFER, document
from tests.support.inputs import money, new_key, transfer_input
from tests.support.payments import create_wire
from tests.support.platforms import PlatformHandle, key_with_role, make_platform
from tests.support.users import create_natural_user

BUSY_TRANSFERS = 12  # back and forth between two accounts: entries for several small pages
CREATE_ENDPOINT = document("CreateWebhookEndpoint")

# Every object a platform's key reads, with its type name, for the ids by type.
COLLECT = """query Collect {
  platform { __typename id
    users(first: 100) { nodes { __typename id
      persons { __typename id } bankAccounts { __typename id } documents { __typename id }
      accounts(first: 100) { nodes { __typename id
        entries(first: 100) { nodes { __typename id } } } } } }
    transfers(first: 100) { nodes { __typename id reversals { __typename id } } }
    payIns(first: 100) { nodes { __typename id refunds { __typename id }
      mandate { __typename id } } }
    payOuts(first: 100) { nodes { __typename id } }
    events(first: 100) { nodes { __typename id } }
    webhookEndpoints { __typename id deliveries(first: 100) { nodes { __typename id } } }
  }
}"""

# The connections' sizes and cursors (a page of at most 100 holds each of them whole).
CURSORS = """query Cursors($busy: ID!) {
  platform {
    users(first: 100) { totalCount edges { cursor } }
    accounts(first: 100) { totalCount edges { cursor } }
    transfers(first: 100) { totalCount edges { cursor } }
    payIns(first: 100) { totalCount edges { cursor } }
    payOuts(first: 100) { totalCount edges { cursor } }
    events(first: 100) { totalCount edges { cursor } }
  }
  node(id: $busy) { ... on Account { entries(first: 100) { totalCount edges { cursor } } } }
}"""


@dataclass
class World:
    """What the documents ask about: credentials, ids by type, sizes and cursors."""

    store: str
    credentials: Mapping[str, Credential]  # BACKEND, READONLY, USER_TOKEN (of `victim`)
    ids: Mapping[str, list[str]]  # the main platform's, by type name
    other_ids: list[str]  # the other platform's, of every type
    victim: Mapping[str, str]  # the token's user's objects, by role
    neighbour: Mapping[str, str]
    busy_account: str
    foreign_credit: str  # a transfer from the victim to the neighbour
    counts: Mapping[str, int] = field(default_factory=dict)  # totalCount by connection
    cursors: Mapping[str, list[str]] = field(default_factory=dict)  # by connection
    endpoints: list[str] = field(default_factory=list)

    @property
    def all_ids(self) -> list[str]:
        return sorted({i for ids in self.ids.values() for i in ids})


def by_type(body: Any) -> dict[str, list[str]]:
    """Every `{__typename, id}` object in a decoded answer, as ids by type name, in order."""
    found: dict[str, list[str]] = defaultdict(list)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            typename, object_id = value.get("__typename"), value.get("id")
            if isinstance(typename, str) and isinstance(object_id, str):
                ids = found[typename]
                ids += [] if object_id in ids else [object_id]
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return dict(found)


async def _transfer(client: httpx.AsyncClient, key: PlatformHandle, debit: str, credit: str) -> str:
    payload = await mutate(client, key, CREATE_TRANSFER, transfer_input(debit, credit, 10))
    transfer_id: str = success(payload, "CreateTransferSuccess")["transfer"]["id"]
    return transfer_id


async def _pending_pay_ins(
    client: httpx.AsyncClient, key: PlatformHandle, victim: Mapping[str, str]
) -> None:
    """A wire announced but not arrived, and a direct debit not settled: CREATED, with their
    received amount, value date and bank reference still null."""
    await create_wire(client, key, victim["second_account"], 2_500)
    direct_debit = {
        "creditedAccountId": victim["account"],
        "amount": money(700),
        "method": "DIRECT_DEBIT",
        "mandateId": victim["mandate"],
        "idempotencyKey": new_key(),
    }
    success(await mutate(client, key, CREATE_PAY_IN, direct_debit), "CreatePayInSuccess")


async def _endpoints(client: httpx.AsyncClient, key: PlatformHandle) -> list[str]:
    """Two endpoints, made last so that no later event is ever owed to them: one for every
    type (no description), one for transfers only."""
    every = await add_webhook_endpoint(client, key)
    input = {"url": "https://hooks.example.com/transfers", "eventTypes": ["TRANSFER_SUCCESSFUL"]}
    payload = await mutate(client, key, CREATE_ENDPOINT, input)
    transfers = success(payload, "CreateWebhookEndpointSuccess")["endpoint"]["id"]
    return [every, transfers]


LATER = DeliveryPolicy(retry_schedule_s=(86_400.0,))  # one retry, a day away


async def _attempt(
    db: Database, delivery_ids: list[uuid.UUID], results: list[AttemptResult]
) -> None:
    """Claim the deliveries as the dispatcher does and record one attempt's result each."""
    claim = uuid.uuid4()
    async with db.transaction() as session:
        until = utcnow() + dt.timedelta(hours=1)
        await delivery_store.lease(session, delivery_ids=delivery_ids, claim_id=claim, until=until)
        rows = await delivery_store.claimed(session, delivery_ids=delivery_ids)
    items = {row[0]: Claimed(row[0], row[1], claim, row[2], row[3], row[4]) for row in rows}
    for delivery_id, result in zip(delivery_ids, results, strict=True):
        assert await record(db, items[delivery_id], result, policy=LATER)


async def _deliveries(db: Database, platform_id: uuid.UUID, endpoint_id: str) -> None:
    """Deliveries of the platform's first events to the endpoint, attempted by hand (no
    request leaves): one SUCCEEDED, one FAILED after its two attempts, one PENDING with its
    retry a day away (so that no dispatcher of another test finds one due)."""
    endpoint = uuid.UUID(endpoint_id)
    async with db.transaction() as session:
        event_ids = await delivery_store.events_to_enqueue(
            session, platform_id=platform_id, after=0, through=2**62, types=None
        )
        await delivery_store.add_pending(
            session,
            platform_id=platform_id,
            endpoint_id=endpoint,
            event_ids=event_ids[:3],
            now=utcnow(),
        )
        succeeded, failed, waiting = await _pending(session, endpoint)
    at = utcnow()
    await _attempt(
        db,
        [succeeded, failed, waiting],
        [
            AttemptResult(at, 12, status_code=204),
            AttemptResult(at, 5, error="connection refused"),
            AttemptResult(at, 30, status_code=503),
        ],
    )
    await _attempt(db, [failed], [AttemptResult(at, 7, status_code=500)])


async def _pending(session: AsyncSession, endpoint: uuid.UUID) -> list[uuid.UUID]:
    statement = sa.select(col(WebhookDelivery.id)).where(
        col(WebhookDelivery.endpoint_id) == endpoint
    )
    return list((await session.scalars(statement.order_by(col(WebhookDelivery.id)))).all())


async def _read_back(
    client: httpx.AsyncClient, key: PlatformHandle, busy: str
) -> tuple[dict[str, list[str]], dict[str, int], dict[str, list[str]]]:
    ids = by_type(await query(client, key, COLLECT))
    found = await query(client, key, CURSORS, {"busy": busy})
    connections = {**found["platform"], "entries": found["node"]["entries"]}
    counts = {name: page["totalCount"] for name, page in connections.items()}
    cursors = {name: [e["cursor"] for e in page["edges"]] for name, page in connections.items()}
    return ids, counts, cursors


async def build_world(client: httpx.AsyncClient, db: Database, store: str) -> World:
    """Both platforms, their objects and the three credentials (see the module docstring)."""
    key = await make_platform(db, natural_users=4, legal_users=2, seed=41)
    victim = dict((await build_party(client, key, legal=True)).objects)
    neighbour = dict((await build_party(client, key, legal=False)).objects)
    await create_natural_user(client, key)  # no account, never submitted
    single = await create_natural_user(client, key)
    await open_account(client, key, single)
    for _ in range(2):  # four accounts
        await open_account(client, key, neighbour["user"])
    busy, other = victim["account"], victim["second_account"]
    for index in range(BUSY_TRANSFERS):
        await _transfer(client, key, *((busy, other) if index % 2 else (other, busy)))
    foreign_credit = await _transfer(client, key, busy, neighbour["account"])
    await _pending_pay_ins(client, key, victim)
    other_key = await make_platform(db, natural_users=2, legal_users=1, seed=42)
    await build_party(client, other_key, legal=False)
    readonly = await key_with_role(db, key, ApiKeyRole.READONLY)
    token = await user_token(client, key, victim["user"])
    endpoints = await _endpoints(client, key)
    await _deliveries(db, key.id, endpoints[0])
    ids, counts, cursors = await _read_back(client, key, busy)
    other_ids = by_type(await query(client, other_key, COLLECT))
    return World(
        store=store,
        credentials={
            "BACKEND": Credential("BACKEND", key.key),
            "READONLY": Credential("READONLY", readonly.key),
            "USER_TOKEN": Credential("USER_TOKEN", token.key),
        },
        ids=ids,
        other_ids=sorted({i for found in other_ids.values() for i in found}),
        victim=victim,
        neighbour=neighbour,
        busy_account=busy,
        foreign_credit=foreign_credit,
        counts=counts,
        cursors=cursors,
        endpoints=endpoints,
    )


def describe(world: World) -> str:
    """The world's sizes, for a failure message or the run's summary."""
    sizes = {name: len(ids) for name, ids in sorted(world.ids.items())}
    return json.dumps({"ids": sizes, "counts": dict(world.counts)})
