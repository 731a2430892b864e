"""QUERY_TOO_COMPLEX: what an operation may cost, and the cost reported in `extensions`.

Every field costs 1. A connection field (its type is a `...Connection`, or it is a list taking
`first`/`last`) costs 1 plus its selection's cost times its page size: `first` or `last` (a
literal or a variable's value), else `PAGE_SIZE_DEFAULT`. A field taking `ids` (`nodes(ids:)`)
multiplies its selection's cost by the number of ids. So
`users(first: 10) { totalCount nodes { email } }` costs 1 + 10 * (1 + 2) = 31. Requested sizes
are taken as given (`first: 99999999` is expensive); the resolver refuses sizes beyond
`PAGE_SIZE_MAX` anyway. The walk of gateway.graphql.runtime.limits.walk adds the costs up.

The cost of an accepted operation is added to the response's `extensions`
(`{"cost": {"requested": 31, "limit": 20000}}`), on every response with `report_cost`, else
when the request's own `extensions` ask with `{"cost": true}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
)

from gateway.domain.pagination import PAGE_SIZE_DEFAULT
from gateway.graphql.runtime.limits.refusal import over_limit

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
PAGE_ARGUMENTS = ("first", "last")
SIZE_ARGUMENTS = frozenset({*PAGE_ARGUMENTS, "ids"})  # the arguments a cost depends on


def _page_size(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    return None


def is_connection(definition: GraphQLField) -> bool:
    named = get_named_type(definition.type)
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        return True
    paged = not definition.args.keys().isdisjoint(PAGE_ARGUMENTS)
    return paged and is_list_type(get_nullable_type(definition.type))


def _argument(node: FieldNode, name: str, variables: dict[str, Any]) -> object:
    """The argument's value; the last one written when repeated (validation refuses that)."""
    for argument in reversed(node.arguments or ()):
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, variables)
    return None


def multiplier(node: FieldNode, definition: GraphQLField | None, variables: dict[str, Any]) -> int:
    """How many times the field's selection is paid for: its page size or its ids, else 1."""
    if definition is None:
        return 1
    if "ids" in definition.args:
        ids = _argument(node, "ids", variables)
        return len(ids) if isinstance(ids, list) else 1
    if is_connection(definition):
        sizes = (_page_size(_argument(node, name, variables)) for name in PAGE_ARGUMENTS)
        given = [size for size in sizes if size is not None]
        return max(given) if given else PAGE_SIZE_DEFAULT
    return 1


def check_cost(cost: int, limit: int) -> GraphQLError | None:
    return over_limit(QUERY_TOO_COMPLEX, "cost", cost, limit)


def cost_report(
    cost: int, limit: int, *, report_cost: bool, asked: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The response's `extensions` for an accepted operation that cost `cost`."""
    if not (report_cost or (asked or {}).get("cost") is True):
        return {}
    return {"cost": {"requested": cost, "limit": limit}}
