"""Text the stores can hold: no NUL character (U+0000) anywhere in a request's strings.

PostgreSQL's text type cannot store NUL, and SQLite would store what PostgreSQL refuses, so a
NUL in any string literal of the document or any string of the variables is refused before
validation with BAD_USER_INPUT, the same answer on both stores, instead of a driver error deep
in a write. Whether a document's text holds a NUL is remembered by the text (bounded LRU);
the variables are searched on every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from gateway.domain.lru import Lru

NUL = "\x00"
MESSAGE = "Text may not contain the NUL character (U+0000)."


class _NulFinder(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if NUL in node.value:
            self.found = True
            return self.BREAK
        return None


def document_has_nul(document: DocumentNode) -> bool:
    finder = _NulFinder()
    visit(document, finder)
    return finder.found


def value_has_nul(value: object) -> bool:
    """Whether any string in a JSON value (keys included) holds a NUL; iterative, any depth."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


_documents_with_nul: Lru[str, bool] = Lru()


def cached_document_has_nul(query: str, document: DocumentNode) -> bool:
    found = _documents_with_nul.get(query)
    if found is None:
        found = document_has_nul(document)
        _documents_with_nul.put(query, found)
    return found


class TextGuard(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (
            document is not None
            and context.pre_execution_errors is None
            and (
                cached_document_has_nul(context.query or "", document)
                or value_has_nul(context.variables)
            )
        ):
            context.pre_execution_errors = [
                GraphQLError(MESSAGE, extensions={"code": "BAD_USER_INPUT"})
            ]
        yield
