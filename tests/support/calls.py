"""GraphQL calls as a platform's client makes them, and the checks on their payloads.

`mutate` sends one mutation and returns its payload (the union member, with its
`__typename`); `success` and `rejected` check which member came back.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import data, graphql
from tests.support.documents import COUNTS_QUERY, PLATFORM_LISTS_QUERY, node_query
from tests.support.platforms import PlatformHandle


async def query(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    document: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a query that must succeed without errors; its data."""
    return await data(client, document, variables, headers=platform.headers)


async def mutate(
    client: httpx.AsyncClient, platform: PlatformHandle, document: str, input: dict[str, Any]
) -> dict[str, Any]:
    """Run a one-field mutation that must not error; its payload (success or rejection)."""
    result = await query(client, platform, document, {"input": input})
    assert len(result) == 1, result
    payload: dict[str, Any] = next(iter(result.values()))
    return payload


async def top_level_error(
    client: httpx.AsyncClient, platform: PlatformHandle, document: str, input: dict[str, Any]
) -> dict[str, Any]:
    """Run a mutation that must fail as a whole; its one error (data must be null)."""
    body = await graphql(client, document, {"input": input}, headers=platform.headers)
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def success(payload: dict[str, Any], typename: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    return payload


def rejected(payload: dict[str, Any], typename: str, code: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    assert payload["code"] == code, payload
    assert payload["message"], payload
    return payload


def field_paths(payload: dict[str, Any]) -> list[str]:
    """The dotted paths of a ValidationRejection, in order."""
    rejected(payload, "ValidationRejection", "VALIDATION_FAILED")
    return [problem["field"] for problem in payload["fields"]]


async def node(
    client: httpx.AsyncClient, platform: PlatformHandle, node_id: str, typename: str
) -> dict[str, Any]:
    """node(id:) read as `typename`: the object must be of that type."""
    found = (await query(client, platform, node_query(typename), {"id": node_id}))["node"]
    assert found is not None, f"node {node_id} not found"
    assert found["__typename"] == typename, found
    result: dict[str, Any] = found
    return result


async def missing(client: httpx.AsyncClient, platform: PlatformHandle, node_id: str) -> bool:
    """True when node(id:) answers null."""
    found = await query(
        client, platform, "query ($id: ID!) { node(id: $id) { id } }", {"id": node_id}
    )
    return found["node"] is None


async def state(client: httpx.AsyncClient, platform: PlatformHandle, *ids: str) -> dict[str, Any]:
    """Everything a rejected request must leave as it was: platform counts and `ids` objects."""
    return await query(client, platform, COUNTS_QUERY, {"ids": list(ids)})


async def platform_lists(client: httpx.AsyncClient, platform: PlatformHandle) -> dict[str, Any]:
    """The platform's transfers, pay-ins and pay-outs (first 100 of each), oldest first."""
    lists: dict[str, Any] = (await query(client, platform, PLATFORM_LISTS_QUERY))["platform"]
    return lists
