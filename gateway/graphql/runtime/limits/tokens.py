"""TOO_MANY_TOKENS: graphql-core's lexer counts the tokens while parsing, comments included,
and aborts past `max_tokens`; the count where it stopped is not known, so no `measured`.

Strawberry's `MaxTokensLimiter` sets the same parse option, as an extension of its own that
leaves graphql-core's message uncoded; the option is one line here, next to the recoding.
"""

from __future__ import annotations

from graphql import GraphQLError

from gateway.graphql.runtime.limits.refusal import recode

TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
_ABORTED = ("tokens. Parsing aborted.", "comments. Parsing aborted.")


def limit_tokens(parse_options: dict[str, object], limit: int) -> None:
    parse_options["max_tokens"] = limit


def explain_tokens(error: GraphQLError, limit: int) -> bool:
    """Recode the lexer's token refusal; False for any other error."""
    if not any(ending in error.message for ending in _ABORTED):
        return False
    message = f"Query token count exceeds the limit of {limit}."
    recode(error, TOO_MANY_TOKENS, message, limit=limit)
    return True
