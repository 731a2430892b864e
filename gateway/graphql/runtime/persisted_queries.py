"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

A request names a document by its sha256 (lowercase hex of the UTF-8 text) in
`extensions.persistedQuery: {version: 1, sha256Hash}` (Apollo), or in a top-level `documentId`
(the GraphQL-over-HTTP persisted documents proposal, `sha256:<hex>` or plain hex) or `doc_id`
(Relay's examples). `PersistedQueries.document` turns a request into the text to execute, or
refuses it with a coded error:

- a hash with its document: the hash must be the document's (else `PERSISTED_QUERY_HASH_MISMATCH`,
  400, nothing stored); the document is stored (if no larger than the query size limit), then
  executed;
- a hash alone: the trusted document, else the stored one, else `PersistedQueryNotFound`
  (`PERSISTED_QUERY_NOT_FOUND`, HTTP 200: what makes Apollo's link send the document again);
- `version` other than 1: `PERSISTED_QUERY_VERSION_NOT_SUPPORTED` (400).

The text found goes through everything a sent document goes through (limits, validation, the
operation types the HTTP method allows: a mutation over GET stays a 405).

With APQ off (`MPS_PERSISTED_QUERIES=false`) nothing is stored, and a hash that is not a
trusted document gets `PersistedQueryNotSupported` (200), which makes Apollo's link send full
documents for the rest of its life. With `trusted_only`, a document not in the manifest is
refused with `PERSISTED_QUERY_NOT_TRUSTED` (400), whether sent in full or by hash, and nothing
is ever stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from graphql import GraphQLFormattedError

from gateway.graphql.runtime.persisted_store import MemoryDocuments, PersistedDocuments
from gateway.graphql.runtime.trusted_documents import SHA256_PREFIX, sha256_hex

PERSISTED_QUERIES_MAX = 1_000
QUERY_BYTES_MAX = 50_000
_SHA256 = re.compile(r"[0-9a-f]{64}")

NOT_SUPPORTED: GraphQLFormattedError = {
    "message": "PersistedQueryNotSupported",
    "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
}
NOT_FOUND: GraphQLFormattedError = {
    "message": "PersistedQueryNotFound",
    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
}


class PersistedQueryRefused(Exception):
    """Raised while a request is read; answered with `error` and `status`."""

    def __init__(self, status: int, error: GraphQLFormattedError) -> None:
        super().__init__(error["message"])
        self.status = status
        self.error = error


def _refused(status: int, message: str, code: str) -> PersistedQueryRefused:
    return PersistedQueryRefused(status, {"message": message, "extensions": {"code": code}})


def _not_trusted() -> PersistedQueryRefused:
    return _refused(
        400,
        "This gateway runs only trusted documents, and this one is not among them:"
        " send the hash of a document in its manifest.",
        "PERSISTED_QUERY_NOT_TRUSTED",
    )


def requested_hash(
    extensions: Mapping[str, object] | None, document_id: object = None
) -> tuple[str | None, object]:
    """The hash a request names (lowercased; None when it names none) and the APQ version
    (1 for a `documentId`, which has none)."""
    persisted = (extensions or {}).get("persistedQuery")
    if isinstance(persisted, Mapping) and "sha256Hash" in persisted:
        sha256 = persisted["sha256Hash"]
        return (sha256.lower() if isinstance(sha256, str) else ""), persisted.get("version")
    if isinstance(document_id, str) and document_id:
        return document_id.removeprefix(SHA256_PREFIX).lower(), 1
    return None, None


class PersistedQueries:
    """The trusted documents and the store of automatic persisted queries of one gateway."""

    def __init__(
        self,
        *,
        automatic: bool = True,
        trusted: Mapping[str, str] | None = None,
        trusted_only: bool = False,
        store: PersistedDocuments | None = None,
        document_bytes_max: int = QUERY_BYTES_MAX,
    ) -> None:
        self.automatic = automatic and not trusted_only
        self.trusted: Mapping[str, str] = trusted or {}
        self.trusted_only = trusted_only
        self.store = store or MemoryDocuments(PERSISTED_QUERIES_MAX)
        self.document_bytes_max = document_bytes_max

    async def document(
        self, query: str | None, extensions: Mapping[str, object] | None, document_id: object
    ) -> str | None:
        """The text to execute (None: the request names no document), or a refusal."""
        sha256, version = requested_hash(extensions, document_id)
        if sha256 is not None and (version != 1 or isinstance(version, bool)):
            raise _refused(
                400,
                f"Persisted query version {version!r} is not supported: use version 1.",
                "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
            )
        if query:
            return await self._sent(query, sha256)
        if sha256 is None:
            return None
        return await self._by_hash(sha256)

    async def _sent(self, query: str, sha256: str | None) -> str:
        actual = sha256_hex(query) if sha256 is not None or self.trusted_only else None
        if self.trusted_only and actual not in self.trusted:
            raise _not_trusted()
        if sha256 is None or not (self.automatic or sha256 in self.trusted):
            return query  # no hash, or APQ off: the hash is not read
        if sha256 != actual:
            raise _refused(
                400,
                "The persisted query's sha256Hash is not the SHA-256 of its document.",
                "PERSISTED_QUERY_HASH_MISMATCH",
            )
        if sha256 not in self.trusted and len(query.encode()) <= self.document_bytes_max:
            await self.store.put(sha256, query)
        return query

    async def _by_hash(self, sha256: str) -> str:
        trusted = self.trusted.get(sha256)
        if trusted is not None:
            return trusted
        if self.trusted_only:
            raise _not_trusted()
        if not self.automatic:
            raise PersistedQueryRefused(200, NOT_SUPPORTED)
        stored = await self.store.get(sha256) if _SHA256.fullmatch(sha256) else None
        if stored is None:
            raise PersistedQueryRefused(200, NOT_FOUND)
        return stored

    async def aclose(self) -> None:
        await self.store.aclose()
