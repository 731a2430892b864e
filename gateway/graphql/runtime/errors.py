"""Error policy: every error carries an `extensions.code`; internal errors are masked and logged.

- Errors a client can act on keep their message: domain errors (`BAD_USER_INPUT`...), syntax
  errors (`GRAPHQL_PARSE_FAILED`), validation errors (`GRAPHQL_VALIDATION_FAILED`) and bad
  variable values (`BAD_USER_INPUT`).
- A database out of reach (gateway.store.availability: refused, lost, full, read-only) is
  `SERVICE_UNAVAILABLE`, retryable, answered with HTTP 503 and `Retry-After`: its message says
  to retry, a mutation with the same idempotency key, and never claims success or failure.
- Anything else raised while resolving a field is a bug: the client sees
  `INTERNAL_SERVER_ERROR` with a `reference` and the `requestId`, never the exception's text;
  the log record carries both, the path, the caller's credential name and the traceback
  (one JSON line in production, see gateway.logs).
- The policy applies to every result, streamed ones (subscriptions over SSE and WebSocket)
  included.
- In production (`ProductionErrorPolicy`) no message suggests names ("Did you mean ...?"), so
  a schema cannot be guessed through its errors once introspection is off.

Logging is for operators: ERROR means something is broken here. An internal error is logged
once, at ERROR, with its traceback, reference and request id. A client's mistake (syntax,
validation, bad input, a query limit, a rejection) is one INFO line with its code, path, the
credential and the request id, never a traceback, and never its message (which may quote
variable values). Strawberry's own `process_errors` logs every error at ERROR on
`strawberry.execution`, a typo with the weight of a bug and a bug twice; `MaskingSchema`
replaces it. It also classifies the errors in place: it is the one hook that sees an exception
raised by a schema extension itself (which reaches the result outside every extension, its
message unmasked), and classifying twice changes nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.domain.errors import DomainError
from gateway.graphql.runtime import metrics
from gateway.logs import current_request_id
from gateway.store.availability import unavailable

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


def _unexpected(error: GraphQLError) -> bool:
    """An exception no client could cause, raised outside any field (a schema extension's):
    not located in the document, as a scalar's refusal of a literal or a variable is."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, GraphQLError | DomainError)
        and not error.locations
    )


UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_RETRY_AFTER_S = 1
UNAVAILABLE_MESSAGE = (
    "The database is unavailable right now: retry shortly. A mutation may or may not have been"
    " applied; retry it with the same idempotency key, which applies it at most once."
)


def unavailable_error() -> dict[str, Any]:
    """The formatted error of a request the database could not serve (HTTP 503)."""
    extensions: dict[str, Any] = {"code": UNAVAILABLE_CODE}
    request_id = current_request_id()
    if request_id is not None:
        extensions["requestId"] = request_id
    return {"message": UNAVAILABLE_MESSAGE, "extensions": extensions}


def is_unavailable(error: GraphQLError) -> bool:
    return (error.extensions or {}).get("code") == UNAVAILABLE_CODE


def classify(error: GraphQLError, *, credential: str | None = None) -> GraphQLError:
    """The error as the client may see it (internal ones logged at ERROR)."""
    original = error.original_error
    if isinstance(original, DomainError):
        return _with_code(error, original.code)
    if error.extensions and "code" in error.extensions:
        return error
    if original is not None and unavailable(original):
        logger.warning(
            "database unavailable at %s: %s",
            ".".join(str(part) for part in error.path or ()) or "the operation",
            type(original).__name__,
            extra={"request_id": current_request_id(), "credential": credential},
        )
        found = _with_code(error, UNAVAILABLE_CODE, UNAVAILABLE_MESSAGE)
        request_id = current_request_id()
        if request_id is not None:
            found.extensions["requestId"] = request_id  # type: ignore[index]
        return found
    if error.path is None and not _unexpected(error):
        return _with_code(error, _request_error_code(error))
    reference = uuid.uuid4().hex[:16]
    path = ".".join(str(part) for part in error.path or ())
    request_id = current_request_id()
    logger.error(
        "internal error %s at %s",
        reference,
        path or "the operation",
        exc_info=original or error,
        extra={
            "request_id": request_id,
            "reference": reference,
            "path": path or None,
            "credential": credential,
        },
    )
    masked = _with_code(error, "INTERNAL_SERVER_ERROR", "Internal server error.")
    masked.extensions["reference"] = reference  # type: ignore[index]
    if request_id is not None:
        masked.extensions["requestId"] = request_id  # type: ignore[index]
    return masked


def _note_client_error(error: GraphQLError, credential: str | None) -> None:
    code = (error.extensions or {}).get("code")
    if code == "INTERNAL_SERVER_ERROR":
        return  # logged at ERROR when it was masked
    path = ".".join(str(part) for part in error.path) if error.path else None
    logger.info(
        "client error %s at %s",
        code,
        path or "the request",
        extra={
            "request_id": current_request_id(),
            "code": code,
            "path": path,
            "credential": credential,
        },
    )


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


class MaskingSchema(strawberry.Schema):
    """A schema whose errors are classified and logged by this module's policy (see above)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        credential = _credential(execution_context.context if execution_context else None)
        errors[:] = [classify(error, credential=credential) for error in errors]
        for error in errors:
            metrics.note_error((error.extensions or {}).get("code"))
            _note_client_error(error, credential)
