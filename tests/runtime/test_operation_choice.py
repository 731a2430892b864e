"""A document with several operations runs the one the request names, and only then."""

from __future__ import annotations

import httpx
import pytest
from strawberry.types import ExecutionContext

from gateway.graphql.runtime.operation_choice import MESSAGE, requested_operation_name
from gateway.graphql.schema import build_schema
from tests.conftest import PlatformHandle

DOCUMENT = "query A { platform { name } } query B { platform { id } }"


@pytest.mark.parametrize(("name", "field"), [("A", "name"), ("B", "id")])
async def test_the_named_operation_runs(
    client: httpx.AsyncClient, platform: PlatformHandle, name: str, field: str
) -> None:
    body = {"query": DOCUMENT, "operationName": name}
    answer = (await client.post("/graphql", json=body, headers=platform.headers)).json()
    assert list(answer["data"]["platform"]) == [field]


async def test_an_unnamed_choice_is_refused_even_after_the_document_was_validated(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    named = {"query": DOCUMENT, "operationName": "A"}
    assert "data" in (await client.post("/graphql", json=named, headers=platform.headers)).json()
    answer = (
        await client.post("/graphql", json={"query": DOCUMENT}, headers=platform.headers)
    ).json()
    assert answer == {"errors": [{"message": MESSAGE, "extensions": {"code": "BAD_REQUEST"}}]}


def test_the_requested_name_is_told_apart_from_strawberrys_fallback() -> None:
    schema = build_schema()
    unnamed = ExecutionContext(query=DOCUMENT, schema=schema, allowed_operations=())
    named = ExecutionContext(
        query=DOCUMENT, schema=schema, allowed_operations=(), provided_operation_name="B"
    )
    assert requested_operation_name(unnamed) is None
    assert requested_operation_name(named) == "B"
