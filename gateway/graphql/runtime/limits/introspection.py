"""QUERY_TOO_DEEP for introspection: graphql-core's `MaxIntrospectionDepthRule` (among its
specified rules since 3.3) bounds the fan-out of `fields`/`interfaces`/`possibleTypes`/
`inputFields`; an accepted document is validated with it coded, in place of the uncoded one."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import ASTValidationRule, GraphQLError
from graphql.validation import MaxIntrospectionDepthRule

from gateway.graphql.runtime.limits.depth import QUERY_TOO_DEEP


class IntrospectionDepthRule(MaxIntrospectionDepthRule):
    """graphql-core's recommended introspection bound, with our code."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {"code": QUERY_TOO_DEEP}
        super().report_error(error)


def with_coded_introspection_depth(
    rules: Sequence[type[ASTValidationRule]],
) -> tuple[type[ASTValidationRule], ...]:
    """The rules with graphql-core's uncoded introspection bound replaced by ours."""
    kept = [rule for rule in rules if rule is not MaxIntrospectionDepthRule]
    return (*kept, IntrospectionDepthRule)
