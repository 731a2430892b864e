"""Managing webhooks through the graph: an endpoint enabled again after the dispatcher disabled
it, its secret rotated with an overlap (a real receiver verifies with either secret meanwhile,
with the new one only after), its finished deliveries replayed one by one or by time range,
and its deliveries read as Nodes, a page per endpoint through one loader."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlmodel import col
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.app import create_app
from gateway.services import webhooks as webhook_service
from gateway.settings import Settings
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookDelivery
from gateway.store.engine import Database
from gateway.store.journal_tables import WebhookEndpoint
from tests.conftest import PlatformHandle, make_platform
from tests.support import StatementCounter, data
from tests.support.calls import rejected, success
from tests.webhooks.conftest import (
    Endpoints,
    add_users,
    create_endpoint,
    deliveries_of,
    endpoint_row,
    passes,
    policy,
    run_passes,
)
from tests.webhooks.receiver import Receiver

QUERIES = Path(__file__).parents[2] / "queries"  # the documents clients reuse, run here
ENABLE = (QUERIES / "EnableWebhookEndpoint.graphql").read_text()
ROTATE = (QUERIES / "RotateWebhookSecret.graphql").read_text()
REPLAY = (QUERIES / "ReplayWebhookDelivery.graphql").read_text()
REPLAY_RANGE = (QUERIES / "ReplayWebhookDeliveries.graphql").read_text()
DELIVERIES = (QUERIES / "WebhookDeliveries.graphql").read_text()
NODE = """query ($id: ID!) { node(id: $id) { __typename id
  ... on WebhookDelivery { status eventType attemptCount deliveredAt } } }"""


@asynccontextmanager
async def _gateway(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    changes = {"webhook_allow_private_urls": True, "webhook_delivery": False}
    app = create_app(settings.model_copy(update=changes), db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


@pytest.fixture
async def http(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with _gateway(db, settings) as client:
        yield client


async def _run(
    http: httpx.AsyncClient, platform: PlatformHandle, mutation: str, input: dict[str, Any]
) -> dict[str, Any]:
    result = await data(http, mutation, {"input": input}, headers=platform.headers)
    payload: dict[str, Any] = next(iter(result.values()))
    return payload


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def _end_overlap(db: Database, endpoint_id: str) -> None:
    """Move the end of the rotation's overlap into the past (no test waits for a clock)."""
    async with db.transaction() as session:
        await session.execute(
            sa.update(WebhookEndpoint)
            .where(col(WebhookEndpoint.id) == uuid.UUID(endpoint_id))
            .values(previous_secret_expires_at=utcnow() - dt.timedelta(seconds=1))
        )


# ---- rotation -------------------------------------------------------------------------------


async def test_a_receiver_verifies_with_either_secret_during_the_overlap_and_the_new_one_after(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    old = receiver.secret
    assert old is not None
    rotated = success(
        await _run(http, platform, ROTATE, {"endpointId": endpoint_id, "overlapSeconds": 3600}),
        "RotateWebhookSecretSuccess",
    )
    new = rotated["secret"]
    assert new != old
    assert rotated["endpoint"]["previousSecretExpiresAt"] is not None

    receiver.secret = old  # a receiver that has not switched yet still accepts
    await add_users(db, platform.id, 1, seed=1, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 1)
    body, headers = receiver.raw[-1]
    assert headers["webhook-signature"].count("v1,") == 2
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert _verifies(old, body, headers)
    assert _verifies(new, body, headers)

    await _end_overlap(db, endpoint_id)
    receiver.secret = new
    await add_users(db, platform.id, 1, seed=2, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 2)
    body, headers = receiver.raw[-1]
    assert headers["webhook-signature"].count("v1,") == 1
    assert _verifies(new, body, headers)
    assert not _verifies(old, body, headers)
    assert receiver.unverified == 0


async def test_a_receiver_still_on_the_old_secret_refuses_deliveries_once_the_overlap_ends(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    await _run(http, platform, ROTATE, {"endpointId": endpoint_id, "overlapSeconds": 0})
    await add_users(db, platform.id, 1, seed=3, accounts=0)
    await passes(db, 1)
    assert receiver.unverified == 1  # it kept the old secret: the new signature fails it
    assert receiver.accepted == {}


async def test_an_overlap_beyond_seven_days_or_negative_is_refused(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    for overlap in (7 * 86_400 + 1, -1):
        input = {"endpointId": endpoint_id, "overlapSeconds": overlap}
        refused = rejected(
            await _run(http, platform, ROTATE, input), "ValidationRejection", "VALIDATION_FAILED"
        )
        assert [problem["field"] for problem in refused["fields"]] == ["overlapSeconds"]
    assert (await endpoint_row(db, uuid.UUID(endpoint_id))).secret == receiver.secret


# ---- enabling -------------------------------------------------------------------------------


async def test_an_endpoint_disabled_by_the_dispatcher_is_enabled_and_gets_what_came_meanwhile(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    receiver.always_fail = True
    strict = policy(disable_after_failures=2, disable_after_s=0.0)
    await add_users(db, platform.id, 1, seed=4, accounts=0)
    await run_passes(db, lambda: len(receiver.requests) == 2, policy=strict)
    assert not (await endpoint_row(db, uuid.UUID(endpoint_id))).enabled
    await add_users(db, platform.id, 1, seed=5, accounts=0)  # appended while disabled

    receiver.always_fail = False
    enabled = success(
        await _run(http, platform, ENABLE, {"id": endpoint_id}), "EnableWebhookEndpointSuccess"
    )
    assert enabled["endpoint"] == {"id": endpoint_id, "enabled": True, "disabledReason": None}
    await run_passes(db, lambda: len(receiver.accepted) == 1, policy=strict)
    row = await endpoint_row(db, uuid.UUID(endpoint_id))
    assert (row.consecutive_failures, row.disabled_at) == (0, None)
    statuses = sorted(d.status.value for d in await deliveries_of(db, uuid.UUID(endpoint_id)))
    assert statuses == ["FAILED", "SUCCEEDED"]  # the one given up stays so: replay it


# ---- replays --------------------------------------------------------------------------------


async def test_a_replayed_delivery_is_sent_again_with_the_same_webhook_id(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    await add_users(db, platform.id, 1, seed=6, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 1)
    [delivery] = await deliveries_of(db, uuid.UUID(endpoint_id))

    replayed = success(
        await _run(http, platform, REPLAY, {"id": str(delivery.id)}),
        "ReplayWebhookDeliverySuccess",
    )
    assert replayed["delivery"]["status"] == "PENDING"
    again = rejected(
        await _run(http, platform, REPLAY, {"id": str(delivery.id)}),
        "InvalidStateRejection",
        "INVALID_STATE",
    )
    assert again["currentState"] == "PENDING"
    await run_passes(db, lambda: len(receiver.requests) == 2)

    [webhook_id] = receiver.accepted
    assert receiver.seen(webhook_id) == 2
    node = (await data(http, NODE, {"id": str(delivery.id)}, headers=platform.headers))["node"]
    assert node["__typename"] == "WebhookDelivery"
    assert (node["status"], node["attemptCount"], node["eventType"]) == (
        "SUCCEEDED",
        2,
        "USER_CREATED",
    )
    assert node["deliveredAt"] is not None


async def test_a_failed_delivery_replayed_gets_a_fresh_retry_schedule(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    receiver.always_fail = True
    short = policy(retry_schedule_s=(0.0,))  # two attempts, then FAILED
    await add_users(db, platform.id, 1, seed=7, accounts=0)
    await run_passes(db, lambda: len(receiver.requests) == 2, policy=short)
    [delivery] = await deliveries_of(db, uuid.UUID(endpoint_id))
    assert delivery.status.value == "FAILED"

    await _run(http, platform, REPLAY, {"id": str(delivery.id)})
    await run_passes(db, lambda: len(receiver.requests) == 4, policy=short)
    [delivery] = await deliveries_of(db, uuid.UUID(endpoint_id))
    assert (delivery.status.value, delivery.attempt_count) == ("FAILED", 4)


async def test_a_time_range_replays_the_finished_deliveries_created_within_it(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    await add_users(db, platform.id, 3, seed=8, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 3)
    rows = await deliveries_of(db, uuid.UUID(endpoint_id))
    long_ago = utcnow() - dt.timedelta(days=3)
    async with db.transaction() as session:  # one of them is older than the range
        await session.execute(
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == rows[0].id)
            .values(created_at=long_ago)
        )
    span = {
        "endpointId": endpoint_id,
        "from": (utcnow() - dt.timedelta(days=1)).isoformat(),
        "to": (utcnow() + dt.timedelta(minutes=1)).isoformat(),
    }
    replayed = success(
        await _run(http, platform, REPLAY_RANGE, span), "ReplayWebhookDeliveriesSuccess"
    )
    assert replayed["replayedCount"] == 2
    await run_passes(db, lambda: len(receiver.requests) == 5)
    assert sorted(receiver.seen(str(row.event_id)) for row in rows) == [1, 2, 2]


async def test_a_range_holding_more_deliveries_than_the_bound_is_refused_whole(
    db: Database,
    http: httpx.AsyncClient,
    receiver: Receiver,
    endpoints: Endpoints,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    await add_users(db, platform.id, 3, seed=9, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 3)
    monkeypatch.setattr(webhook_service, "REPLAY_DELIVERIES_MAX", 2)  # not 10,000 rows here
    now = utcnow()
    span = {
        "endpointId": endpoint_id,
        "from": (now - dt.timedelta(days=1)).isoformat(),
        "to": (now + dt.timedelta(minutes=1)).isoformat(),
    }
    refused = rejected(
        await _run(http, platform, REPLAY_RANGE, span), "ValidationRejection", "VALIDATION_FAILED"
    )
    assert "holds 3 finished deliveries" in refused["fields"][0]["message"]
    backwards = {**span, "from": span["to"], "to": span["from"]}
    refused = rejected(
        await _run(http, platform, REPLAY_RANGE, backwards),
        "ValidationRejection",
        "VALIDATION_FAILED",
    )
    assert [problem["field"] for problem in refused["fields"]] == ["to"]
    statuses = {d.status.value for d in await deliveries_of(db, uuid.UUID(endpoint_id))}
    assert statuses == {"SUCCEEDED"}


async def test_deliveries_of_a_disabled_endpoint_are_not_replayed_until_it_is_enabled(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    receiver.always_fail = True
    strict = policy(disable_after_failures=1, disable_after_s=0.0)
    await add_users(db, platform.id, 1, seed=10, accounts=0)
    await run_passes(db, lambda: len(receiver.requests) == 1, policy=strict)
    [delivery] = await deliveries_of(db, uuid.UUID(endpoint_id))
    refused = rejected(
        await _run(http, platform, REPLAY, {"id": str(delivery.id)}),
        "InvalidStateRejection",
        "INVALID_STATE",
    )
    assert refused["currentState"] == "DISABLED"


# ---- reading --------------------------------------------------------------------------------


async def test_deliveries_filter_by_status_and_read_as_nodes(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    await create_endpoint(http, platform, receiver, endpoints)
    receiver.fail_first = 1
    await add_users(db, platform.id, 2, seed=11, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 2)
    found = await data(http, DELIVERIES, {"status": "SUCCEEDED"}, headers=platform.headers)
    [endpoint] = found["platform"]["webhookEndpoints"]
    page = endpoint["deliveries"]
    assert page["totalCount"] == 2
    for node in page["nodes"]:
        assert (node["eventType"], node["status"], node["lastStatusCode"]) == (
            "USER_CREATED",
            "SUCCEEDED",
            200,
        )
        assert [(a["attempt"], a["statusCode"]) for a in node["attempts"]] == [(1, 500), (2, 200)]
        assert node["event"]["type"] == "USER_CREATED"
        assert node["deliveredAt"] >= node["createdAt"]
    none = await data(http, DELIVERIES, {"status": "FAILED"}, headers=platform.headers)
    assert none["platform"]["webhookEndpoints"][0]["deliveries"]["totalCount"] == 0


async def _statements_to_read(
    db: Database, http: httpx.AsyncClient, platform: PlatformHandle
) -> tuple[int, int]:
    with StatementCounter(db.engine, db.read_engine) as counter:
        counter.start()
        found = await data(http, DELIVERIES, {}, headers=platform.headers)
        count = counter.stop()
    endpoints_read = found["platform"]["webhookEndpoints"]
    return count, sum(e["deliveries"]["totalCount"] for e in endpoints_read)


async def test_the_deliveries_of_many_endpoints_cost_as_many_statements_as_those_of_one(
    db: Database, http: httpx.AsyncClient, endpoints: Endpoints
) -> None:
    counts = []
    for endpoint_count in (1, 4):
        platform = await make_platform(db)
        for _ in range(endpoint_count):
            await endpoints.create(platform.id, url="http://127.0.0.1:9/never")
        await add_users(db, platform.id, 2, seed=12, accounts=0)
        await passes(db, 1, policy=policy(timeout_s=0.5))  # enqueued; their attempts fail
        statements, delivered = await _statements_to_read(db, http, platform)
        assert delivered >= 2 * endpoint_count
        counts.append(statements)
    assert 0 < counts[0] == counts[1]


async def test_another_platform_can_neither_see_nor_manage_an_endpoints_deliveries(
    db: Database, http: httpx.AsyncClient, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform, intruder = await make_platform(db), await make_platform(db)
    endpoint_id = await create_endpoint(http, platform, receiver, endpoints)
    await add_users(db, platform.id, 1, seed=13, accounts=0)
    await run_passes(db, lambda: len(receiver.accepted) == 1)
    [delivery] = await deliveries_of(db, uuid.UUID(endpoint_id))
    delivery_id = str(delivery.id)

    node = await data(http, NODE, {"id": delivery_id}, headers=intruder.headers)
    assert node == {"node": None}
    now = utcnow()
    span = {
        "endpointId": endpoint_id,
        "from": (now - dt.timedelta(days=1)).isoformat(),
        "to": (now + dt.timedelta(days=1)).isoformat(),
    }
    attempts: list[tuple[str, dict[str, Any]]] = [
        (REPLAY, {"id": delivery_id}),
        (REPLAY_RANGE, span),
        (ENABLE, {"id": endpoint_id}),
        (ROTATE, {"endpointId": endpoint_id, "overlapSeconds": 0}),
    ]
    for mutation, input in attempts:
        rejected(await _run(http, intruder, mutation, input), "NotFoundRejection", "NOT_FOUND")
    row = await endpoint_row(db, uuid.UUID(endpoint_id))
    assert row.secret == receiver.secret
    [unchanged] = await deliveries_of(db, uuid.UUID(endpoint_id))
    assert (unchanged.status.value, unchanged.attempt_count) == ("SUCCEEDED", 1)
