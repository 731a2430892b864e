"""TOO_MANY_ALIASES: fields with an alias, counted by the walk of
gateway.graphql.runtime.limits.walk (once per use of the fragment that holds them).

Strawberry's `MaxAliasesLimiter` does not fit: it sums the aliases of every operation in the
document rather than those of the operation that runs, expands a fragment at every spread
(exponential when fragments fan out), and refuses with an uncoded message
(`31 aliases found. Allowed: 30`) as a validation rule beside the specified rules.
"""

from __future__ import annotations

from graphql import GraphQLError

from gateway.graphql.runtime.limits.refusal import over_limit

TOO_MANY_ALIASES = "TOO_MANY_ALIASES"


def check_aliases(aliases: int, limit: int) -> GraphQLError | None:
    return over_limit(TOO_MANY_ALIASES, "alias count", aliases, limit)
