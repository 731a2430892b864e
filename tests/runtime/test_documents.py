"""The document caches (gateway.graphql.runtime.documents): a repeated document is parsed,
measured and validated once, and the caches never change an answer: limits follow each
request's variables, invalid documents and NUL characters are refused every time, and a
schema's cache is its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema

from gateway.graphql.runtime.limits import QueryLimits, limiter, measure
from gateway.graphql.schema import build_schema

NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"  # cost 1 + len(ids)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times the parser, the validation and the cost walk run."""
    counted: Counter[str] = Counter()

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return function(*args, **kwargs)

        return wrapper

    parse = strawberry_schema.parse  # type: ignore[attr-defined]
    monkeypatch.setattr(strawberry_schema, "parse", counting("parse", parse))
    validate = strawberry_schema.validate_document
    monkeypatch.setattr(strawberry_schema, "validate_document", counting("validate", validate))
    monkeypatch.setattr(limiter, "measure", counting("measure", measure))
    return counted


def codes(result: Any) -> list[str]:
    return [error.extensions["code"] for error in result.errors or ()]


async def test_a_repeated_document_is_parsed_measured_and_validated_once(
    calls: Counter[str],
) -> None:
    schema = build_schema()
    for _ in range(3):
        result = await schema.execute("{ __typename }")
        assert result.errors is None
        assert result.data == {"__typename": "Query"}
        assert result.extensions == {"cost": {"requested": 1, "limit": 20_000}}
    assert calls == {"parse": 1, "measure": 1, "validate": 1}


async def test_the_cost_follows_each_request_s_variables(calls: Counter[str]) -> None:
    schema = build_schema(limits=QueryLimits(cost_max=50))
    for size, expected in ((10, 11), (60, None), (10, 11), (20, 21), (10, 11)):
        result = await schema.execute(NODES, variable_values={"ids": ["x"] * size})
        if expected is None:
            assert codes(result) == ["QUERY_TOO_COMPLEX"]
            assert result.errors is not None
            assert result.errors[0].extensions["measured"] == 61  # type: ignore[index]
        else:
            assert result.errors is None, result.errors
            assert result.extensions == {"cost": {"requested": expected, "limit": 50}}
    assert calls["parse"] == 1
    assert calls["measure"] == 3  # sizes 10, 60 and 20; the refusal is not remembered
    assert calls["validate"] == 1


async def test_an_invalid_document_is_refused_and_validated_every_time(
    calls: Counter[str],
) -> None:
    schema = build_schema()
    for _ in range(3):
        result = await schema.execute("{ nope }")
        assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    for _ in range(2):
        assert codes(await schema.execute("{ __typename ")) == ["GRAPHQL_PARSE_FAILED"]
    assert calls["validate"] == 3


async def test_nul_characters_are_refused_though_the_document_is_cached() -> None:
    schema = build_schema()
    assert (await schema.execute(NODES, variable_values={"ids": ["a"]})).errors is None
    refused = await schema.execute(NODES, variable_values={"ids": ["a\x00"]})
    assert codes(refused) == ["BAD_USER_INPUT"]
    literal = '{ nodes(ids: ["a\\u0000"]) { id } }'
    for _ in range(2):
        assert codes(await schema.execute(literal)) == ["BAD_USER_INPUT"]


async def test_each_schema_keeps_its_own_documents_and_limits() -> None:
    variables = {"ids": ["x"] * 40}  # cost 41
    lenient, strict = build_schema(), build_schema(limits=QueryLimits(cost_max=30))
    assert (await lenient.execute(NODES, variable_values=variables)).errors is None
    assert codes(await strict.execute(NODES, variable_values=variables)) == ["QUERY_TOO_COMPLEX"]
    small = build_schema(limits=QueryLimits(document_bytes_max=20))
    assert codes(await small.execute(NODES, variable_values=variables)) == ["QUERY_TOO_LARGE"]


async def test_introspection_stays_refused_in_production_after_development_accepted_it() -> None:
    document = "{ __schema { queryType { name } } }"
    assert (await build_schema().execute(document)).errors is None
    production = build_schema(production=True)
    for _ in range(2):
        refused = codes(await production.execute(document))
        assert set(refused) == {"GRAPHQL_VALIDATION_FAILED"}
