"""QUERY_TOO_DEEP: fields nested in fields (`{ platform { name } }` is 2; fragments add no
level), measured by the walk of gateway.graphql.runtime.limits.walk.

A document can be too deep at three moments, all refused with this code and `depth_max`:
graphql-core's recursive descent parser stops a document nested too deeply for it (a syntax
error, recoded here), the walk can reach the interpreter's recursion limit (too deep to
measure), and the measured depth can exceed the limit.

Strawberry's `QueryDepthLimiter` does not fit: it counts from 0 (`{ platform { name } }` is 1),
refuses with an uncoded message as a validation rule beside the specified rules, and expands a
fragment at every spread.
"""

from __future__ import annotations

from graphql import GraphQLError

from gateway.graphql.runtime.limits.refusal import over_limit, recode, refusal

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"


def explain_parse_depth(error: GraphQLError, limit: int) -> bool:
    """Recode the parser's nesting refusal; False for any other error."""
    if "nested too deeply" not in error.message:
        return False
    recode(error, QUERY_TOO_DEEP, "Query is nested too deeply to parse.", limit=limit)
    return True


def too_deep_to_measure(limit: int) -> GraphQLError:
    return refusal(QUERY_TOO_DEEP, "Query is nested too deeply to measure.", limit=limit)


def check_depth(depth: int, limit: int) -> GraphQLError | None:
    return over_limit(QUERY_TOO_DEEP, "depth", depth, limit)
