"""Per-document work done once: parsing and validation, remembered by the document's text.

Clients send the same few documents over and over, so `DocumentCache` keeps, per schema, the
parsed document of each recent text and the texts (with their validation rules) that passed
validation. Only successes are remembered: a document that fails to parse or to validate is
parsed or validated again on every request, so its errors are always fresh objects, refused
exactly as before. The limits of gateway.graphql.runtime.limits still apply to every request: the
size is checked before the cache is consulted, and the cost is measured (or found in its own
cache, keyed by the variables it depends on) before validation. The caches are bounded LRUs.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

from gateway.domain.lru import Lru

DOCUMENTS_CACHED_MAX = 256


class DocumentStore:
    """The parsed and validated documents of one schema."""

    def __init__(self, size_max: int = DOCUMENTS_CACHED_MAX) -> None:
        self.parsed: Lru[str, DocumentNode] = Lru(size_max)
        self.valid: Lru[tuple[str, tuple[type, ...]], bool] = Lru(size_max)


class DocumentCache(SchemaExtension):
    """Must follow QueryLimiter in the extension list: the limiter sets the parse options
    (an oversized document is never looked up) and measures before validation."""

    def __init__(self, *, store: DocumentStore) -> None:
        super().__init__()
        self.store = store
        self.validated_now = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        oversized = "max_source_length" in context.parse_options  # set by QueryLimiter
        if query and not oversized and context.graphql_document is None:
            context.graphql_document = self.store.parsed.get(query)
        yield
        document = context.graphql_document
        if query and not oversized and document is not None and not context.pre_execution_errors:
            self.store.parsed.put(query, document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        key = (context.query or "", tuple(context.validation_rules))
        if context.pre_execution_errors is None and context.query:
            if self.store.valid.get(key):
                context.pre_execution_errors = []  # validated before: the rules do not run
            else:
                self.validated_now = True
        yield
        if self.validated_now and context.pre_execution_errors == []:
            self.store.valid.put(key, True)
