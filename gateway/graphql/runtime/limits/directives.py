"""TOO_MANY_DIRECTIVES: the directives written anywhere in the document, every operation and
fragment, whether or not it runs (they depend on the text alone)."""

from __future__ import annotations

from graphql import DirectiveNode, DocumentNode, GraphQLError, Visitor, visit

from gateway.graphql.runtime.limits.refusal import over_limit

TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, _node: DirectiveNode, *_args: object) -> None:
        self.count += 1


def count_directives(document: DocumentNode) -> int:
    """Directives written anywhere in the document (graphql-core's visit is not recursive)."""
    counter = _DirectiveCounter()
    visit(document, counter)
    return counter.count


def check_directives(directives: int, limit: int) -> GraphQLError | None:
    return over_limit(TOO_MANY_DIRECTIVES, "directive count", directives, limit)
