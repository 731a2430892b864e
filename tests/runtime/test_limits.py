"""Query limits (gateway.graphql.runtime.limits): what the defaults let through, how each limit is
measured and refused before any resolver runs, on every transport, and the reported cost."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import get_introspection_query, parse
from graphql.language import Lexer, Source, TokenKind

from gateway.app import create_app, query_limits_for
from gateway.domain.pagination import PAGE_SIZE_DEFAULT
from gateway.graphql.runtime.limits import Measure, QueryLimits, count_directives, measure
from gateway.graphql.schema import build_schema
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support import StatementCounter, data, graphql
from tests.support.server import LiveServer, serve
from tests.support.websocket import closed_with, init, receive, socket

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema()._schema
README_BLOCKS = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
DOCUMENTS = {
    **{path.name: path.read_text() for path in sorted((ROOT / "queries").glob("*.graphql"))},
    **{f"README block {number}": block for number, block in enumerate(README_BLOCKS, 1)},
    "introspection": get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    ),
}
# The heaviest variables a frontend sends to these documents: full pages everywhere.
FULL_PAGES = {"first": 100, "accountsFirst": 10, "ids": ["0"] * 100}


@asynccontextmanager
async def app_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app (lifespan included) built with these settings."""
    async with LifespanManager(create_app(settings, db=db)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def tokens(document: str) -> int:
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def platform_bomb(depth: int) -> str:
    """`platform { users(first: 1) { nodes { platform { ... { id } } } } }`, `depth` deep."""
    cycle = ["users(first: 1)", "nodes", "platform"]
    fields = ["platform", *(cycle[n % 3] for n in range(depth - 2))]
    return " { ".join(fields) + " { id" + " }" * len(fields)


def depth_bomb(depth: int) -> str:
    return "{ " + platform_bomb(depth) + " }"


async def quick_server(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    """A live server whose WebSocket limits tests can reach quickly."""
    quick = settings.model_copy(
        update={"ws_connection_init_timeout_s": 0.5, "ws_subscriptions_per_connection_max": 3}
    )
    async for server in serve(quick, db):
        yield server


@pytest.fixture
async def platform(db: Database) -> PlatformHandle:
    """A small platform (two users): these tests need a caller, not a populated platform."""
    return await make_platform(db, natural_users=2)


@pytest.fixture
async def live(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    async for server in quick_server(db, settings):
        yield server


# What the defaults let through


def test_the_default_limits_are_the_settings_defaults() -> None:
    assert query_limits_for(Settings()) == QueryLimits()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_known_document_fits_the_default_limits_with_full_pages(name: str) -> None:
    document, limits = DOCUMENTS[name], QueryLimits()
    found = measure(SCHEMA, parse(document), variables=FULL_PAGES)
    assert len(document.encode()) <= limits.document_bytes_max / 10
    assert tokens(document) <= limits.tokens_max / 5
    assert found.depth <= limits.depth_max
    assert found.aliases <= limits.aliases_max / 10
    assert count_directives(parse(document)) <= limits.directives_max
    assert found.cost <= limits.cost_max


# How a document is measured


def measured(document: str, **variables: Any) -> Measure:
    return measure(SCHEMA, parse(document), variables=variables)


def test_depth_counts_fields_nested_in_fields() -> None:
    assert measured("{ platform { name } }").depth == 2
    assert measured("{ platform { users { nodes { email } } } }").depth == 4


def test_the_cost_of_a_connection_is_its_selection_times_its_page_size() -> None:
    assert measured("{ platform { users(first: 10) { totalCount nodes { email } } } }") == (
        Measure(depth=4, aliases=0, cost=1 + 1 + 10 * (1 + 2))
    )


def test_a_page_size_comes_from_a_literal_a_variable_its_default_or_the_page_default() -> None:
    query = "query ($n: Int{default}) {{ platform {{ users(first: $n) {{ totalCount }} }} }}"
    assert measured(query.format(default=""), n=7).cost == 2 + 7
    assert measured(query.format(default=" = 3")).cost == 2 + 3
    assert measured(query.format(default="")).cost == 2 + PAGE_SIZE_DEFAULT
    assert measured("{ platform { events(first: 99999999) { totalCount } } }").cost == (
        2 + 99_999_999
    )
    assert measured("{ platform { users(last: 4) { totalCount } } }").cost == 2 + 4


def test_nodes_costs_its_selection_once_per_id() -> None:
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert measured(query, ids=["a"] * 40).cost == 1 + 40
    assert measured('{ nodes(ids: ["a", "b", "c"]) { id __typename } }').cost == 1 + 3 * 2


def test_fragments_count_once_per_use_for_depth_aliases_and_cost() -> None:
    query = """{ platform { ...Users } again: platform { ...Users } }
        fragment Users on Platform { users(first: 2) { nodes { a: email ... on User { b: id } } } }
    """
    assert measured(query) == Measure(depth=4, aliases=5, cost=2 * (1 + 1 + 2 * (1 + 2)))


def test_a_fragment_fan_out_is_measured_in_linear_time() -> None:
    levels = 60  # 2**60 fields once expanded
    fragments = " ".join(
        f"fragment F{n} on Platform {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)
    )
    query = f"{{ platform {{ ...F0 }} }} {fragments} fragment F{levels} on Platform {{ a: id }}"
    found = measured(query)
    assert (found.aliases, found.cost) == (2**levels, 1 + 2**levels)


def test_a_fragment_cycle_ends_the_walk() -> None:
    query = (
        "{ platform { ...A } } fragment A on Platform { id ...B } fragment B on Platform { ...A }"
    )
    assert measured(query) == Measure(depth=2, aliases=0, cost=2)


def test_unknown_fields_and_fragments_are_measured_without_types() -> None:
    assert measured("{ nope { deeper { id } } ...Missing }") == Measure(depth=3, cost=3)


def test_directives_are_counted_wherever_they_are_written() -> None:
    document = parse(
        "query Q($a: Boolean = true) @skip(if: false) { platform @include(if: $a) { id @skip(if:"
        " false) ...F } } fragment F on Platform @include(if: true) { name }"
    )
    assert count_directives(document) == 4


# Refused before any resolver runs, with a code and the measured value


async def _statements_of(
    client: httpx.AsyncClient, statements: StatementCounter, platform: PlatformHandle, query: str
) -> tuple[dict[str, Any], int]:
    statements.start()
    body = await graphql(client, query, headers=platform.headers)
    return body, statements.stop()


REFUSALS = [
    (depth_bomb(17), "QUERY_TOO_DEEP", "Query depth 17 exceeds the limit of 15."),
    ("{ platform { " + " ".join(f"a{n}: id" for n in range(31)) + " } }", "TOO_MANY_ALIASES",
     "Query alias count 31 exceeds the limit of 30."),
    ("{ platform { id" + " @include(if: true)" * 51 + " } }", "TOO_MANY_DIRECTIVES",
     "Query directive count 51 exceeds the limit of 50."),
    ("{ platform { users(first: 100) { nodes { accounts(first: 100) { nodes { id currency } }"
     " } } } }", "QUERY_TOO_COMPLEX", "Query cost 30202 exceeds the limit of 20000."),
    ("{ platform { name } }" + " " * 50_000, "QUERY_TOO_LARGE",
     "Query size 50021 bytes exceeds the limit of 50000 bytes."),
    ("{ platform { " + "id " * 5_000 + "} }", "TOO_MANY_TOKENS",
     "Query token count exceeds the limit of 5000."),
    ("{ platform { id } }" + "#\n" * 5_000, "TOO_MANY_TOKENS",
     "Query token count exceeds the limit of 5000."),
    ('{ nodes(ids: ' + "[" * 1_500 + "]" * 1_500 + ") { id } }", "QUERY_TOO_DEEP",
     "Query is nested too deeply to parse."),
]  # fmt: skip


@pytest.mark.parametrize(("query", "code", "message"), REFUSALS, ids=[r[1] for r in REFUSALS])
async def test_each_limit_is_refused_with_its_code_before_any_resolver_runs(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    statements: StatementCounter,
    query: str,
    code: str,
    message: str,
) -> None:
    _, authentication_only = await _statements_of(client, statements, platform, "{ __typename }")
    body, count = await _statements_of(client, statements, platform, query)
    assert codes(body) == [code], body
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"]["limit"] > 0
    assert "data" not in body or body["data"] is None
    assert count == authentication_only


async def test_a_document_over_several_limits_gets_every_refusal(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = (
        "{ "
        + " ".join(f"a{n}: platform {{ users(first: 100) {{ totalCount }} }}" for n in range(250))
        + " }"
    )
    body = await graphql(client, query, headers=platform.headers)
    assert codes(body) == ["TOO_MANY_ALIASES", "QUERY_TOO_COMPLEX"]
    assert body["errors"][1]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": 20_000,
        "measured": 250 * (1 + 1 + 100),
    }


async def test_introspection_lists_nested_too_deeply_are_refused(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    body = await graphql(client, query, headers=platform.headers)
    assert codes(body) == ["QUERY_TOO_DEEP"]


async def test_the_full_introspection_query_passes(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    result = await data(client, DOCUMENTS["introspection"], headers=platform.headers)
    assert result["__schema"]["queryType"]["name"] == "Query"


async def test_the_limits_come_from_the_settings(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    strict = settings.model_copy(update={"query_depth_max": 2, "query_cost_max": 100})
    async with app_client(strict, db) as http:
        assert await data(http, "{ platform { id } }", headers=platform.headers)
        deep = await graphql(
            http, "{ platform { users { totalCount } } }", headers=platform.headers
        )
        costly = await graphql(
            http, "{ platform { users(first: 99) { totalCount } } }", headers=platform.headers
        )
    assert codes(deep) == ["QUERY_TOO_DEEP"]
    assert codes(costly) == ["QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX"]


# The reported cost


async def test_the_cost_is_reported_on_every_response_by_default(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = await graphql(
        client, "{ platform { users(first: 3) { totalCount } } }", headers=platform.headers
    )
    refused = await graphql(client, "{ nope }", headers=platform.headers)
    assert body["extensions"] == {"cost": {"requested": 5, "limit": 20_000}}
    assert "extensions" not in refused


async def test_when_reports_are_off_the_cost_is_reported_only_when_asked(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    request = {"query": "{ platform { id } }"}
    async with app_client(settings.model_copy(update={"query_cost_report": False}), db) as http:
        asked = await http.post(
            "/graphql", json={**request, "extensions": {"cost": True}}, headers=platform.headers
        )
        plain = await http.post("/graphql", json=request, headers=platform.headers)
    assert asked.json()["extensions"] == {"cost": {"requested": 2, "limit": 20_000}}
    assert "extensions" not in plain.json()


# Every transport


async def test_limits_apply_to_operations_over_a_websocket(
    live: LiveServer, platform: PlatformHandle
) -> None:
    aliased = "subscription { events { " + " ".join(f"a{n}: cursor" for n in range(31)) + " } }"
    async with socket(live) as ws:
        await init(ws, platform)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": aliased}}))
        message = await receive(ws)
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
        huge = "{ platform { id } }" + " " * 60_000
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": huge}}))
        assert await closed_with(ws) == 4400
        assert "exceeds the limit of 50000 bytes" in (ws.close_reason or "")


async def test_limits_apply_to_subscriptions_over_sse(
    live: LiveServer, platform: PlatformHandle
) -> None:
    query = "subscription { events { object { ... on User { " + platform_bomb(14) + " } } } }"
    headers = {**platform.headers, "Accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=live.http, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code < 500
    assert "QUERY_TOO_DEEP" in response.text, response.text
