"""Automatic persisted queries, Apollo's protocol, over POST and GET, on both stores (the
process's LRU and Redis): a hash alone misses (200 `PERSISTED_QUERY_NOT_FOUND`, which makes
Apollo's link send the document), a hash with its document is checked, stored and executed, a
known hash alone runs the stored document, and the document still meets every limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.persisted import REDIS_URL, app_client, apq, codes, fresh_query, get_params

NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
NOT_SUPPORTED = {
    "errors": [
        {
            "message": "PersistedQueryNotSupported",
            "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
        }
    ]
}


@pytest.fixture(params=["memory", "redis"])
async def http(
    request: pytest.FixtureRequest, db: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    redis_url = REDIS_URL if request.param == "redis" else None
    async with app_client(settings.model_copy(update={"redis_url": redis_url}), db) as client:
        yield client


class Requests:
    """The same request over POST (a JSON body) or GET (query parameters)."""

    def __init__(self, http: httpx.AsyncClient, platform: PlatformHandle, method: str) -> None:
        self.http, self.headers, self.method = http, platform.headers, method

    async def send(self, **body: Any) -> httpx.Response:
        if self.method == "POST":
            return await self.http.post("/graphql", json=body, headers=self.headers)
        return await self.http.get("/graphql", params=get_params(body), headers=self.headers)


@pytest.fixture(params=["POST", "GET"])
def requests(
    request: pytest.FixtureRequest, http: httpx.AsyncClient, platform: PlatformHandle
) -> Requests:
    return Requests(http, platform, request.param)


async def test_a_hash_alone_misses_then_its_document_is_stored_and_the_hash_alone_runs_it(
    requests: Requests,
) -> None:
    query = fresh_query()
    missed = await requests.send(operationName="Fresh", extensions=apq(query))
    assert (missed.status_code, missed.json()) == (200, NOT_FOUND)

    registered = await requests.send(query=query, extensions=apq(query))
    assert registered.status_code == 200
    assert "errors" not in registered.json()

    by_hash = await requests.send(operationName="Fresh", extensions=apq(query))
    assert by_hash.status_code == 200
    assert by_hash.json()["data"] == registered.json()["data"]
    assert next(iter(by_hash.json()["data"]["platform"].values()))


async def test_a_document_whose_hash_is_not_its_own_is_refused_and_never_stored(
    requests: Requests,
) -> None:
    query, other = fresh_query(), fresh_query()
    lying = await requests.send(query=other, extensions=apq(query))
    assert lying.status_code == 400
    assert codes(lying) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "data" not in lying.json()

    after = await requests.send(extensions=apq(query))
    assert after.json() == NOT_FOUND


@pytest.mark.parametrize("version", [2, 0, "1", None])
async def test_only_version_1_of_the_protocol_is_served(
    requests: Requests, version: object
) -> None:
    query = fresh_query()
    with_document = await requests.send(query=query, extensions=apq(query, version=version))
    by_hash = await requests.send(extensions=apq(query, version=version))
    for response in (with_document, by_hash):
        assert response.status_code == 400
        assert codes(response) == ["PERSISTED_QUERY_VERSION_NOT_SUPPORTED"]


async def test_a_stored_mutation_runs_by_hash_over_post_only(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    mutation = (
        'mutation NoEndpoint { deleteWebhookEndpoint(input: {id: "V2ViaG9vazow"}) { __typename } }'
    )
    body = {"query": mutation, "extensions": apq(mutation)}
    posted = await http.post("/graphql", json=body, headers=platform.headers)
    assert posted.status_code == 200
    assert posted.json()["data"]["deleteWebhookEndpoint"]["__typename"]

    again = await http.post(
        "/graphql", json={"extensions": apq(mutation)}, headers=platform.headers
    )
    assert again.status_code == 200
    assert again.json()["data"] == posted.json()["data"]

    params = get_params({"extensions": apq(mutation)})
    over_get = await http.get("/graphql", params=params, headers=platform.headers)
    assert over_get.status_code == 405
    assert codes(over_get) == ["METHOD_NOT_ALLOWED"]


async def test_the_limits_apply_to_a_stored_document(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    aliased = "{ platform { " + " ".join(f"a{n}: id" for n in range(31)) + " } }"
    body = {"query": aliased, "extensions": apq(aliased)}
    sent = await http.post("/graphql", json=body, headers=platform.headers)
    by_hash = await http.post(
        "/graphql", json={"extensions": apq(aliased)}, headers=platform.headers
    )
    assert codes(sent) == ["TOO_MANY_ALIASES"]
    assert codes(by_hash) == ["TOO_MANY_ALIASES"]  # stored (it hashes right), still refused


async def test_a_document_over_the_size_limit_is_refused_and_not_stored(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    huge = fresh_query() + " " * 50_000
    body = {"query": huge, "extensions": apq(huge)}
    sent = await http.post("/graphql", json=body, headers=platform.headers)
    assert codes(sent) == ["QUERY_TOO_LARGE"]
    by_hash = await http.post("/graphql", json={"extensions": apq(huge)}, headers=platform.headers)
    assert by_hash.json() == NOT_FOUND


async def test_a_hash_alone_is_answered_in_the_negotiated_media_type(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    accept = "application/graphql-response+json,application/json;q=0.9"
    headers = {**platform.headers, "Accept": accept}
    body = {"extensions": apq(fresh_query())}
    response = await http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json() == NOT_FOUND


async def test_a_request_without_a_query_or_a_hash_is_still_a_bad_request(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = {"extensions": {"persistedQuery": {"version": 1}}}  # no hash: not a persisted query
    response = await http.post("/graphql", json=body, headers=platform.headers)
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


# Off


@pytest.fixture
async def apq_off(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings.model_copy(update={"persisted_queries": False}), db) as client:
        yield client


async def test_when_off_a_hash_alone_is_told_persisted_queries_are_not_supported(
    apq_off: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = fresh_query()
    sent = await apq_off.post(
        "/graphql", json={"query": query, "extensions": apq(query)}, headers=platform.headers
    )
    assert "errors" not in sent.json()  # executed, not stored
    posted = await apq_off.post(
        "/graphql", json={"extensions": apq(query)}, headers=platform.headers
    )
    params = get_params({"extensions": apq(query)})
    got = await apq_off.get("/graphql", params=params, headers=platform.headers)
    for response in (posted, got):
        assert (response.status_code, response.json()) == (200, NOT_SUPPORTED)


async def test_when_off_the_hash_sent_with_a_document_is_not_read(
    apq_off: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = {"query": fresh_query(), "extensions": apq("something else")}
    response = await apq_off.post("/graphql", json=body, headers=platform.headers)
    assert response.status_code == 200
    assert "errors" not in response.json()
