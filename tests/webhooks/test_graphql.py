"""Deliveries through the graph: `WebhookEndpoint.deliveries` shows each delivery, newest
first, with its event and its attempt log; and the app's own dispatcher delivers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.enums import EventType
from gateway.services.demo import populate
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support import data
from tests.webhooks.conftest import Endpoints, create_endpoint, events_of, eventually, run_passes
from tests.webhooks.receiver import Receiver

DELIVERIES = """query ($first: Int, $after: String) { platform { webhookEndpoints {
  id enabled disabledReason
  deliveries(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      status attemptCount nextAttemptAt lastStatusCode
      event { id type objectId }
      attempts { attempt statusCode error durationMs attemptedAt }
    }
  }
} } }"""
NODE = "query ($id: ID!) { node(id: $id) { id } }"


@asynccontextmanager
async def _gateway(
    db: Database, settings: Settings, **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"webhook_allow_private_urls": True, **changes}), db=db
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def _add_user(db: Database, platform_id: uuid.UUID, seed: int) -> None:
    await populate(
        db, platform_id=platform_id, natural_users=1, legal_users=0, accounts_per_user=1, seed=seed
    )


async def test_the_deliveries_of_an_endpoint_show_newest_first_with_their_attempts(
    db: Database, settings: Settings, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    async with _gateway(db, settings, webhook_delivery=False) as http:
        endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
        receiver.fail_first = 1
        await _add_user(db, platform.id, seed=1)
        await _add_user(db, platform.id, seed=2)
        older, newer = await events_of(db, platform.id, after=0, types=[EventType.USER_CREATED])
        await run_passes(db, lambda: len(receiver.accepted) == 2)

        first = await data(http, DELIVERIES, {"first": 1}, headers=platform.headers)
        [endpoint] = first["platform"]["webhookEndpoints"]
        cursor = endpoint["deliveries"]["pageInfo"]["endCursor"]
        second = await data(
            http, DELIVERIES, {"first": 1, "after": cursor}, headers=platform.headers
        )

    assert (endpoint["id"], endpoint["enabled"], endpoint["disabledReason"]) == (
        endpoint_id,
        True,
        None,
    )
    page = endpoint["deliveries"]
    assert (page["totalCount"], page["pageInfo"]["hasNextPage"]) == (2, True)
    rest = second["platform"]["webhookEndpoints"][0]["deliveries"]
    assert rest["pageInfo"]["hasNextPage"] is False
    nodes = page["nodes"] + rest["nodes"]
    assert [node["event"]["id"] for node in nodes] == [str(newer.id), str(older.id)]
    for node, event in zip(nodes, (newer, older), strict=True):
        assert node["event"] == {
            "id": str(event.id),
            "type": "USER_CREATED",
            "objectId": str(event.object_id),
        }
        summary = [
            node[key] for key in ("status", "attemptCount", "nextAttemptAt", "lastStatusCode")
        ]
        assert summary == ["SUCCEEDED", 2, None, 200]
        log = [(row["attempt"], row["statusCode"], row["error"]) for row in node["attempts"]]
        assert log == [(1, 500, None), (2, 200, None)]
        assert all(row["durationMs"] >= 0 and row["attemptedAt"] for row in node["attempts"])


async def test_another_platform_cannot_reach_the_deliveries_of_an_endpoint(
    db: Database, settings: Settings, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform, intruder = await make_platform(db), await make_platform(db)
    async with _gateway(db, settings, webhook_delivery=False) as http:
        endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
        await _add_user(db, platform.id, seed=3)
        await run_passes(db, lambda: len(receiver.accepted) == 1)
        theirs = await data(http, DELIVERIES, {}, headers=intruder.headers)
        node = await data(http, NODE, {"id": endpoint_id}, headers=intruder.headers)
        mine = await data(http, DELIVERIES, {}, headers=platform.headers)

    assert theirs["platform"]["webhookEndpoints"] == []
    assert node == {"node": None}
    [endpoint] = mine["platform"]["webhookEndpoints"]
    assert endpoint["deliveries"]["totalCount"] == 1


async def test_the_gateway_delivers_events_by_itself_while_it_runs(
    db: Database, settings: Settings, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    async with _gateway(db, settings, webhook_delivery=True, webhook_dispatch_interval_s=0.02) as (
        http
    ):
        await create_endpoint(http, platform, receiver, endpoints)
        await _add_user(db, platform.id, seed=4)
        [event] = await events_of(db, platform.id, after=0, types=[EventType.USER_CREATED])
        await eventually(lambda: bool(receiver.accepted))

    assert list(receiver.accepted) == [str(event.id)]
    assert receiver.unverified == 0
