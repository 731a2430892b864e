"""/metrics of a running gateway (uvicorn, in the test's loop), read with prometheus-client's
parser after real requests. A process's instruments are shared by every app it runs, so each
test compares a scrape after its requests with one before, and names its operations uniquely."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import httpx
from pydantic import SecretStr

from gateway.domain.errors import NotFound
from gateway.services import webhooks
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.accounts import open_account
from tests.support.calls import mutate, rejected
from tests.support.documents import UNBLOCK_ACCOUNT
from tests.support.metrics import Scrape, bearer, scrape, total, value
from tests.support.server import LiveServer, serve
from tests.support.users import create_natural_user
from tests.support.websocket import create_user, events, init, socket, subscribe
from tests.webhooks.receiver import Receiver, serving

LATEST = "{ platform { events(first: 100) { edges { cursor } } } }"  # a fresh platform has few
POLLS_MAX = 200  # bounded waits for background work: 200 polls of 0.05 s


def with_metrics(settings: Settings, **more: object) -> Settings:
    return settings.model_copy(update={"metrics": True, **more})


@contextlib.asynccontextmanager
async def running(settings: Settings, db: Database) -> AsyncIterator[LiveServer]:
    async for server in serve(settings, db):
        yield server


async def test_named_queries_errors_rejections_and_statements_show_in_the_scrape(
    db: Database, settings: Settings, sandbox: PlatformHandle
) -> None:
    name = f"Metrics{uuid.uuid4().hex}"
    async with running(with_metrics(settings), db) as server:
        url = f"{server.http}/metrics"
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            user_id = await create_natural_user(http, sandbox)
            account_id = await open_account(http, sandbox, user_id)
            before = await scrape(url)
            for _ in range(3):
                body = {"query": f"query {name} {{ platform {{ name }} }}"}
                answered = await http.post("/graphql", json=body, headers=sandbox.headers)
                assert answered.json()["data"]["platform"]["name"]
            payload = await mutate(http, sandbox, UNBLOCK_ACCOUNT, {"accountId": account_id})
            rejected(payload, "InvalidStateRejection", "INVALID_STATE")
            broken = await http.post("/graphql", json={"query": "{"}, headers=sandbox.headers)
            assert broken.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
            refused = await http.post("/graphql", json={"query": "{ __typename }"})
            assert refused.status_code == 401
        after = await scrape(url)

    def grew(name_: str, **labels: str) -> float:
        return value(after, name_, **labels) - value(before, name_, **labels)

    requests = "mps_graphql_requests_total"
    assert grew(requests, operation=name, transport="http", outcome="ok") == 3
    assert grew(requests, operation="UnblockAccount", transport="http", outcome="rejected") == 1
    assert grew(requests, operation="unknown", transport="http", outcome="error") == 1
    assert grew(requests, operation="unknown", transport="http", outcome="refused") == 1
    assert grew("mps_graphql_rejections_total", type="InvalidStateRejection") == 1
    assert grew("mps_graphql_errors_total", code="GRAPHQL_PARSE_FAILED") == 1
    assert grew("mps_graphql_errors_total", code="UNAUTHENTICATED") == 1
    duration = "mps_graphql_request_duration_seconds_count"
    assert grew(duration, operation=name, transport="http") == 3
    sent = total(after, requests) - total(before, requests)
    assert sent == 6
    statements = "mps_sql_statements_per_request"
    assert grew(f"{statements}_count") == sent  # one observation per request
    assert grew(f"{statements}_sum") >= 3  # each named query reads its credential at least
    for gauge in ("mps_db_pool_connections_in_use", "mps_db_pool_connections_waiting"):
        assert (gauge, frozenset()) in after


async def test_a_subscription_shows_open_with_the_events_delivered_to_it(
    db: Database, settings: Settings, sandbox: PlatformHandle
) -> None:
    async with running(with_metrics(settings), db) as server:
        url = f"{server.http}/metrics"
        before = await scrape(url)
        # Subscribed after the platform's latest event, so the next user's events reach the
        # socket even when its subscription registers after they are committed.
        await create_user(server, sandbox)
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            listing = await http.post("/graphql", json={"query": LATEST}, headers=sandbox.headers)
        latest = listing.json()["data"]["platform"]["events"]["edges"][-1]["cursor"]
        async with socket(server) as ws:
            await init(ws, sandbox)
            await subscribe(ws, "1", after=latest)
            await create_user(server, sandbox)
            assert len(await events(ws, 1)) == 1
            during = await scrape(url)
        after = await scrape(url)

    def grew(found: Scrape, name: str, **labels: str) -> float:
        return value(found, name, **labels) - value(before, name, **labels)

    open_ = "mps_subscriptions_open"
    assert grew(during, open_, transport="websocket") == 1
    assert grew(after, open_, transport="websocket") == 0
    assert grew(during, "mps_subscription_events_total", transport="websocket") >= 1
    assert (
        grew(
            during,
            "mps_graphql_requests_total",
            operation="anonymous",
            transport="websocket",
            outcome="ok",
        )
        == 1
    )
    assert grew(during, "mps_event_hub_delay_seconds_count") >= 1
    assert ("mps_event_hub_lag_events", frozenset()) in during


async def test_a_webhook_delivery_shows_by_result_with_the_pending_backlog(
    db: Database, settings: Settings, sandbox: PlatformHandle
) -> None:
    delivering = with_metrics(
        settings,
        webhook_delivery=True,
        webhook_dispatch_interval_s=0.05,
        webhook_allow_private_urls=True,
    )
    async with serving(Receiver()) as receiver, running(delivering, db) as server:
        url = f"{server.http}/metrics"
        made = await webhooks.create_endpoint(
            db,
            platform_id=sandbox.id,
            new=webhooks.NewEndpoint(url=receiver.url, event_types=()),
            allow_private=True,
        )
        receiver.secret = made.secret
        try:
            before = await scrape(url)
            await create_user(server, sandbox)
            succeeded = ("mps_webhook_deliveries_total", frozenset({("result", "succeeded")}))
            for _ in range(POLLS_MAX):
                after = await scrape(url)
                if after.get(succeeded, 0.0) > before.get(succeeded, 0.0):
                    break
                await asyncio.sleep(0.05)
        finally:
            with contextlib.suppress(NotFound):
                await webhooks.delete_endpoint(
                    db, platform_id=sandbox.id, endpoint_id=str(made.endpoint.id)
                )
    assert after.get(succeeded, 0.0) > before.get(succeeded, 0.0), json.dumps(
        [k[0] for k in after if k[0].startswith("mps_webhook")]
    )
    assert receiver.accepted
    assert value(after, "mps_webhook_oldest_pending_age_seconds") >= 0
    assert ("mps_webhook_oldest_pending_age_seconds", frozenset()) in after


async def test_metrics_are_not_served_unless_turned_on(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_with_a_token_the_metrics_are_served_only_to_a_scrape_that_sends_it(
    db: Database, settings: Settings
) -> None:
    token = f"metrics-{uuid.uuid4().hex}"
    async with running(with_metrics(settings, metrics_token=SecretStr(token)), db) as server:
        url = f"{server.http}/metrics"
        async with httpx.AsyncClient(timeout=30) as http:
            refusals = [
                await http.get(url, headers=headers)
                for headers in ({}, bearer(f"{token}x"), {"Authorization": f"Basic {token}"})
            ]
        found = await scrape(url, token=token)
    for refused in refusals:
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert "mps_" not in refused.text
    assert ("mps_subscriptions_open", frozenset({("transport", "websocket")})) in found
