"""Subscription.events over SSE (graphql-sse, distinct connections mode) with a real HTTP
client streaming from a real server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support.server import LiveServer
from tests.support.websocket import create_user

WATCH_EVENTS = (Path(__file__).resolve().parents[2] / "queries" / "WatchEvents.graphql").read_text()
SUBSCRIPTION = "subscription { events(types: [USER_CREATED]) { type objectId cursor } }"


async def _next_events(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:") and event == "next":
            found.append(json.loads(line.removeprefix("data:"))["data"]["events"])
            if len(found) == count:
                return found
    return found


async def test_an_sse_stream_delivers_live_events_to_an_authenticated_client(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    headers = {**platform.headers, "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=live.http, timeout=10) as http,
        http.stream("POST", "/graphql", json={"query": SUBSCRIPTION}, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        await asyncio.sleep(0.2)
        created = [await create_user(live, platform) for _ in range(2)]
        received = await asyncio.wait_for(_next_events(stream, 2), 10)
    assert [event["objectId"] for event in received] == created
    assert {event["type"] for event in received} == {"USER_CREATED"}


async def test_an_sse_request_without_a_key_is_refused_before_streaming(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.http, timeout=10) as http:
        response = await http.post(
            "/graphql", json={"query": SUBSCRIPTION}, headers={"Accept": "text/event-stream"}
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_watch_events_document_streams_with_its_variables(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    await create_user(live, platform)
    first_cursor_query = "{ platform { events(first: 1) { nodes { cursor } } } }"
    async with httpx.AsyncClient(base_url=live.http, timeout=10) as http:
        body = (
            await http.post(
                "/graphql", json={"query": first_cursor_query}, headers=platform.headers
            )
        ).json()
        after = body["data"]["platform"]["events"]["nodes"][0]["cursor"]
        request = {"query": WATCH_EVENTS, "variables": {"after": after, "objectId": None}}
        headers = {**platform.headers, "Accept": "text/event-stream"}
        async with http.stream("POST", "/graphql", json=request, headers=headers) as stream:
            [person_created] = await asyncio.wait_for(_next_events(stream, 1), 10)
    assert person_created["type"] == "PERSON_CREATED"
    assert person_created["object"]["__typename"] == "NaturalPerson"
