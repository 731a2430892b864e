"""The one shape of a refusal: a GraphQL error whose `extensions` carry the limit's own `code`,
the `limit` and, where it is known, the `measured` value.

A limit checked after parsing makes a new error; a limit graphql-core's parser enforces
(`max_source_length`, `max_tokens`, its nesting guard) recodes the parser's own error in place,
since a transport may already hold that object.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


def refusal_extensions(code: str, limit: int, measured: int | None = None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": code, "limit": limit}
    if measured is not None:
        extensions["measured"] = measured
    return extensions


def refusal(code: str, message: str, *, limit: int, measured: int | None = None) -> GraphQLError:
    return GraphQLError(message, extensions=refusal_extensions(code, limit, measured))


def recode(
    error: GraphQLError, code: str, message: str, *, limit: int, measured: int | None = None
) -> None:
    """Turn graphql-core's parse error into our refusal, keeping the object."""
    error.message = message
    error.extensions = refusal_extensions(code, limit, measured)


def over_limit(code: str, what: str, measured: int, limit: int) -> GraphQLError | None:
    """`Query <what> <measured> exceeds the limit of <limit>.`, or None within the limit."""
    if measured <= limit:
        return None
    message = f"Query {what} {measured} exceeds the limit of {limit}."
    return refusal(code, message, limit=limit, measured=measured)
