"""Each query limit on its own (gateway.graphql.runtime.limits): its boundary, its refusal, and
the graphql-core errors the parse-time limits recode. tests/runtime/test_limits.py covers the
walk and the refusals through HTTP on every transport."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, GraphQLSyntaxError, parse, specified_rules, validate
from graphql.validation import MaxIntrospectionDepthRule

from gateway.graphql.runtime.limits import Measure, QueryLimits, measure
from gateway.graphql.runtime.limits.aliases import check_aliases
from gateway.graphql.runtime.limits.cache import document_facts, measure_key
from gateway.graphql.runtime.limits.cost import check_cost, cost_report
from gateway.graphql.runtime.limits.depth import (
    check_depth,
    explain_parse_depth,
    too_deep_to_measure,
)
from gateway.graphql.runtime.limits.directives import check_directives
from gateway.graphql.runtime.limits.introspection import (
    IntrospectionDepthRule,
    with_coded_introspection_depth,
)
from gateway.graphql.runtime.limits.limiter import refusals
from gateway.graphql.runtime.limits.size import document_bytes, explain_size, limit_size
from gateway.graphql.runtime.limits.tokens import explain_tokens, limit_tokens
from gateway.graphql.schema import build_schema


def parse_error(query: str, **options: Any) -> GraphQLError:
    with pytest.raises(GraphQLSyntaxError) as raised:
        parse(query, **options)
    return raised.value


def shape(error: GraphQLError | None) -> tuple[str, dict[str, Any]] | None:
    return None if error is None else (error.message, dict(error.extensions or {}))


# The limits measured before validation: a value at the limit passes, one over is refused


CHECKS = [
    (check_depth, "QUERY_TOO_DEEP", "Query depth 16 exceeds the limit of 15."),
    (check_aliases, "TOO_MANY_ALIASES", "Query alias count 16 exceeds the limit of 15."),
    (check_directives, "TOO_MANY_DIRECTIVES", "Query directive count 16 exceeds the limit of 15."),
    (check_cost, "QUERY_TOO_COMPLEX", "Query cost 16 exceeds the limit of 15."),
]


@pytest.mark.parametrize(("check", "code", "message"), CHECKS, ids=[c[1] for c in CHECKS])
def test_a_measured_limit_lets_its_own_value_through_and_refuses_one_more(
    check: Any, code: str, message: str
) -> None:
    assert check(15, 15) is None
    assert check(0, 15) is None
    assert shape(check(16, 15)) == (message, {"code": code, "limit": 15, "measured": 16})


def test_every_exceeded_limit_is_refused_in_order_depth_aliases_directives_cost() -> None:
    limits = QueryLimits(depth_max=1, aliases_max=1, directives_max=1, cost_max=1)
    every = refusals(limits, Measure(depth=2, aliases=2, cost=2), directives=2)
    assert [error.extensions["code"] for error in every] == [  # type: ignore[index]
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_DIRECTIVES",
        "QUERY_TOO_COMPLEX",
    ]
    assert refusals(limits, Measure(depth=1, aliases=1, cost=1), directives=1) == []


def test_a_walk_too_deep_for_the_interpreter_is_refused_as_too_deep() -> None:
    assert shape(too_deep_to_measure(15)) == (
        "Query is nested too deeply to measure.",
        {"code": "QUERY_TOO_DEEP", "limit": 15},
    )


# The limits graphql-core's parser enforces: the option set, and its own error recoded


def test_the_size_counts_utf8_bytes_and_refuses_only_beyond_the_limit() -> None:
    assert document_bytes("{ a }") == 5
    assert document_bytes('"é€"') == 2 + 2 + 3  # é is 2 bytes, € is 3
    assert document_bytes(None) == 0
    options: dict[str, object] = {}
    limit_size(options, 100, 100)
    assert options == {}
    limit_size(options, 101, 100)
    assert options == {"max_source_length": 0}


def test_an_oversized_document_is_refused_by_the_parser_and_recoded_with_its_size() -> None:
    query = "{ platform { name } }"
    options: dict[str, Any] = {}
    limit_size(options, document_bytes(query), 10)
    error = parse_error(query, **options)
    assert explain_size(error, document_bytes(query), 10)
    assert shape(error) == (
        "Query size 21 bytes exceeds the limit of 10 bytes.",
        {"code": "QUERY_TOO_LARGE", "limit": 10, "measured": 21},
    )
    other = parse_error("{ platform ")
    assert not explain_size(other, 11, 10_000)
    assert other.extensions == {}


def test_too_many_tokens_or_comments_are_recoded_and_other_syntax_errors_are_not() -> None:
    options: dict[str, Any] = {}
    limit_tokens(options, 3)
    assert options == {"max_tokens": 3}
    for error in (
        parse_error("{ a b c d }", **options),
        parse_error("# one\n# two\n# three\n# four\n{ a }", **options),
        parse_error("# one\n# two\n{ a }", max_comments=1),
    ):
        assert explain_tokens(error, 3), error.message
        assert shape(error) == (
            "Query token count exceeds the limit of 3.",
            {"code": "TOO_MANY_TOKENS", "limit": 3},
        )
    other = parse_error("{ a ")
    assert not explain_tokens(other, 3)
    assert not explain_parse_depth(other, 15)
    assert other.message.startswith("Syntax Error: Expected Name")


def test_a_document_nested_too_deeply_to_parse_is_recoded_as_too_deep() -> None:
    error = parse_error("{ nodes(ids: " + "[" * 1_500 + "]" * 1_500 + ") { id } }")
    assert not explain_tokens(error, 5_000)
    assert explain_parse_depth(error, 15)
    assert shape(error) == (
        "Query is nested too deeply to parse.",
        {"code": "QUERY_TOO_DEEP", "limit": 15},
    )


# Introspection depth: graphql-core's rule, coded


def test_the_introspection_depth_rule_replaces_graphql_core_s_and_carries_the_code() -> None:
    assert MaxIntrospectionDepthRule in specified_rules  # else it no longer needs replacing
    rules = with_coded_introspection_depth(specified_rules)
    assert MaxIntrospectionDepthRule not in rules
    assert rules[-1] is IntrospectionDepthRule
    assert len(rules) == len(specified_rules)
    schema = build_schema()._schema
    deep = parse(
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    )
    errors = validate(schema, deep, rules)
    assert [error.extensions for error in errors] == [{"code": "QUERY_TOO_DEEP"}]
    assert validate(schema, parse("{ __schema { types { fields { name } } } }"), rules) == []


# The cost report


def test_the_cost_is_reported_by_default_or_when_the_request_asks_with_true() -> None:
    report = {"cost": {"requested": 31, "limit": 100}}
    assert cost_report(31, 100, report_cost=True, asked=None) == report
    assert cost_report(31, 100, report_cost=False, asked={"cost": True}) == report
    assert cost_report(31, 100, report_cost=False, asked=None) == {}
    assert cost_report(31, 100, report_cost=False, asked={"cost": "yes"}) == {}


def test_a_repeated_size_argument_costs_its_last_value() -> None:
    schema = build_schema()._schema
    repeated = "{ platform { users(first: 1, first: 900) { totalCount } } }"
    assert measure(schema, parse(repeated)).cost == 2 + 900  # validation then refuses it
    ids = '{ nodes(ids: ["a"], ids: ["a", "b"]) { id } }'
    assert measure(schema, parse(ids)).cost == 1 + 2


# The cache key: a measure is shared by requests whose size arguments are the same


def test_only_the_variables_the_cost_reads_tell_two_measures_apart() -> None:
    query = (
        "query ($n: Int, $a: ID, $b: ID, $text: String) { platform {"
        " users(first: $n) { nodes { email(x: $text) } } }"
        " nodes(ids: [$a, $b]) { id @skip(if: false) } }"
    )
    facts = document_facts(parse(query))
    assert facts.size_variables == ("a", "b", "n")
    assert facts.directives == 1

    def key(**variables: object) -> tuple[Any, ...]:
        return measure_key(query, None, facts, variables)

    assert key(n=1, a="x", b="y", text="one") == key(n=1, a="x", b="y", text="two")
    assert key(n=1) != key(n=2)
    assert key(n=1, a="x") != key(n=1, a="x", b="y")
    assert measure_key(query, None, facts, None) != key()
    assert measure_key(query, "Named", facts, {}) != key()
