"""GraphQL over HTTP: credentials, the health check, and clean answers to bad requests."""

from __future__ import annotations

import gc
import logging

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.types import Message

from gateway.app import GC_THRESHOLDS, create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support import graphql

QUERY = {"query": "{ platform { name } }"}


def _error_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["errors"], body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_the_health_check_answers_without_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer mps_test_abcdefghijkm_wrongsecret",
        "Bearer mps_live_abcdefghijkm",
        "Bearer " + "x" * 10_000,
    ],
)
async def test_a_missing_or_bad_key_is_401_unauthenticated(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 401
    assert _error_code(response) == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "data" not in response.json()


async def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_refused(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    forged = platform.key[:-4] + ("aaaa" if not platform.key.endswith("aaaa") else "bbbb")
    response = await client.post(
        "/graphql", json=QUERY, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401


async def test_a_valid_key_reads_its_platform(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = await graphql(client, "{ platform { id environment } }", headers=platform.headers)
    assert body == {
        "data": {"platform": {"id": str(platform.id), "environment": "SANDBOX"}},
        "extensions": {"cost": {"requested": 3, "limit": 20_000}},
    }


async def test_queries_also_work_over_get(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ platform { id } }"}, headers=platform.headers
    )
    assert response.status_code == 200
    assert response.json()["data"]["platform"]["id"] == str(platform.id)


async def test_the_playground_is_served_to_browsers_without_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unpkg.com" not in response.text
    asset = await client.get(
        "/playground/static/graphiql.min.js", headers={"Accept-Encoding": "gzip"}
    )
    assert asset.status_code == 200
    assert asset.headers["content-encoding"] == "gzip"
    assert asset.num_bytes_downloaded < 1_500_000 < len(asset.content)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        ("{bad json", "application/json", 400, "BAD_REQUEST"),
        ('"a string"', "application/json", 400, "BAD_REQUEST"),
        ("[1, 2]", "application/json", 400, "BAD_REQUEST"),
        ('{"query": 42}', "application/json", 400, "BAD_REQUEST"),
        (
            '{"query": "{ platform { id } }", "variables": "x"}',
            "application/json",
            400,
            "BAD_REQUEST",
        ),
        ("{}", "application/json", 400, "BAD_REQUEST"),
        ("query { platform { id } }", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("query=x", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
async def test_malformed_requests_get_a_graphql_error_never_a_500(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    content: str,
    content_type: str,
    status: int,
    code: str,
) -> None:
    response = await client.post(
        "/graphql",
        content=content,
        headers={**platform.headers, "Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert _error_code(response) == code


async def test_an_oversized_body_is_refused_before_parsing(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    huge = '{"query": "{ platform { id } }", "padding": "' + "x" * 2_000_000 + '"}'
    response = await client.post(
        "/graphql", content=huge, headers={**platform.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert _error_code(response) == "PAYLOAD_TOO_LARGE"


async def test_other_methods_are_405_with_allow(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    response = await client.put("/graphql", json=QUERY, headers=platform.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ platform { name ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ platform { users(first: 101) { totalCount } } }", "BAD_USER_INPUT"),
        ("{ platform { users(first: -1) { totalCount } } }", "BAD_USER_INPUT"),
        ('{ platform { users(after: "garbage") { totalCount } } }', "BAD_USER_INPUT"),
        ("{ platform { users(first: 1, last: 1) { totalCount } } }", "BAD_USER_INPUT"),
        ("{ platform { accounts(last: 500) { totalCount } } }", "BAD_USER_INPUT"),
        ('{ nodes(ids: ["x"]) { id } } ', None),
    ],
)
async def test_invalid_documents_and_arguments_are_clear_errors(
    client: httpx.AsyncClient, platform: PlatformHandle, query: str, code: str | None
) -> None:
    body = await graphql(client, query, headers=platform.headers)
    if code is None:
        assert body["data"] == {"nodes": [None]}
        return
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]
    assert "Traceback" not in str(body)


async def test_a_variable_of_the_wrong_type_is_bad_user_input(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = await graphql(
        client,
        "query ($n: Int) { platform { users(first: $n) { totalCount } } }",
        {"n": "ten"},
        headers=platform.headers,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "node_id",
    ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "{" + "0" * 34 + "}", "é" * 36],
)
async def test_unknown_and_malformed_ids_are_null_not_errors(
    client: httpx.AsyncClient, platform: PlatformHandle, node_id: str
) -> None:
    body = await graphql(
        client,
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": node_id},
        headers=platform.headers,
    )
    assert body["data"] == {"node": None}
    assert "errors" not in body


async def test_nodes_takes_at_most_100_ids(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    ids = [str(platform.id)] * 101
    body = await graphql(
        client,
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": ids},
        headers=platform.headers,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("tuning", [True, False])
async def test_the_collector_is_tuned_at_startup_unless_turned_off(
    db: Database, settings: Settings, tuning: bool
) -> None:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever an earlier app left
    try:
        app = create_app(settings.model_copy(update={"gc_tuning": tuning}), db=db)
        async with LifespanManager(app):
            assert (gc.get_threshold() == GC_THRESHOLDS) is tuning
            assert (gc.get_freeze_count() > 0) is tuning
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def test_a_client_that_leaves_mid_body_is_not_an_application_error(
    db: Database, settings: Settings, platform: PlatformHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.graphql")
    app = create_app(settings, db=db)
    body = b'{"query": "{ platform { name } }"}'
    incoming: list[Message] = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", platform.headers["Authorization"].encode()),
        ],
    }
    async with LifespanManager(app) as manager:
        await manager.app(scope, receive, send)  # returns: no exception reaches the server
    assert sent == []  # nobody to answer
    assert "disconnected before the request body was read" in caplog.text
