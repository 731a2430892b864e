"""Read documents generated from the committed SDL with hypothesis-graphql, for the
differential comparisons.

Generation is the slow part (hypothesis-graphql draws each document field by field), so the
documents are drawn once per run, before any world exists: ID and String arguments are
placeholders (`⟦id:17⟧`, `⟦text:3⟧`) that `render` swaps for the values of a world's pools:
ids of every type of the main platform, the other platform's ids, unknown and malformed ids;
cursors of every connection (first, second, last), bad cursors and plain text. Int arguments
are the edges of pages (0, 1, a few, the maximum, past it, negative). So most documents reach
rows, and those that do not (an id of another tenant, a bad cursor) meet the errors they are
meant to.

Each valid document is sent as drawn (arguments inline) or, on a coin flip, with every
argument moved to a variable of the argument's type (a compiled plan is made once per document
and must read its variables at each request). One draw in ten is an invalid document
(hypothesis-graphql's NEGATIVE mode): validation and coercion errors must be identical too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import graphql
import hypothesis
import hypothesis_graphql
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from tests.compiled.seed import World

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
SCHEMA = graphql.build_schema(SCHEMA_PATH.read_text())
SEED = 20261205
PLACEHOLDER = re.compile(r"⟦(id|text):(\d+)⟧")
UNKNOWN_IDS = ["00000000-0000-0000-0000-000000000000", "0190f1c2-7e4b-7a3c-9d1e-5f6a7b8c9d0e"]
MALFORMED_IDS = ["", "not-an-id", "42", "VXNlcjox", "0190F1C2-7E4B-7A3C-9D1E-5F6A7B8C9D0E "]
BAD_TEXTS = ["", "bogus", "YXJyYXljb25uZWN0aW9uOjA=", "-1", "ada@example.com", "é\u0000"]
# Small pages mostly (connections nest, and sizes multiply), the edges now and then: the full
# page (100) and beyond are the written documents' part.
PAGE_SIZES = [0, 1, 1, 2, 2, 2, 3, 3, 5, 101, -1]


def _placeholder(kind: str) -> st.SearchStrategy[graphql.ValueNode]:
    return st.integers(min_value=0, max_value=10_000).map(lambda n: nodes.String(f"⟦{kind}:{n}⟧"))


SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "ID": _placeholder("id"),
    "String": _placeholder("text"),
    "Int": st.sampled_from(PAGE_SIZES).map(nodes.Int),
    # Query arguments take none of these today; inputs of later query fields may.
    "DateTime": st.sampled_from(["2026-11-28T12:00:00.000Z", "yesterday"]).map(nodes.String),
    "Date": st.sampled_from(["2026-02-28", "2026-02-30"]).map(nodes.String),
    "MinorUnits": st.sampled_from([0, 1, 100, -1]).map(nodes.Int),
    "Currency": st.sampled_from(["EUR", "USD", "eur"]).map(nodes.String),
    "CountryCode": st.sampled_from(["FR", "DE", "XX"]).map(nodes.String),
    "Upload": st.just(nodes.String("file")),
}
ROOTS = sorted(SCHEMA.query_type.fields) if SCHEMA.query_type else []


def _documents() -> st.SearchStrategy[Any]:
    per_root = [
        hypothesis_graphql.queries(SCHEMA, fields=[name], custom_scalars=SCALARS, print_ast=_keep)
        for name in ROOTS
    ]
    every = hypothesis_graphql.queries(SCHEMA, custom_scalars=SCALARS, print_ast=_keep)
    return st.one_of([*per_root, every])  # each root as likely as any other, and mixes


def _invalid_documents() -> st.SearchStrategy[Any]:
    """Documents with one violation of the schema; the built-in scalars keep hypothesis-
    graphql's own values, which are what it violates."""
    custom = {name: s for name, s in SCALARS.items() if name not in ("ID", "String", "Int")}
    return hypothesis_graphql.queries(
        SCHEMA, custom_scalars=custom, print_ast=_keep, mode=hypothesis_graphql.Mode.NEGATIVE
    )


def _keep(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


@dataclass(frozen=True)
class Drawn:
    """A generated document, its placeholders unresolved, and how to send it."""

    document: graphql.DocumentNode
    as_variables: bool
    valid: bool


@cache
def generated(count: int) -> tuple[Drawn, ...]:
    """`count` documents (one draw in ten invalid), drawn once per run with a fixed seed."""
    found: list[Drawn] = []
    positive = st.builds(
        Drawn,
        document=_documents(),
        as_variables=st.booleans(),
        valid=st.just(True),
    )
    negative = st.builds(
        Drawn,
        document=_invalid_documents(),
        as_variables=st.just(False),
        valid=st.just(False),
    )
    choice = st.integers(0, 9).flatmap(lambda n: positive if n else negative)

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(st.data())
    def collect(data: st.DataObject) -> None:
        found.append(data.draw(choice))

    collect()
    return tuple(found)


# --- Rendering for a world. ---------------------------------------------------------------------


def id_pool(world: World) -> list[str]:
    """Ids to draw from: three of each type of the main platform (more for the busy types),
    some of the other platform's, unknown and malformed ones."""
    pool: list[str] = []
    for typename in sorted(world.ids):
        pool += world.ids[typename][:6]
    pool += world.other_ids[:8] + UNKNOWN_IDS + MALFORMED_IDS
    return pool


def text_pool(world: World) -> list[str]:
    """Strings to draw from: cursors of every connection (first, second, last), and text."""
    pool: list[str] = []
    for name in sorted(world.cursors):
        cursors = world.cursors[name]
        pool += [cursors[0], cursors[min(1, len(cursors) - 1)], cursors[-1]] if cursors else []
    return pool + BAD_TEXTS


class _Resolve(graphql.Visitor):
    """Swaps the placeholders of string values for the pools' values."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        super().__init__()
        self.pools = {"id": ids, "text": texts}

    def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> Any:
        found = PLACEHOLDER.fullmatch(node.value)
        if found is None:
            return None
        pool = self.pools[found.group(1)]
        return graphql.StringValueNode(value=pool[int(found.group(2)) % len(pool)])


class _ToVariables(graphql.Visitor):
    """Moves every argument's literal into a variable of the argument's type."""

    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.definitions: list[graphql.VariableDefinitionNode] = []
        self.values: dict[str, Any] = {}

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        argument_type = self.type_info.get_input_type()
        if argument_type is None or isinstance(node.value, graphql.VariableNode):
            return None
        name = f"v{len(self.definitions)}"
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(
            graphql.VariableDefinitionNode(
                variable=variable, type=graphql.parse_type(str(argument_type)), directives=()
            )
        )
        self.values[name] = graphql.value_from_ast_untyped(node.value)
        return graphql.ArgumentNode(name=node.name, value=variable)


def _with_variables(document: graphql.DocumentNode) -> tuple[graphql.DocumentNode, dict[str, Any]]:
    type_info = graphql.TypeInfo(SCHEMA)
    moving = _ToVariables(type_info)
    moved = graphql.visit(document, graphql.TypeInfoVisitor(type_info, moving))
    definitions = [
        graphql.OperationDefinitionNode(
            operation=d.operation,
            name=d.name,
            variable_definitions=tuple(moving.definitions),
            directives=d.directives,
            selection_set=d.selection_set,
        )
        if isinstance(d, graphql.OperationDefinitionNode)
        else d
        for d in moved.definitions
    ]
    return graphql.DocumentNode(definitions=tuple(definitions)), moving.values


class Renderer:
    """Turns drawn documents into requests' documents for one world."""

    def __init__(self, world: World) -> None:
        self.resolve = _Resolve(id_pool(world), text_pool(world))

    def __call__(self, drawn: Drawn) -> tuple[str, dict[str, Any] | None]:
        """The document as text, with its variables (None when sent inline)."""
        return render(drawn, self.resolve)


def render(drawn: Drawn, resolve: graphql.Visitor) -> tuple[str, dict[str, Any] | None]:
    resolved = graphql.visit(drawn.document, resolve)
    if not drawn.as_variables:
        return graphql.print_ast(resolved), None
    moved, variables = _with_variables(resolved)
    return graphql.print_ast(moved), variables
