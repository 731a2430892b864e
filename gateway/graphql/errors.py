"""Error policy: every error carries an `extensions.code`; internal errors are masked and logged.

- Errors a client can act on keep their message: domain errors (`BAD_USER_INPUT`...), syntax
  errors (`GRAPHQL_PARSE_FAILED`), validation errors (`GRAPHQL_VALIDATION_FAILED`) and bad
  variable values (`BAD_USER_INPUT`).
- Anything else raised while resolving a field is a bug: the client sees
  `INTERNAL_SERVER_ERROR` with a reference, and the log has the traceback under that reference.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.domain.errors import DomainError

logger = logging.getLogger("gateway.graphql")


def _request_error_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith(("Variable '$", "OneOf Input Object")):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _with_code(error: GraphQLError, code: str, message: str | None = None) -> GraphQLError:
    return GraphQLError(
        message if message is not None else error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def classify(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it."""
    original = error.original_error
    if isinstance(original, DomainError):
        return _with_code(error, original.code)
    if error.extensions and "code" in error.extensions:
        return error
    if error.path is None:
        return _with_code(error, _request_error_code(error))
    reference = uuid.uuid4().hex[:16]
    logger.error(
        "internal error %s at %s",
        reference,
        ".".join(str(part) for part in error.path),
        exc_info=original or error,
    )
    masked = _with_code(error, "INTERNAL_SERVER_ERROR", "Internal server error.")
    masked.extensions["reference"] = reference  # type: ignore[index]
    return masked


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [classify(error) for error in errors]
