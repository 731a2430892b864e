"""`QueryLimiter`: the one schema extension that runs every limit in order, so every transport
(HTTP, SSE, graphql-transport-ws) goes through them.

- Before parsing, the size (`QUERY_TOO_LARGE`) and token (`TOO_MANY_TOKENS`) limits set
  graphql-core's parse options. While parsing, its parser also stops a document nested too
  deeply for its recursive descent (`QUERY_TOO_DEEP`). These are syntax errors, recoded in
  place after parsing: over graphql-transport-ws the protocol closes the socket with 4400, the
  close reason carrying the message.
- Before validation, the document is measured once (or its measure found in the cache) and the
  depth, aliases, directives and cost limits refuse it, each with its error, in that order. A
  refused document is not validated at all, so the specified rules never spend time on a bomb.
  An accepted one is validated with the coded introspection depth rule.
- After execution, the cost of an accepted operation goes to the response's `extensions`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, cast

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension

from gateway.graphql.runtime.limits.aliases import check_aliases
from gateway.graphql.runtime.limits.cache import MeasureCache, measure_key
from gateway.graphql.runtime.limits.config import QueryLimits
from gateway.graphql.runtime.limits.cost import check_cost, cost_report
from gateway.graphql.runtime.limits.depth import (
    check_depth,
    explain_parse_depth,
    too_deep_to_measure,
)
from gateway.graphql.runtime.limits.directives import check_directives
from gateway.graphql.runtime.limits.introspection import with_coded_introspection_depth
from gateway.graphql.runtime.limits.size import document_bytes, explain_size, limit_size
from gateway.graphql.runtime.limits.tokens import explain_tokens, limit_tokens
from gateway.graphql.runtime.limits.walk import Measure, measure
from gateway.graphql.runtime.tracing import note_cost


def refusals(limits: QueryLimits, found: Measure, directives: int) -> list[GraphQLError]:
    """The errors of every limit a measured document exceeds, in order."""
    checked = (
        check_depth(found.depth, limits.depth_max),
        check_aliases(found.aliases, limits.aliases_max),
        check_directives(directives, limits.directives_max),
        check_cost(found.cost, limits.cost_max),
    )
    return [error for error in checked if error is not None]


def checked(
    limits: QueryLimits,
    cache: MeasureCache,
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> tuple[list[GraphQLError], int | None]:
    """The refusals of a parsed document with these variables, and its cost when accepted
    (measured once per text and variables the cost depends on, then found in `cache`)."""
    try:
        facts = cache.facts_of(query, document)
        key = measure_key(query, operation_name, facts, variables)
        found = cache.measures.get(key) or measure(
            schema, document, variables=variables, operation_name=operation_name
        )
    except RecursionError:
        return [too_deep_to_measure(limits.depth_max)], None
    errors = refusals(limits, found, facts.directives)
    if errors:
        return errors, None
    cache.measures.put(key, found)
    return [], found.cost


class QueryLimiter(SchemaExtension):
    """Applies `QueryLimits` to each operation (see the module docstring)."""

    def __init__(self, *, limits: QueryLimits, cache: MeasureCache | None = None) -> None:
        super().__init__()
        self.limits = limits
        self.cache = cache or MeasureCache()
        self.size_bytes = 0
        self.cost: int | None = None

    @classmethod
    def factory(
        cls, limits: QueryLimits, cache: MeasureCache | None = None
    ) -> Callable[[], QueryLimiter]:
        return functools.partial(cls, limits=limits, cache=cache or MeasureCache())

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        self.size_bytes = document_bytes(context.query)
        # Strawberry types only max_tokens; graphql-core's parse also takes max_source_length.
        options = cast("dict[str, object]", context.parse_options)
        limit_tokens(options, self.limits.tokens_max)
        limit_size(options, self.size_bytes, self.limits.document_bytes_max)
        yield
        for error in context.pre_execution_errors or ():
            self._explain(error)

    def _explain(self, error: GraphQLError) -> None:
        """Recode graphql-core's parse refusal as the first limit that owns it."""
        limits = self.limits
        if explain_size(error, self.size_bytes, limits.document_bytes_max):
            return
        if explain_tokens(error, limits.tokens_max):
            return
        explain_parse_depth(error, limits.depth_max)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            errors = self._check(document)
            if errors:
                context.pre_execution_errors = errors  # and the specified rules do not run
            else:
                rules = context.validation_rules
                context.validation_rules = with_coded_introspection_depth(rules)
        yield

    def _check(self, document: DocumentNode) -> list[GraphQLError]:
        context = self.execution_context
        errors, cost = checked(
            self.limits,
            self.cache,
            context.schema._schema,
            context.query or "",
            document,
            context.operation_name,
            context.variables,
        )
        self.cost = cost
        if cost is not None:
            note_cost(cost)  # on the operation's span, when traced
        return errors

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context
        if self.cost is None or context.pre_execution_errors:
            return {}
        limits = self.limits
        return cost_report(
            self.cost,
            limits.cost_max,
            report_cost=limits.report_cost,
            asked=context.operation_extensions,
        )
