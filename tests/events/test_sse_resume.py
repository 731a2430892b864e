"""Server-sent events that a browser resumes by itself (gateway.graphql.runtime.event_source),
over real HTTP to a running server: each event's cursor as its `id:`, a `retry:` line first,
`Last-Event-ID` resuming right after that event, subscriptions over GET with a user token as
`access_token`, and the clear refusals."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.logs import JsonFormatter, ScrubAccessTokens
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support.accounts import open_account
from tests.support.event_source import (
    EVENT_TYPES,
    EVENTS,
    RECEIVE_TIMEOUT_S,
    USERS_CREATED,
    blocks,
    get_params,
    next_blocks,
    sequence,
)
from tests.support.server import LiveServer
from tests.support.tokens import user_token
from tests.support.websocket import create_user

SSE = {"Accept": "text/event-stream"}
CURSORS = """{ platform { events(first: 100, types: [USER_CREATED]) {
  nodes { cursor objectId } } } }"""


async def _cursors(http: httpx.AsyncClient, platform: PlatformHandle) -> list[tuple[str, str]]:
    """(cursor, objectId) of every USER_CREATED event of the platform, oldest first."""
    response = await http.post("/graphql", json={"query": CURSORS}, headers=platform.headers)
    nodes = response.json()["data"]["platform"]["events"]["nodes"]
    return [(node["cursor"], node["objectId"]) for node in nodes]


async def _users(live: LiveServer, platform: PlatformHandle, count: int) -> list[str]:
    return [await create_user(live, platform) for _ in range(count)]


async def test_each_event_carries_its_cursor_as_its_id_after_a_retry_line(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    headers = {**platform.headers, **SSE}
    async with (
        httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http,
        http.stream(
            "POST",
            "/graphql",
            json={"query": EVENT_TYPES, "variables": USERS_CREATED},
            headers=headers,
        ) as stream,
    ):
        assert stream.status_code == 200
        found = blocks(stream)
        first = await anext(found)
        await asyncio.sleep(0.2)  # subscribed once the first block is out; then events come
        created = await _users(live, platform, 3)
        received = await asyncio.wait_for(next_blocks(found, 3), RECEIVE_TIMEOUT_S)
        stored = await _cursors(http, platform)
    assert (first.retry, first.event, first.data) == (3000, None, "")
    assert [block.payload["data"]["events"]["objectId"] for block in received] == created
    assert [block.id for block in received] == [cursor for cursor, _ in stored]
    sequences = [sequence(platform.id, block.id or "") for block in received]
    assert sequences == sorted(set(sequences))


async def test_a_last_event_id_resumes_right_after_that_event_with_nothing_lost_or_repeated(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    created = await _users(live, platform, 4)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        stored = await _cursors(http, platform)
        headers = {**platform.headers, **SSE, "Last-Event-ID": stored[1][0]}
        params = get_params(EVENTS, USERS_CREATED)
        async with http.stream("GET", "/graphql", params=params, headers=headers) as stream:
            assert stream.status_code == 200
            found = blocks(stream)
            replayed = await asyncio.wait_for(next_blocks(found, 2), RECEIVE_TIMEOUT_S)
            created.append(await create_user(live, platform))
            [live_one] = await asyncio.wait_for(next_blocks(found, 1), RECEIVE_TIMEOUT_S)
    received = [block.payload["data"]["events"] for block in [*replayed, live_one]]
    assert [event["objectId"] for event in received] == created[2:]
    assert [block.id for block in [*replayed, live_one]] == [e["cursor"] for e in received]


HEAD = "{ platform { events(first: 100) { nodes { cursor } } } }"


async def test_a_stream_first_sends_where_it_starts_so_an_early_reconnect_loses_nothing(
    live: LiveServer, db: Database
) -> None:
    """Without `after`, the stream starts at the log's head and says so at once (an id-only
    block): a browser that loses the stream before any event reconnects with that id, and gets
    the events committed while it was away."""
    platform = await make_platform(db)
    await _users(live, platform, 2)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        listed = await http.post("/graphql", json={"query": HEAD}, headers=platform.headers)
        head = listed.json()["data"]["platform"]["events"]["nodes"][-1]["cursor"]
        params = get_params(EVENTS, USERS_CREATED)
        headers = {**platform.headers, **SSE}
        async with http.stream("GET", "/graphql", params=params, headers=headers) as stream:
            found = blocks(stream)
            opening = [await anext(found), await anext(found)]
        away = await _users(live, platform, 2)  # committed while no stream is open
        resumed = {**headers, "Last-Event-ID": opening[1].id or ""}
        async with http.stream("GET", "/graphql", params=params, headers=resumed) as stream:
            found = blocks(stream)
            again = await anext(found)
            start = await anext(found)
            replayed = await asyncio.wait_for(next_blocks(found, 2), RECEIVE_TIMEOUT_S)
    assert (opening[0].retry, opening[0].id) == (3000, None)
    assert (opening[1].event, opening[1].data, opening[1].id) == (None, "", head)
    assert (again.retry, start.id) == (3000, head)  # resumed where the browser said
    assert [block.payload["data"]["events"]["objectId"] for block in replayed] == away


async def test_a_stream_with_after_first_sends_that_cursor_as_its_id(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    created = await _users(live, platform, 3)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        stored = await _cursors(http, platform)
        request = {"query": EVENTS, "variables": {**USERS_CREATED, "after": stored[0][0]}}
        headers = {**platform.headers, **SSE}
        async with http.stream("POST", "/graphql", json=request, headers=headers) as stream:
            found = blocks(stream)
            await anext(found)  # retry
            start = await anext(found)
            received = await asyncio.wait_for(next_blocks(found, 2), RECEIVE_TIMEOUT_S)
    assert (start.event, start.id) == (None, stored[0][0])
    assert [block.payload["data"]["events"]["objectId"] for block in received] == created[1:]


async def test_a_last_event_id_takes_the_place_of_the_after_argument(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    created = await _users(live, platform, 4)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        stored = await _cursors(http, platform)
        headers = {**platform.headers, **SSE, "Last-Event-ID": stored[2][0]}
        request = {"query": EVENTS, "variables": {**USERS_CREATED, "after": stored[0][0]}}
        async with http.stream("POST", "/graphql", json=request, headers=headers) as stream:
            [block] = await asyncio.wait_for(next_blocks(blocks(stream), 1), RECEIVE_TIMEOUT_S)
    assert block.payload["data"]["events"]["objectId"] == created[3]


async def test_a_subscription_over_get_streams_to_a_user_token_given_as_access_token(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    own, other = await _users(live, platform, 2)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        token = await user_token(http, platform, own)
        params = get_params(EVENTS, {"types": ["ACCOUNT_CREATED"]}, access_token=token)
        async with http.stream("GET", "/graphql", params=params, headers=SSE) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            found = blocks(stream)
            assert (await anext(found)).retry == 3000
            await asyncio.sleep(0.2)
            await open_account(http, platform, other)  # another user's: never streamed
            mine = await open_account(http, platform, own)
            [block] = await asyncio.wait_for(next_blocks(found, 1), RECEIVE_TIMEOUT_S)
    event = block.payload["data"]["events"]
    assert (event["type"], event["objectId"]) == ("ACCOUNT_CREATED", mine)
    assert block.id == event["cursor"]


async def _refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    return message


async def test_a_platform_api_key_in_the_url_is_refused(live: LiveServer, db: Database) -> None:
    platform = await make_platform(db)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        params = get_params(EVENTS, access_token=platform.key)
        response = await http.get("/graphql", params=params, headers=SSE)
    message = await _refusal(response, 400, "API_KEY_IN_URL")
    assert "user token" in message


async def test_an_unknown_access_token_is_unauthenticated(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        params = get_params(EVENTS, access_token="not-a-token")
        response = await http.get("/graphql", params=params, headers=SSE)
    await _refusal(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("method", "accept"),
    [("POST", "text/event-stream"), ("GET", "application/json")],
)
async def test_an_access_token_is_only_taken_on_a_get_for_an_event_stream(
    live: LiveServer, db: Database, method: str, accept: str
) -> None:
    platform = await make_platform(db)
    own = await create_user(live, platform)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        token = await user_token(http, platform, own)
        query = "{ viewer { id } }"
        response = await http.request(
            method,
            "/graphql",
            params={"access_token": token, **({"query": query} if method == "GET" else {})},
            json={"query": query} if method == "POST" else None,
            headers={"Accept": accept},
        )
    await _refusal(response, 400, "BAD_REQUEST")


async def test_a_url_with_a_token_and_an_authorization_header_is_refused(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    own = await create_user(live, platform)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        token = await user_token(http, platform, own)
        params = get_params(EVENTS, access_token=token)
        response = await http.get("/graphql", params=params, headers={**SSE, **platform.headers})
    await _refusal(response, 400, "BAD_REQUEST")


async def test_an_invalid_last_event_id_is_a_clear_error_before_anything_streams(
    live: LiveServer, db: Database
) -> None:
    platform, elsewhere = await make_platform(db), await make_platform(db)
    await create_user(live, elsewhere)
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        [(foreign, _)] = await _cursors(http, elsewhere)
        answers: dict[str, Any] = {}
        for last_event_id in ("not-a-cursor", foreign, "x" * 1_000):
            headers = {**platform.headers, **SSE, "Last-Event-ID": last_event_id}
            response = await http.get("/graphql", params=get_params(EVENTS), headers=headers)
            answers[last_event_id] = await _refusal(response, 400, "INVALID_LAST_EVENT_ID")
    assert answers["not-a-cursor"] == "`Last-Event-ID` is not a valid event cursor."
    assert answers[foreign] == "`Last-Event-ID` is an event cursor of another scope."


async def test_a_last_event_id_on_a_request_that_is_no_event_stream_is_ignored(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    headers = {**platform.headers, "Last-Event-ID": "not-a-cursor"}
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        response = await http.post(
            "/graphql", json={"query": "{ platform { id } }"}, headers=headers
        )
    assert response.json()["data"]["platform"]["id"] == str(platform.id)


def test_an_access_token_in_a_logged_url_is_masked_in_json_logs(tmp_path: Path) -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/graphql?query=x&access_token=secret.token&b=1", "1.1", 200),
        None,
    )
    ScrubAccessTokens().filter(record)
    line = JsonFormatter().format(record)
    assert "secret.token" not in line
    assert "/graphql?query=x&access_token=***&b=1" in line


async def test_a_mutation_is_still_refused_over_get_for_an_event_stream(
    live: LiveServer, db: Database
) -> None:
    """An EventSource (or a link) cannot change anything: GET never runs a mutation."""
    platform = await make_platform(db)
    own = await create_user(live, platform)
    mutation = (
        f'mutation {{ openAccount(input: {{userId: "{own}", currency: "EUR"}}) {{ __typename }} }}'
    )
    async with httpx.AsyncClient(base_url=live.http, timeout=RECEIVE_TIMEOUT_S) as http:
        token = await user_token(http, platform, own)
        params = get_params(mutation, access_token=token)
        response = await http.get("/graphql", params=params, headers=SSE)
    await _refusal(response, 405, "METHOD_NOT_ALLOWED")
