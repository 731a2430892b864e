"""One operation per request: a document that holds several operations must name the one to
run (`operationName`), or the request is refused.

The GraphQL specification (GetOperation) makes an unnamed choice among several operations a
request error. Strawberry's execution context answers the first operation's name when the
request names none, so graphql-core never sees the ambiguity and the first operation would
quietly run. This extension restores the rule before validation, on every transport.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.graphql.runtime import metrics

MESSAGE = "Must provide operation name if query contains multiple operations."


def requested_operation_name(context: ExecutionContext) -> str | None:
    """The name the request gave (`operationName`), not the first operation's that Strawberry's
    `operation_name` falls back to. Strawberry keeps it only as a private attribute; a test
    fails when that changes."""
    name: str | None = context._provided_operation_name
    return name


class OperationChoice(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            metrics.note_operation(context.operation_name)
        if (
            document is not None
            and context.pre_execution_errors is None
            and requested_operation_name(context) is None
            and sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
        ):
            error = GraphQLError(MESSAGE, extensions={"code": "BAD_REQUEST"})
            context.pre_execution_errors = [error]  # and the specified rules do not run
        yield
