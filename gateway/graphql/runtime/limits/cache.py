"""A repeated document is measured once.

A document's measure depends on its text, the operation named and the values of the variables
used in the arguments the cost reads (`first`, `last`, `ids`), and on nothing else: it is
remembered under those, and the facts of the text alone (its directive count, the names of
those variables) under the text. Refusals are not remembered; they are measured again each
time. Both caches are bounded LRUs, one pair per schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import ArgumentNode, DocumentNode, VariableNode, Visitor, visit

from gateway.domain.lru import Lru
from gateway.graphql.runtime.limits.cost import SIZE_ARGUMENTS
from gateway.graphql.runtime.limits.directives import count_directives
from gateway.graphql.runtime.limits.walk import Measure


class _SizeVariables(Visitor):
    """The names of the variables used in the arguments a cost depends on."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        if node.name.value not in SIZE_ARGUMENTS:
            return
        pending: list[Any] = [node.value]
        while pending:  # a list or object value may nest
            value = pending.pop()
            if isinstance(value, VariableNode):
                self.names.add(value.name.value)
            pending.extend(getattr(value, "values", None) or ())
            pending.extend(field.value for field in getattr(value, "fields", None) or ())


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the limits need of a document's text, whatever its variables."""

    directives: int
    size_variables: tuple[str, ...]


def document_facts(document: DocumentNode) -> DocumentFacts:
    sizes = _SizeVariables()
    visit(document, sizes)
    return DocumentFacts(count_directives(document), tuple(sorted(sizes.names)))


def measure_key(
    query: str, operation_name: str | None, facts: DocumentFacts, variables: object
) -> tuple[Any, ...]:
    given = variables if isinstance(variables, Mapping) else {}
    values = tuple(repr(given[name]) if name in given else None for name in facts.size_variables)
    return (query, operation_name, not isinstance(variables, Mapping), values)


class MeasureCache:
    """Facts of document texts and measures of accepted documents, for one schema."""

    def __init__(self) -> None:
        self.facts: Lru[str, DocumentFacts] = Lru()
        self.measures: Lru[tuple[Any, ...], Measure] = Lru()

    def facts_of(self, query: str, document: DocumentNode) -> DocumentFacts:
        facts = self.facts.get(query)
        if facts is None:
            facts = document_facts(document)
            self.facts.put(query, facts)
        return facts
