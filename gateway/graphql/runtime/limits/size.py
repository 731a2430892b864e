"""QUERY_TOO_LARGE: the `query` string's size in UTF-8 bytes, refused before the lexer reads a
character of it (graphql-core's `max_source_length`, set to 0 for an oversized document)."""

from __future__ import annotations

from graphql import GraphQLError

from gateway.graphql.runtime.limits.refusal import recode

QUERY_TOO_LARGE = "QUERY_TOO_LARGE"


def document_bytes(query: str | None) -> int:
    return len((query or "").encode())


def limit_size(parse_options: dict[str, object], size_bytes: int, limit: int) -> None:
    if size_bytes > limit:
        parse_options["max_source_length"] = 0  # the parser refuses it before lexing


def explain_size(error: GraphQLError, size_bytes: int, limit: int) -> bool:
    """Recode the parser's refusal of an oversized document; False when the size fits."""
    if size_bytes <= limit:
        return False
    message = f"Query size {size_bytes} bytes exceeds the limit of {limit} bytes."
    recode(error, QUERY_TOO_LARGE, message, limit=limit, measured=size_bytes)
    return True
