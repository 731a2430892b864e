"""The abuse list: what a stranger may send, each tried once through the real app.

Every answer is a 4xx or a GraphQL error with a specific `extensions.code` (never a 5xx, never
INTERNAL_SERVER_ERROR), and the gateway answers a normal query afterwards. Several items are
also covered where their mechanism lives (tests/runtime/test_limits.py, tests/runtime,
tests/events); here they are listed in one place.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.runtime.test_limits import app_client, codes, depth_bomb, quick_server
from tests.support import StatementCounter, data, graphql
from tests.support.server import LiveServer
from tests.support.websocket import closed_with, create_user, init, receive, socket

NORMAL = "{ platform { id users(first: 2) { totalCount nodes { email } } } }"


@pytest.fixture
async def platform(db: Database) -> PlatformHandle:
    """A small platform (two users): these tests need a caller, not a populated platform."""
    return await make_platform(db, natural_users=2)


@pytest.fixture
async def live(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    async for server in quick_server(db, settings):
        yield server


async def still_answers(client: httpx.AsyncClient, platform: PlatformHandle) -> None:
    found = await data(client, NORMAL, headers=platform.headers)
    assert found["platform"]["id"] == str(platform.id)


async def refused_with(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    query: str,
    variables: dict[str, Any] | None = None,
) -> list[str]:
    """POST a document that must be refused with a GraphQL error; its codes."""
    body = await graphql(client, query, variables, headers=platform.headers)
    assert body.get("data") is None or "errors" in body, body
    assert "INTERNAL_SERVER_ERROR" not in codes(body)
    return codes(body)


def http_refusal(response: httpx.Response) -> str:
    """The code of a 4xx answer, which must be a JSON GraphQL error."""
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_a_depth_bomb_is_refused_as_too_deep(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    for depth in (16, 100, 400):
        assert await refused_with(client, platform, depth_bomb(depth)) == ["QUERY_TOO_DEEP"]
    await still_answers(client, platform)


async def test_an_alias_bomb_is_refused_as_too_many_aliases(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = "{ " + " ".join(f"a{n}: platform {{ name }}" for n in range(500)) + " }"
    assert await refused_with(client, platform, query) == ["TOO_MANY_ALIASES"]
    await still_answers(client, platform)


async def test_aliases_hidden_in_fanned_out_fragments_are_counted(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    levels = 40  # 2**40 aliased fields once the fragments are expanded
    fragments = " ".join(
        f"fragment F{n} on Platform {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)
    )
    query = f"{{ platform {{ ...F0 }} }} {fragments} fragment F{levels} on Platform {{ a: id }}"
    assert await refused_with(client, platform, query) == ["TOO_MANY_ALIASES", "QUERY_TOO_COMPLEX"]
    await still_answers(client, platform)


async def test_a_fragment_cycle_is_a_validation_error_not_a_hang(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = """{ platform { ...A } }
        fragment A on Platform { id users { nodes { platform { ...B } } } }
        fragment B on Platform { name ...A }"""
    assert await refused_with(client, platform, query) == ["GRAPHQL_VALIDATION_FAILED"]
    await still_answers(client, platform)


async def test_a_directive_flood_is_refused_as_too_many_directives(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = "{ platform { id" + " @skip(if: false)" * 500 + " } }"
    assert await refused_with(client, platform, query) == ["TOO_MANY_DIRECTIVES"]
    await still_answers(client, platform)


@pytest.mark.parametrize(("size", "status", "code"), [
    (100_000, 200, "QUERY_TOO_LARGE"), (1_048_576, 413, "PAYLOAD_TOO_LARGE"),
])  # fmt: skip
async def test_a_huge_string_argument_in_the_query_is_refused_before_parsing(
    client: httpx.AsyncClient, platform: PlatformHandle, size: int, status: int, code: str
) -> None:
    query = '{ node(id: "' + "x" * size + '") { id } }'
    response = await client.post("/graphql", json={"query": query}, headers=platform.headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    await still_answers(client, platform)


@pytest.mark.parametrize(("size", "status", "code"), [
    (500_000, 200, "BAD_USER_INPUT"), (1_048_576, 413, "PAYLOAD_TOO_LARGE"),
])  # fmt: skip
async def test_a_huge_string_in_the_variables_is_refused(
    client: httpx.AsyncClient, platform: PlatformHandle, size: int, status: int, code: str
) -> None:
    query = "query ($after: String) { platform { users(after: $after) { totalCount } } }"
    request = {"query": query, "variables": {"after": "x" * size}}
    response = await client.post("/graphql", json=request, headers=platform.headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    await still_answers(client, platform)


async def test_a_page_of_99999999_is_refused_as_too_complex(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    for query in (
        "{ platform { users(first: 99999999) { nodes { email } } } }",
        "query ($n: Int) { platform { events(first: $n) { totalCount } } }",
    ):
        assert await refused_with(client, platform, query, {"n": 99_999_999}) == [
            "QUERY_TOO_COMPLEX"
        ]
    await still_answers(client, platform)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
async def test_variables_nested_100000_levels_deep_are_a_400_not_a_500(
    client: httpx.AsyncClient, platform: PlatformHandle, opening: str
) -> None:
    closing = "]" if opening == "[" else "}"
    variables = opening * 100_000 + "1" + closing * 100_000
    body = '{"query": "query ($a: [ID]) { nodes(ids: $a) { id } }", "variables": {"a": '
    response = await client.post(
        "/graphql",
        content=body + variables + "}}",
        headers={**platform.headers, "Content-Type": "application/json"},
    )
    assert http_refusal(response) == "BAD_REQUEST"
    await still_answers(client, platform)


@pytest.mark.parametrize(("depth", "code"), [
    (100, "GRAPHQL_VALIDATION_FAILED"), (1_000, "QUERY_TOO_DEEP"), (100_000, "QUERY_TOO_LARGE"),
])  # fmt: skip
async def test_a_deeply_nested_list_literal_in_the_query_is_refused(
    client: httpx.AsyncClient, platform: PlatformHandle, depth: int, code: str
) -> None:
    query = "{ nodes(ids: " + "[" * depth + '"x"' + "]" * depth + ") { id } }"
    assert await refused_with(client, platform, query) == [code]
    await still_answers(client, platform)


async def test_a_json_array_of_1000_operations_is_refused_before_it_is_decoded(
    client: httpx.AsyncClient, platform: PlatformHandle, statements: StatementCounter
) -> None:
    batch = json.dumps([{"query": NORMAL}] * 1_000)
    headers = {**platform.headers, "Content-Type": "application/json"}
    statements.start()
    await client.post("/graphql", content="{", headers=headers)  # refused after sign-in only
    authentication_only = statements.stop()
    statements.start()
    response = await client.post("/graphql", content=batch, headers=headers)
    assert statements.stop() == authentication_only
    assert http_refusal(response) == "BAD_REQUEST"
    assert "batching" in response.json()["errors"][0]["message"]
    await still_answers(client, platform)


UPLOAD = {
    "query": "mutation ($input: SubmitDocumentInput!) { submitDocument(input: $input) {"
    " __typename } }",
    "variables": {"input": {"userId": "x", "type": "IDENTITY_PROOF", "file": None}},
}
BOUNDARY = "abuse-boundary"


async def _multipart_in_chunks(file_bytes: int) -> AsyncIterator[bytes]:
    """A GraphQL multipart upload sent chunked, without announcing its length."""
    parts = [("operations", json.dumps(UPLOAD)), ("map", '{"0": ["variables.input.file"]}')]
    for name, value in parts:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-"
    ).encode()
    for _ in range(file_bytes // 100_000):
        yield b"x" * 100_000
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
async def test_an_oversized_upload_is_413_whether_its_length_is_announced_or_not(
    db: Database, settings: Settings, platform: PlatformHandle, announced: bool
) -> None:
    small = settings.model_copy(update={"document_bytes_max": 1_024})  # bodies up to ~1 MB
    async with app_client(small, db) as http:
        if announced:
            response = await http.post(
                "/graphql",
                data={"operations": json.dumps(UPLOAD), "map": '{"0": ["variables.input.file"]}'},
                files={"0": ("huge.pdf", b"%PDF-" + b"x" * 1_100_000, "application/pdf")},
                headers=platform.headers,
            )
        else:
            response = await http.post(
                "/graphql",
                content=_multipart_in_chunks(5_000_000),
                headers={
                    **platform.headers,
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                },
            )
        assert response.status_code == 413
        assert http_refusal(response) == "PAYLOAD_TOO_LARGE"
        await still_answers(http, platform)


async def test_a_slow_loris_websocket_without_connection_init_is_closed_4408(
    live: LiveServer, client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    async with socket(live) as ws:
        assert await closed_with(ws) == 4408
    await still_answers(client, platform)


async def test_1000_subscriptions_on_one_connection_are_refused_beyond_the_cap(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    await create_user(live, platform)  # USER_CREATED, PERSON_CREATED
    first = await _first_event_cursor(live, platform)
    payload = {"query": EVENTS, "variables": {"after": first}}  # replays PERSON_CREATED
    async with socket(live) as ws:
        await init(ws, platform)
        for number in range(1_000):
            await ws.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
        messages = [await receive(ws) for _ in range(1_000)]
    refusals = [message for message in messages if message["type"] == "error"]
    replays = [message for message in messages if message["type"] == "next"]
    assert {message["id"] for message in replays} == {"0", "1", "2"}  # the cap is 3
    assert {message["id"] for message in refusals} == {str(n) for n in range(3, 1_000)}
    refusal_codes = {
        error["extensions"]["code"] for message in refusals for error in message["payload"]
    }
    assert refusal_codes == {"TOO_MANY_SUBSCRIPTIONS"}  # checked before any rate budget is spent
    async with httpx.AsyncClient(base_url=live.http) as http:
        response = await http.post("/graphql", json={"query": NORMAL}, headers=platform.headers)
    assert response.json()["data"]["platform"]["id"] == str(platform.id)


EVENTS = "subscription ($after: String) { events(after: $after) { cursor type } }"


async def _first_event_cursor(live: LiveServer, platform: PlatformHandle) -> str:
    query = {"query": "{ platform { events(first: 1) { nodes { cursor } } } }"}
    async with httpx.AsyncClient(base_url=live.http) as http:
        body = (await http.post("/graphql", json=query, headers=platform.headers)).json()
    cursor: str = body["data"]["platform"]["events"]["nodes"][0]["cursor"]
    return cursor


CURSOR_QUERIES = {
    "users": "query ($after: String) { platform { users(after: $after) { totalCount } } }",
    "events": "query ($after: String) { platform { events(after: $after) { totalCount } } }",
}


async def test_forged_cursors_and_foreign_event_cursors_are_bad_user_input(
    client: httpx.AsyncClient, platform: PlatformHandle, db: Database
) -> None:
    other = await make_platform(db, natural_users=2)
    foreign = await data(
        client, "{ platform { events(first: 1) { edges { cursor } } } }", headers=other.headers
    )
    forged = ["garbage", "YzE6bm90LWEtdXVpZA", "ZTE6MDAwMDAwMDA6LTE", "é" * 50, "x" * 10_000]
    for connection, cursors in (
        ("users", forged),
        ("events", [*forged, foreign["platform"]["events"]["edges"][0]["cursor"]]),
    ):
        for cursor in cursors:
            found = await refused_with(
                client, platform, CURSOR_QUERIES[connection], {"after": cursor}
            )
            assert found == ["BAD_USER_INPUT"], (connection, cursor)
    await still_answers(client, platform)


async def test_a_foreign_user_cursor_is_only_a_position_among_the_callers_own_users(
    client: httpx.AsyncClient, platform: PlatformHandle, db: Database
) -> None:
    """Row cursors name an id, not a platform: one of another platform reads as a position in
    time (ids are UUIDv7) and the page still holds only the caller's rows."""
    other = await make_platform(db, natural_users=2)
    query = "query ($before: String) { platform { users(last: 100, before: $before) {"
    query += " edges { cursor } nodes { id } } } }"
    theirs = await data(client, query, headers=other.headers)
    foreign = theirs["platform"]["users"]["edges"][-1]["cursor"]
    mine = await data(client, query, headers=platform.headers)
    page = await data(client, query, {"before": foreign}, headers=platform.headers)
    assert page["platform"]["users"]["nodes"] == mine["platform"]["users"]["nodes"]
    await still_answers(client, platform)


async def test_forged_and_foreign_cursors_on_the_subscription_are_errors(
    live: LiveServer, db: Database
) -> None:
    mine, other = await make_platform(db), await make_platform(db)
    await create_user(live, other)
    foreign = await _first_event_cursor(live, other)
    async with socket(live) as ws:
        await init(ws, mine)
        for number, cursor in enumerate((foreign, "garbage", "x" * 10_000)):
            payload = {"query": EVENTS, "variables": {"after": cursor}}
            await ws.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
            message = await receive(ws)
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"], message


@pytest.mark.parametrize("text", [
    "[1]", "null", '"subscribe"',
    '{"type": "subscribe", "id": [], "payload": {"query": "{ platform { id } }"}}',
    '{"type": "subscribe", "id": "1", "payload": []}',
    '{"type": "subscribe", "id": "1", "payload": {"query": "{ platform { id } }", "variables": 1}}',
    "[" * 100_000 + "]" * 100_000,
])  # fmt: skip
async def test_malformed_websocket_messages_close_the_socket_4400(
    live: LiveServer, platform: PlatformHandle, text: str
) -> None:
    async with socket(live) as ws:
        await init(ws, platform)
        await ws.send(text)
        assert await closed_with(ws) == 4400
    async with socket(live) as ws:  # and the server takes the next one
        await init(ws, platform)


async def test_a_nul_character_in_any_string_is_bad_user_input_on_both_stores(
    client: httpx.AsyncClient, platform: PlatformHandle, statements: StatementCounter
) -> None:
    transfer = """mutation ($input: CreateTransferInput!) { createTransfer(input: $input) {
        __typename } }"""
    money = {
        "debitedAccountId": "x",
        "creditedAccountId": "y",
        "amount": {"amount": 1, "currency": "EUR"},
    }
    nul_key = {"input": {**money, "idempotencyKey": "k\x00"}}
    filtered = '{ platform { users(filter: {email: "a\\u0000@b.c"}) { totalCount } } }'
    nested_key = {"input": {**money, "idempotencyKey": "k", "\x00": 1}}
    for query, variables in ((transfer, nul_key), (filtered, None), (transfer, nested_key)):
        statements.start()
        assert await refused_with(client, platform, query, variables) == ["BAD_USER_INPUT"]
        assert statements.stop() <= 1  # the key lookup; nothing reaches a write
    await still_answers(client, platform)
