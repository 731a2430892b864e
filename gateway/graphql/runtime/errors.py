"""Error policy: every error carries an `extensions.code`; internal errors are masked and logged.

- Errors a client can act on keep their message: domain errors (`BAD_USER_INPUT`...), syntax
  errors (`GRAPHQL_PARSE_FAILED`), validation errors (`GRAPHQL_VALIDATION_FAILED`) and bad
  variable values (`BAD_USER_INPUT`).
- Anything else raised while resolving a field is a bug: the client sees
  `INTERNAL_SERVER_ERROR` with a `reference` and the `requestId`, never the exception's text;
  the log record carries both, the path, the caller's credential name and the traceback
  (one JSON line in production, see gateway.logs).
- The policy applies to every result, streamed ones (subscriptions over SSE and WebSocket)
  included.
- In production (`ProductionErrorPolicy`) no message suggests names ("Did you mean ...?"), so
  a schema cannot be guessed through its errors once introspection is off.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.domain.errors import DomainError
from gateway.logs import current_request_id

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


def classify(error: GraphQLError, *, credential: str | None = None) -> GraphQLError:
    """The error as the client may see it."""
    original = error.original_error
    if isinstance(original, DomainError):
        return _with_code(error, original.code)
    if error.extensions and "code" in error.extensions:
        return error
    if error.path is None:
        return _with_code(error, _request_error_code(error))
    reference = uuid.uuid4().hex[:16]
    path = ".".join(str(part) for part in error.path)
    request_id = current_request_id()
    logger.error(
        "internal error %s at %s",
        reference,
        path,
        exc_info=original or error,
        extra={
            "request_id": request_id,
            "reference": reference,
            "path": path,
            "credential": credential,
        },
    )
    masked = _with_code(error, "INTERNAL_SERVER_ERROR", "Internal server error.")
    masked.extensions["reference"] = reference  # type: ignore[index]
    if request_id is not None:
        masked.extensions["requestId"] = request_id  # type: ignore[index]
    return masked


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(error: GraphQLError) -> GraphQLError:
    error.message = _SUGGESTION.sub("", error.message)
    return error


def _credential(context: Any) -> str | None:
    principal = getattr(context, "principal", None)
    credential = getattr(principal, "credential", None)
    return credential if isinstance(credential, str) else None


class ErrorPolicy(SchemaExtension):
    hide_suggestions: ClassVar[bool] = False

    def on_operation(self) -> Iterator[None]:
        yield
        self._apply(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._apply(result)  # each result of a stream (SSE, WebSocket), before it is sent
        yield

    def _apply(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            credential = _credential(self.execution_context.context)
            result.errors = [classify(error, credential=credential) for error in errors]
            if self.hide_suggestions:
                result.errors = [without_suggestions(error) for error in result.errors]


class ProductionErrorPolicy(ErrorPolicy):
    hide_suggestions = True
