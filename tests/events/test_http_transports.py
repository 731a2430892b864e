"""Subscriptions over plain HTTP: the two streams (SSE, Apollo's multipart subscriptions) as
their bytes go out of a real server, and the coded refusal of every other request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support.server import LiveServer
from tests.support.websocket import create_user

SUBSCRIPTION = "subscription { events(types: [USER_CREATED]) { type objectId } }"
MULTIPART = "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json"
MULTIPART_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'
DELIMITER = b"\r\n--graphql"


async def _read_until(chunks: AsyncIterator[bytes], received: bytearray, marker: bytes) -> None:
    while marker not in received:
        received.extend(await anext(chunks))


async def test_sse_events_end_their_lines_with_a_line_feed(live: LiveServer, db: Database) -> None:
    platform = await make_platform(db)
    headers = {**platform.headers, "Accept": "text/event-stream"}
    received = bytearray()
    async with (
        httpx.AsyncClient(base_url=live.http, timeout=10) as http,
        http.stream("POST", "/graphql", json={"query": SUBSCRIPTION}, headers=headers) as stream,
    ):
        await asyncio.sleep(0.2)
        user_id = await create_user(live, platform)
        await asyncio.wait_for(_read_until(stream.aiter_raw(), received, b"}\n\n"), 10)
    retry, start, event = bytes(received).split(b"\n\n")[:3]
    assert b"\r" not in bytes(received)
    assert retry == b"retry: 3000"
    assert start.startswith(b"id: ")  # where the stream starts, before its first event
    assert b"\n" not in start
    event_id, kind, data = event.split(b"\n")
    assert event_id.startswith(b"id: ")
    assert event_id != start
    assert kind == b"event: next"
    assert json.loads(data.removeprefix(b"data: "))["data"]["events"]["objectId"] == user_id


async def test_a_multipart_subscription_opens_beats_and_delivers_each_event_at_once(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    headers = {**platform.headers, "Accept": MULTIPART}
    received = bytearray()
    async with (
        httpx.AsyncClient(base_url=live.http, timeout=10) as http,
        http.stream("POST", "/graphql", json={"query": SUBSCRIPTION}, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"] == MULTIPART_CONTENT_TYPE
        chunks = stream.aiter_raw()
        await asyncio.wait_for(_read_until(chunks, received, b"{}" + DELIMITER), 10)
        user_id = await create_user(live, platform)
        await asyncio.wait_for(_read_until(chunks, received, b"}}}}" + DELIMITER), 10)
    body = bytes(received)
    assert body.startswith(b"--graphql\r\n")  # the opening delimiter, no preamble
    parts = [part.split(b"\r\n\r\n", 1) for part in body.split(DELIMITER)[:-1]]
    assert all(b"Content-Type: application/json" in headers for headers, _ in parts)
    payloads = [json.loads(content) for _, content in parts]
    assert payloads[0] == {}  # a heartbeat at once, before any event
    events = [p["payload"]["data"]["events"] for p in payloads if "payload" in p]
    assert events == [{"type": "USER_CREATED", "objectId": user_id}]


async def test_a_multipart_stream_that_ends_closes_with_the_final_boundary(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    invalid = {"query": "subscription { events { nope } }"}
    response = await client.post(
        "/graphql", json=invalid, headers={**platform.headers, "Accept": MULTIPART}
    )
    body = response.content
    assert body.startswith(b"--graphql\r\n")
    assert body.endswith(DELIMITER + b"--\r\n")
    [_, last] = body.removesuffix(DELIMITER + b"--\r\n").rsplit(b"\r\n\r\n", 1)
    [error] = json.loads(last)["payload"]["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("method", "accept", "status"),
    [
        ("POST", None, 406),
        ("POST", "application/json", 406),
        ("POST", "application/graphql-response+json", 406),
        ("POST", "*/*", 406),
        ("GET", MULTIPART, 405),
        ("GET", "application/json", 405),
    ],
)
async def test_a_subscription_without_a_stream_is_refused_with_the_transports_to_use(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    method: str,
    accept: str | None,
    status: int,
) -> None:
    headers = {**platform.headers, **({"Accept": accept} if accept else {})}
    if method == "GET":
        response = await client.get("/graphql", params={"query": SUBSCRIPTION}, headers=headers)
        assert response.headers["allow"] == "POST"
    else:
        response = await client.post("/graphql", json={"query": SUBSCRIPTION}, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SUBSCRIPTION_TRANSPORT_REQUIRED"
    for transport in (
        "graphql-transport-ws",
        "Accept: text/event-stream",
        "Accept: multipart/mixed;subscriptionSpec=1.0",
    ):
        assert transport in error["message"]


async def test_a_graphql_sse_client_gets_a_query_as_one_event(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ platform { id } }"},
        headers={**platform.headers, "Accept": "text/event-stream"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    retry, next_event, complete, rest = response.text.split("\n\n")
    assert retry == "retry: 3000"
    assert next_event.startswith("event: next\ndata: ")
    assert json.loads(next_event.split("data: ")[1])["data"]["platform"]["id"] == str(platform.id)
    assert (complete, rest) == ("event: complete\ndata: ", "")


async def test_queries_that_also_accept_a_stream_do_not_spend_the_subscription_budget(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    budget = settings.model_copy(update={"rate_limit_subscriptions": 1})
    urql_query_accept = "application/graphql-response+json, application/json, text/event-stream"
    headers = {**platform.headers, "Accept": urql_query_accept}
    async with LifespanManager(create_app(budget, db=db)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            answers = [
                await http.post("/graphql", json={"query": "{ platform { id } }"}, headers=headers)
                for _ in range(3)
            ]
    # each would have been a new subscription (the second one a 429) if counted as a stream
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert {answer.headers["content-type"] for answer in answers} == {
        "application/graphql-response+json; charset=utf-8"
    }
