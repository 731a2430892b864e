"""Hash-only persisted-query requests get `PersistedQueryNotSupported` (HTTP 200), which makes
Apollo's persisted-query link send the full document (tests/clients/test_apollo.py runs the
real link); a request with its document and a hash is executed as any other."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from tests.conftest import PlatformHandle

DOCUMENT = "query PlatformName { platform { name } }"
PERSISTED = {
    "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(DOCUMENT.encode()).hexdigest()}
}
NOT_SUPPORTED = {
    "errors": [
        {
            "message": "PersistedQueryNotSupported",
            "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
        }
    ]
}


@pytest.mark.parametrize(
    "accept", [None, "application/json", "application/graphql-response+json,application/json;q=0.9"]
)
async def test_a_hash_only_post_is_told_persisted_queries_are_not_supported(
    client: httpx.AsyncClient, platform: PlatformHandle, accept: str | None
) -> None:
    headers = {**platform.headers, **({"Accept": accept} if accept else {})}
    body = {"operationName": "PlatformName", "variables": {}, "extensions": PERSISTED}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == NOT_SUPPORTED


async def test_a_hash_only_get_is_told_persisted_queries_are_not_supported(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    params = {"operationName": "PlatformName", "extensions": json.dumps(PERSISTED)}
    response = await client.get("/graphql", params=params, headers=platform.headers)
    assert response.status_code == 200
    assert response.json() == NOT_SUPPORTED


async def test_a_document_sent_with_its_hash_is_executed(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = {"query": DOCUMENT, "extensions": PERSISTED}
    posted = await client.post("/graphql", json=body, headers=platform.headers)
    params = {"query": DOCUMENT, "extensions": json.dumps(PERSISTED)}
    got = await client.get("/graphql", params=params, headers=platform.headers)
    for response in (posted, got):
        assert response.status_code == 200
        assert "errors" not in response.json()
        assert response.json()["data"]["platform"]["name"]


async def test_a_request_without_a_query_or_a_hash_is_still_a_bad_request(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = {"extensions": {"persistedQuery": {"version": 1}}}  # no hash: not a persisted query
    response = await client.post("/graphql", json=body, headers=platform.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
