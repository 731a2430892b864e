"""Compiled reads answer exactly as the general executor, and say so; what they cannot answer
goes to the general executor, counted (tests/compiled/ compares thousands of documents)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.graphql.compiled import EXECUTION_HEADER, STATS
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.support import StatementCounter, data
from tests.support.calls import mutate, success
from tests.support.inputs import transfer_input
from tests.support.payments import funded_account
from tests.support.platforms import PlatformHandle
from tests.support.tokens import as_user, user_token

NESTED = """
query Nested($first: Int!) {
  platform {
    id name
    users(first: $first) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id } }
      nodes {
        __typename id email kind status validationStatus qualifiedAt validationReasons
        holder {
          __typename id
          ... on NaturalPerson { firstName lastName birthDate nationality }
          ... on LegalPerson { legalName representatives { id firstName } }
        }
        persons { id ... Names }
        requirements { __typename }
        accounts(first: 1) {
          totalCount pageInfo { hasNextPage endCursor }
          nodes { id currency status balance { amount currency decimal } user { id } }
        }
        more: accounts(last: 1) { nodes { id } }
      }
    }
  }
}
fragment Names on NaturalPerson { firstName lastName }
"""


TRANSFER = """mutation ($input: CreateTransferInput!) { createTransfer(input: $input) {
  __typename ... on CreateTransferSuccess { transfer { id } } } }"""


@pytest.fixture
async def general(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The same gateway with every document on the general executor."""
    app = create_app(settings.model_copy(update={"compiled_reads": False}), db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def _both(
    client: httpx.AsyncClient,
    general: httpx.AsyncClient,
    body: dict[str, Any],
    headers: dict[str, str],
) -> tuple[httpx.Response, httpx.Response]:
    """The answers of the general and the compiled gateway, required byte-identical."""
    expected = await general.post("/graphql", json=body, headers=headers)
    found = await client.post("/graphql", json=body, headers=headers)
    assert found.status_code == expected.status_code
    assert found.headers["content-type"] == expected.headers["content-type"]
    assert found.content == expected.content
    assert expected.headers[EXECUTION_HEADER] == "general"
    return expected, found


async def test_a_nested_read_is_compiled_and_answers_byte_for_byte(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    for first in (3, 11, 50):  # a page, exactly all, more than all
        body = {"query": NESTED, "variables": {"first": first}}
        _, found = await _both(client, general, body, platform.headers)
        assert found.headers[EXECUTION_HEADER] == "compiled"
        assert len(found.json()["data"]["platform"]["users"]["nodes"]) == min(first, 11)


async def test_the_second_request_takes_the_lean_path_with_the_same_answer(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = {"query": NESTED, "variables": {"first": 5}, "operationName": "Nested"}
    first = await client.post("/graphql", json=body, headers=platform.headers)
    lean_before = STATS.lean
    _, second = await _both(client, general, body, platform.headers)
    assert STATS.lean == lean_before + 1
    assert second.content == first.content
    assert second.json()["extensions"]["cost"]["requested"] > 0  # the cost report stays


async def test_the_lean_path_negotiates_and_refuses_as_the_pipeline(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = "query Find($email: String, $first: Int) {"
    query += " platform { users(first: $first, filter: {email: $email}) { totalCount } } }"
    warm = {"query": query, "variables": {"email": "nobody@example.com", "first": 5}}
    await client.post("/graphql", json=warm, headers=platform.headers)  # proven from now on
    official = {**platform.headers, "accept": "application/graphql-response+json"}
    answers = [
        (warm, official),  # the specification's media type
        ({**warm, "variables": {"email": "a\u0000b", "first": 5}}, platform.headers),  # NUL
        ({**warm, "variables": {"email": None, "first": 100_000}}, platform.headers),  # cost
        ({**warm, "variables": {"email": None, "first": "five"}}, platform.headers),  # type
        ({**warm, "extensions": {"cost": True}}, platform.headers),
    ]
    for body, headers in answers:
        await _both(client, general, body, headers)


async def test_an_error_hands_the_operation_back_with_the_specified_null_propagation(
    client: httpx.AsyncClient, general: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await funded_account(client, sandbox, 5_000)
    theirs = await funded_account(client, sandbox, 0)
    user = as_user(sandbox, await user_token(client, sandbox, mine.user_id))
    payload = await mutate(
        client, user, TRANSFER, transfer_input(mine.account_id, theirs.account_id, 100)
    )
    transfer = success(payload, "CreateTransferSuccess")["transfer"]
    other_side = "query ($id: ID!) { node(id: $id) { ... on Transfer { creditedAccount { id } } } }"
    body = {"query": other_side, "variables": {"id": transfer["id"]}}
    handed_back = sum(STATS.fallbacks.values())
    _, found = await _both(client, general, body, user.headers)
    assert found.headers[EXECUTION_HEADER] == "general"
    assert sum(STATS.fallbacks.values()) == handed_back + 1
    answer = found.json()
    assert answer["data"] == {"node": None}
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_what_a_plan_does_not_cover_goes_to_the_general_executor(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    before = STATS.fallbacks.copy()
    body = {"query": "{ __schema { queryType { name } } platform { id } }"}
    _, found = await _both(client, general, body, platform.headers)
    assert found.headers[EXECUTION_HEADER] == "general"
    assert (STATS.fallbacks - before) == {"introspection field __schema": 1}


async def test_a_mutation_is_general_and_no_fallback(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    before = STATS.fallbacks.copy()
    mine = await funded_account(client, sandbox, 0)
    revoke = "mutation ($id: ID!) { revokeUserTokens(input: {userId: $id}) { __typename } }"
    body = {"query": revoke, "variables": {"id": mine.user_id}}
    response = await client.post("/graphql", json=body, headers=sandbox.headers)
    assert response.headers[EXECUTION_HEADER] == "general"
    assert STATS.fallbacks == before


async def test_include_and_skip_take_a_plan_per_value(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = """query ($full: Boolean!, $first: Int!) {
      platform { users(first: $first) { nodes {
        id email @include(if: $full) kind @skip(if: $full)
        ...on User @include(if: $full) { accounts(first: 1) { totalCount } }
      } } } }"""
    for full in (True, False, True):
        body = {"query": query, "variables": {"full": full, "first": 2}}
        _, found = await _both(client, general, body, platform.headers)
        assert found.headers[EXECUTION_HEADER] == "compiled"
        user = found.json()["data"]["platform"]["users"]["nodes"][0]
        assert ("email" in user) is full
        assert ("kind" in user) is not full


async def test_compiled_reads_cost_no_more_statements(
    client: httpx.AsyncClient,
    general: httpx.AsyncClient,
    platform: PlatformHandle,
    statements: StatementCounter,
) -> None:
    counts = []
    for http in (general, client, client):  # the general executor, the pipeline, the lean path
        await data(http, "{ __typename }", headers=platform.headers)
        statements.start()
        await http.post(
            "/graphql", json={"query": NESTED, "variables": {"first": 11}}, headers=platform.headers
        )
        counts.append(statements.stop())
    assert counts[1] <= counts[0]
    assert counts[2] <= counts[0]


async def test_a_get_request_takes_the_lean_path_too(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    params = {"query": NESTED, "variables": '{"first": 2}', "operationName": "Nested"}
    await client.get("/graphql", params=params, headers=platform.headers)  # proven
    lean_before = STATS.lean
    expected = await general.get("/graphql", params=params, headers=platform.headers)
    found = await client.get("/graphql", params=params, headers=platform.headers)
    assert STATS.lean == lean_before + 1
    assert (found.status_code, found.content) == (expected.status_code, expected.content)
    broken = {**params, "variables": "{not json"}  # the pipeline's refusal, not the lean path's
    expected = await general.get("/graphql", params=broken, headers=platform.headers)
    found = await client.get("/graphql", params=broken, headers=platform.headers)
    assert (found.status_code, found.content) == (expected.status_code, expected.content)
    assert found.status_code == 400


async def test_a_request_error_does_not_leak_into_the_next_request(
    general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    """What a request notes for its answer (a request error's 400, its executor) is its own,
    even where every request of the app is handed the same state dict (asgi-lifespan)."""
    official = {**platform.headers, "accept": "application/graphql-response+json"}
    refused = await general.post("/graphql", json={"query": "{ nope }"}, headers=official)
    assert refused.status_code == 400
    answered = await general.post("/graphql", json={"query": "{ __typename }"}, headers=official)
    assert answered.status_code == 200


async def test_a_persisted_query_named_by_its_hash_takes_the_lean_path(
    client: httpx.AsyncClient, general: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = "query Named { platform { id name users(first: 2) { totalCount } } }"
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    for http in (client, general):  # each stores it, and the compiled app proves it
        await http.post(
            "/graphql", json={"query": query, "extensions": extensions}, headers=platform.headers
        )
    lean_before = STATS.lean
    await _both(client, general, {"extensions": extensions}, platform.headers)
    assert STATS.lean == lean_before + 1
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}  # a miss: the pipeline's
    _, found = await _both(client, general, {"extensions": wrong}, platform.headers)
    assert found.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
