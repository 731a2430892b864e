"""Production mode (`MPS_ENVIRONMENT=production`) against development, through the real app:
no introspection, suggestions or playground; masked errors that carry the request id found in
the structured log; CORS and WebSocket origins only as configured; mutations only over POST
with a body no form can send."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.logs import JsonFormatter
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support.platforms import platform_with_a_damaged_user
from tests.support.server import serve

QUERY = {"query": "{ platform { id } }"}
PROTOCOL: Any = ["graphql-transport-ws"]


@asynccontextmanager
async def app_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app (lifespan included) built with these settings."""
    async with LifespanManager(create_app(settings, db=db)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


def production(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"environment": "production", **changes})


@pytest.fixture
async def prod(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(production(settings), db) as http:
        yield http


async def post(
    http: httpx.AsyncClient, platform: PlatformHandle, query: str, **variables: Any
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=platform.headers
    )
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


# ---- introspection, suggestions, playground ---------------------------------------------------

INTROSPECTION = [
    "{ __schema { types { name } } }",
    '{ __type(name: "Platform") { fields { name } } }',
    "{ platform { id } __schema { queryType { name } } }",
]


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_introspection_is_a_validation_error_in_production(
    prod: httpx.AsyncClient, db: Database, query: str
) -> None:
    body = await post(prod, await make_platform(db), query)
    assert "data" not in body or body["data"] is None
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_typename_is_still_answered_in_production(
    prod: httpx.AsyncClient, db: Database
) -> None:
    body = await post(prod, await make_platform(db), "{ __typename platform { __typename } }")
    assert body["data"] == {"__typename": "Query", "platform": {"__typename": "Platform"}}
    assert "errors" not in body


async def test_development_keeps_introspection(client: httpx.AsyncClient, db: Database) -> None:
    body = await post(client, await make_platform(db), INTROSPECTION[0])
    names = {entry["name"] for entry in body["data"]["__schema"]["types"]}
    assert {"Query", "Platform", "Mutation"} <= names


MISSPELLED: list[tuple[str, dict[str, Any]]] = [
    ("{ platfrom { id } }", {}),  # a field
    ("{ platform { users(frist: 1) { totalCount } } }", {}),  # an argument
    ("{ platform { events(types: [USER_CREATD]) { totalCount } } }", {}),  # an enum literal
    ("query ($n: Strin) { platform { id } }", {}),  # a type
    ("query ($t: [EventType!]) { platform { events(types: $t) { totalCount } } }",
     {"t": ["USER_CREATD"]}),  # an enum value in variables
    ('mutation { openAccount(input: {userID: "x", currency: "EUR"}) { __typename } }',
     {}),  # an input field
]  # fmt: skip


@pytest.mark.parametrize(("query", "variables"), MISSPELLED)
async def test_no_error_suggests_a_name_in_production_though_development_does(
    client: httpx.AsyncClient,
    prod: httpx.AsyncClient,
    db: Database,
    query: str,
    variables: dict[str, Any],
) -> None:
    platform = await make_platform(db)
    helpful = await post(client, platform, query, **variables)
    terse = await post(prod, platform, query, **variables)
    assert "Did you mean" in json.dumps(helpful)  # the case is one that suggests
    assert "Did you mean" not in json.dumps(terse)
    assert codes(terse) == codes(helpful)
    assert len(terse["errors"]) == len(helpful["errors"])


@pytest.mark.parametrize(
    "path",
    ["/graphql", "/playground/static/graphiql.min.js", "/playground/static/playground.js"],
)
async def test_the_playground_and_its_assets_are_a_json_404_in_production(
    prod: httpx.AsyncClient, path: str
) -> None:
    response = await prod.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert codes(response.json()) == ["NOT_FOUND"]
    assert "<html" not in response.text.lower()


async def test_development_keeps_the_playground(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    asset = await client.get("/playground/static/playground.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert asset.status_code == 200


# ---- masked errors and request ids --------------------------------------------------------------


async def test_an_internal_error_shows_its_request_id_and_the_log_has_the_rest(
    prod: httpx.AsyncClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    platform = await platform_with_a_damaged_user(db)
    query = "{ platform { users { nodes { email holder { id } } } } }"
    with caplog.at_level(logging.ERROR, logger="gateway.graphql"):
        response = await prod.post(
            "/graphql",
            json={"query": query},
            headers={**platform.headers, "X-Request-Id": "support-ticket-42.a_b"},
        )
    [error] = response.json()["errors"]
    assert response.headers["x-request-id"] == "support-ticket-42.a_b"
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == "support-ticket-42.a_b"
    [record] = [r for r in caplog.records if getattr(r, "reference", None)]
    assert record.exc_info is not None
    assert record.exc_info[1] is not None
    exception = record.exc_info[1]
    assert str(exception) not in response.text
    assert type(exception).__name__ not in response.text
    assert "Traceback" not in response.text
    assert "File " not in response.text

    line = JsonFormatter().format(record)
    assert "\n" not in line
    logged = json.loads(line)
    assert logged["request_id"] == response.headers["x-request-id"]
    assert logged["reference"] == error["extensions"]["reference"]
    assert logged["path"].startswith("platform.users.nodes.")
    assert logged["path"].endswith(".holder")
    assert re.fullmatch(r"key:[0-9a-f-]{36}", logged["credential"])
    assert logged["exception_type"].endswith(type(exception).__qualname__)
    assert logged["traceback"].startswith("Traceback (most recent call last)")
    assert logged["level"] == "ERROR"


@pytest.mark.parametrize(
    "incoming", [None, b"", b"a" * 65, b"semi;colon", b"spa ce", b"<b>", "ünï".encode()]
)
async def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, incoming: bytes | None
) -> None:
    headers = {} if incoming is None else {b"X-Request-Id": incoming}
    first = await client.get("/healthz", headers=headers)
    second = await client.get("/healthz", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_request_id_is_echoed_on_every_answer(client: httpx.AsyncClient) -> None:
    request_id = "A" * 64
    refused = await client.post("/graphql", json=QUERY, headers={"X-Request-Id": request_id})
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == request_id


# ---- CORS -----------------------------------------------------------------------------------

APP = "https://app.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, apollo-require-preflight,"
    " x-apollo-operation-name, x-request-id",
}


async def test_production_without_cors_origins_lets_no_page_call_the_api(
    prod: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    preflight = await prod.options("/graphql", headers={"Origin": APP, **PREFLIGHT})
    simple = await prod.post("/graphql", json=QUERY, headers={"Origin": APP, **platform.headers})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers
    assert simple.status_code == 200  # a non-browser client is unaffected


async def test_configured_origins_and_only_they_may_call_the_api(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async with app_client(production(settings, cors_allowed_origins=[APP]), db) as http:
        allowed = await http.options("/graphql", headers={"Origin": APP, **PREFLIGHT})
        other = await http.options(
            "/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        simple = await http.post(
            "/graphql", json=QUERY, headers={"Origin": APP, **platform.headers}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    for header in PREFLIGHT["Access-Control-Request-Headers"].split(","):
        assert header.strip() in allowed_headers
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_development_without_cors_origins_allows_any_origin(
    client: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    preflight = await client.options("/graphql", headers={"Origin": APP, **PREFLIGHT})
    simple = await client.post(
        "/graphql", json=QUERY, headers={"Origin": "https://anywhere.example", **platform.headers}
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert simple.headers["access-control-allow-origin"] == "*"


# ---- WebSocket origins --------------------------------------------------------------------------


async def _acknowledged(ws_url: str, platform: PlatformHandle, **options: Any) -> bool:
    async with websockets.connect(ws_url, subprotocols=PROTOCOL, **options) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {platform.key}"}}
        await ws.send(json.dumps(init))
        return bool(json.loads(await ws.recv()) == {"type": "connection_ack"})


async def test_production_refuses_browser_websockets_unless_their_origin_is_listed(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async for server in serve(production(settings), db):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await _acknowledged(server.ws, platform, origin="https://evil.example")
        assert refused.value.response.status_code == 403
        assert await _acknowledged(server.ws, platform)  # no Origin: not a browser
    async for server in serve(production(settings, ws_allowed_origins=[APP]), db):
        assert await _acknowledged(server.ws, platform, origin=APP)


async def test_development_accepts_websockets_from_any_origin(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async for server in serve(settings, db):
        assert await _acknowledged(server.ws, platform, origin="https://anywhere.example")


# ---- CSRF: mutations only over POST with a body no form can send ---------------------------------

MUTATION = 'mutation { blockAccount(input: {accountId: "x"}) { __typename } }'


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_a_mutation_over_get_is_405_method_not_allowed(
    db: Database, settings: Settings, mode: str
) -> None:
    platform = await make_platform(db)
    async with app_client(settings.model_copy(update={"environment": mode}), db) as http:
        response = await http.get("/graphql", params={"query": MUTATION}, headers=platform.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (MUTATION, "text/plain"),
        ("query=" + MUTATION, "application/x-www-form-urlencoded"),
    ],
)
async def test_a_form_encoded_or_plain_text_post_is_415_in_production(
    prod: httpx.AsyncClient, db: Database, content: str, content_type: str
) -> None:
    platform = await make_platform(db)
    response = await prod.post(
        "/graphql", content=content, headers={**platform.headers, "Content-Type": content_type}
    )
    assert response.status_code == 415
    assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


def _multipart() -> dict[str, Any]:
    return {
        "data": {"operations": json.dumps(QUERY), "map": "{}"},
        "files": {"0": ("note.txt", b"x", "text/plain")},
    }


async def test_a_multipart_request_needs_a_preflight_header_in_production(
    prod: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    bare = await prod.post("/graphql", headers=platform.headers, **_multipart())
    assert bare.status_code == 400
    assert codes(bare.json()) == ["BAD_REQUEST"]
    assert "Apollo-Require-Preflight" in bare.json()["errors"][0]["message"]
    for header in ("Apollo-Require-Preflight", "X-Apollo-Operation-Name"):
        marked = await prod.post(
            "/graphql", headers={**platform.headers, header: "true"}, **_multipart()
        )
        assert marked.json()["data"] == {"platform": {"id": str(platform.id)}}


async def test_development_accepts_multipart_without_a_preflight_header(
    client: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    response = await client.post("/graphql", headers=platform.headers, **_multipart())
    assert response.json()["data"] == {"platform": {"id": str(platform.id)}}


async def test_subscriptions_get_no_suggestions_either_in_production(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": "subscription { events(types: [USER_CREATD]) { tpye } }"},
    }
    async for server in serve(production(settings), db):
        async with websockets.connect(server.ws, subprotocols=PROTOCOL) as ws:
            init = {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {platform.key}"},
            }
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            await ws.send(json.dumps(subscribe))
            message = json.loads(await ws.recv())
        async with httpx.AsyncClient(base_url=server.http, timeout=10) as http:
            sse = await http.post(
                "/graphql",
                json=subscribe["payload"],
                headers={**platform.headers, "Accept": "text/event-stream"},
            )
    assert message["type"] == "error"
    assert {error["extensions"]["code"] for error in message["payload"]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }
    assert "Did you mean" not in json.dumps(message)
    assert "Did you mean" not in sse.text


def test_production_logging_writes_one_json_line_per_record_with_its_traceback() -> None:
    program = (
        "import logging\n"
        "from gateway.logs import configure_logging\n"
        "configure_logging(level='INFO', structured=True)\n"
        "try:\n"
        "    raise KeyError('boom')\n"
        "except KeyError:\n"
        "    logging.getLogger('gateway.graphql').exception('internal error',"
        " extra={'reference': 'r1', 'credential': 'key:k'})\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    [line] = ran.stderr.splitlines()
    logged = json.loads(line)
    assert logged["message"] == "internal error"
    assert logged["reference"] == "r1"
    assert logged["credential"] == "key:k"
    assert logged["exception_type"] == "builtins.KeyError"
    assert logged["traceback"].startswith("Traceback (most recent call last)")
    assert logged["traceback"].endswith("KeyError: 'boom'")
    assert logged["request_id"] is None  # outside any request
