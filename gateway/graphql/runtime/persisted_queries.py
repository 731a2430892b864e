"""Automatic persisted queries (Apollo's `extensions.persistedQuery`) are not supported.

A client with Apollo's persisted-query link first sends only the document's hash. The answer
to such a request is HTTP 200 with the GraphQL error `PersistedQueryNotSupported` (code
`PERSISTED_QUERY_NOT_SUPPORTED`): the link then sends the full document, and stops sending
hashes for the rest of its life. A request that carries its document as well as a hash is
executed as any other (the hash is ignored).
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import GraphQLFormattedError

NOT_SUPPORTED: GraphQLFormattedError = {
    "message": "PersistedQueryNotSupported",
    "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
}


def is_hash_only(query: object, extensions: Mapping[str, object] | None) -> bool:
    """A request naming a persisted query by its hash, without the document."""
    if query not in (None, "") or not extensions:
        return False
    persisted = extensions.get("persistedQuery")
    return isinstance(persisted, Mapping) and "sha256Hash" in persisted


class PersistedQueryNotSupported(Exception):
    """Raised while a request is read; answered with `NOT_SUPPORTED`."""
