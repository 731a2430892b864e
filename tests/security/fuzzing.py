"""The fuzzers' generators, reading the committed SDL: schemathesis' cases for every Query and
Mutation field, and hypothesis-graphql's valid documents corrupted (characters or tokens
dropped, duplicated or replaced, arguments of the wrong type, unknown fields and arguments,
variables of the wrong type or with wrong values). Scalar values are valid ones, near misses and
noise; ID arguments are drawn from the rows of the fuzzed platforms (`KNOWN_IDS`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql
import schemathesis
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from schemathesis.generation import GenerationMode

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"


# --- Values of the scalars: valid ones, near misses and noise. ---------------------------------


class KnownIds:
    """Ids of real rows (both platforms), filled when the platforms exist, read at draw time."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def pick(self, index: int) -> str:
        return self.ids[index % len(self.ids)] if self.ids else str(uuid.UUID(int=index))


KNOWN_IDS = KnownIds()


def _text(*valid: str) -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(st.sampled_from(valid), st.text(max_size=12)).map(nodes.String)


SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "ID": st.one_of(
        st.integers(min_value=0).map(KNOWN_IDS.pick).map(nodes.String),
        st.uuids().map(str).map(nodes.String),
        st.text(max_size=40).map(nodes.String),
        st.integers().map(nodes.Int),
    ),
    "CountryCode": _text("FR", "DE", "GB", "US", "fr"),
    "Currency": _text("EUR", "USD", "GBP", "eur"),
    "MinorUnits": st.one_of(st.integers(-10, 10**6), st.integers()).map(nodes.Int),
    "Date": _text("1990-01-31", "2024-02-29", "2023-02-29", "9999-12-31"),
    "DateTime": _text("2026-11-28T12:00:00.000Z", "2026-11-28T12:00:00+02:00"),
    "Upload": st.text(max_size=12).map(nodes.String),
}
for _name, _strategy in SCALARS.items():
    schemathesis.graphql.scalar(_name, _strategy)


# --- The two generators. -----------------------------------------------------------------------

GRAPHQL_SCHEMA = graphql.build_schema(SCHEMA_PATH.read_text())


def _root(root: graphql.GraphQLObjectType | None) -> graphql.GraphQLObjectType:
    assert root is not None
    return root


QUERY, MUTATION = _root(GRAPHQL_SCHEMA.query_type), _root(GRAPHQL_SCHEMA.mutation_type)
ROOTS = [QUERY, MUTATION]
SCHEMA = schemathesis.graphql.from_path(SCHEMA_PATH)
OPERATIONS = {
    f"{root.name}.{name}": SCHEMA[root.name][name] for root in ROOTS for name in root.fields
}
CASES = {
    label: st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    for label, operation in OPERATIONS.items()
}
DOCUMENTS = st.one_of(
    [
        hypothesis_graphql.queries(GRAPHQL_SCHEMA, fields=[name], custom_scalars=SCALARS)
        for name in QUERY.fields
    ]
    + [
        hypothesis_graphql.mutations(GRAPHQL_SCHEMA, fields=[name], custom_scalars=SCALARS)
        for name in MUTATION.fields
    ]
)  # one root field per document, each field as likely as any other


@dataclass(frozen=True, slots=True)
class Request:
    """One POST to /graphql."""

    query: str
    variables: Any = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.query}
        if self.variables is not None:
            body["variables"] = self.variables
        return body


TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:\\.|[^"\\\n])*"|\.\.\.|\$?[A-Za-z_]\w*'
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\S"
)
NAME = re.compile(r"[A-Za-z_]\w*$")
PUNCTUATION = [*'{}()[]:!$@=|&,."\\#', "...", '"""']
NAMES = sorted({name for name in GRAPHQL_SCHEMA.type_map if not name.startswith("__")})
WORDS = ["query", "mutation", "subscription", "fragment", "on", "true", "false", "null", "$v"]
WRONG_VALUES = [
    "1",
    "-1",
    "0",
    "1.5",
    "1e400",
    "99999999999999999999999",
    '"text"',
    '""',
    "true",
    "null",
    "[]",
    "[1, 2]",
    "{}",
    "{bogus: 1}",
    "NOT_AN_ENUM",
    "$undefined",
    '"\\u0000"',
    '"é\\uD83D"',
]
VARIABLE_TYPES = [
    "String",
    "String!",
    "Int!",
    "ID!",
    "[ID!]!",
    "Boolean",
    "Float",
    "MoneyInput!",
    "CreateUserInput!",
    "NoSuchType",
]


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(JSON_SCALARS, _json_containers, max_leaves=8)


def _tokens(document: str) -> list[str]:
    return TOKEN.findall(document)


def _characters(draw: st.DrawFn, document: str) -> str:
    start = draw(st.integers(0, max(len(document) - 1, 0)))
    end = draw(st.integers(start, min(start + 8, len(document))))
    action = draw(st.sampled_from(["drop", "duplicate", "replace"]))
    if action == "drop":
        return document[:start] + document[end:]
    if action == "duplicate":
        return document[:end] + document[start:end] + document[end:]
    noise = draw(st.one_of(st.sampled_from(PUNCTUATION), st.text(min_size=1, max_size=3)))
    return document[:start] + noise + document[end:]


def _token_edit(draw: st.DrawFn, document: str) -> str:
    tokens = _tokens(document)
    index = draw(st.integers(0, len(tokens) - 1))
    action = draw(st.sampled_from(["drop", "duplicate", "swap", "replace"]))
    if action == "drop":
        del tokens[index]
    elif action == "duplicate":
        tokens.insert(index, tokens[index])
    elif action == "swap":
        other = draw(st.integers(0, len(tokens) - 1))
        tokens[index], tokens[other] = tokens[other], tokens[index]
    else:
        vocabulary = st.sampled_from(PUNCTUATION + NAMES + WORDS + WRONG_VALUES)
        tokens[index] = draw(vocabulary)
    return " ".join(tokens)


def _value_end(tokens: list[str], start: int) -> int:
    """Where the value that starts at `tokens[start]` ends (exclusive): lists and objects
    included (a string literal is one token, so brackets in strings do not count)."""
    depth = 0
    for index in range(start, len(tokens)):
        depth += (tokens[index] in "{[") - (tokens[index] in "}]")
        if depth <= 0:
            return index + 1
    return len(tokens)


def _wrong_argument(draw: st.DrawFn, document: str) -> str:
    tokens = _tokens(document)
    values = [i + 1 for i, token in enumerate(tokens[:-1]) if token == ":"]
    if not values:
        return _unknown_field(draw, document)
    start = draw(st.sampled_from(values))
    tokens[start : _value_end(tokens, start)] = [draw(st.sampled_from(WRONG_VALUES))]
    return " ".join(tokens)


def _unknown_field(draw: st.DrawFn, document: str) -> str:
    tokens = _tokens(document)
    braces = [i for i, token in enumerate(tokens) if token == "{"]
    index = draw(st.sampled_from(braces))
    name = draw(
        st.sampled_from(["bogus", "__typenam", "id(first: 1)", "secret", "digest", "...on"])
    )
    tokens.insert(index + 1, name)
    return " ".join(tokens)


def _unknown_argument(draw: st.DrawFn, document: str) -> str:
    tokens = _tokens(document)
    fields = [i for i in range(1, len(tokens)) if tokens[i - 1] == "{" and NAME.match(tokens[i])]
    index = draw(st.sampled_from(fields))
    argument = draw(st.sampled_from(["bogus: 1", "first: 1", "input: {}", "id: null", "id: 1"]))
    if index + 1 < len(tokens) and tokens[index + 1] == "(":
        tokens.insert(index + 2, argument)
    else:
        tokens.insert(index + 1, f"({argument})")
    return " ".join(tokens)


def _root_arguments(tokens: list[str], field: int) -> list[tuple[str, int, int]]:
    """The arguments of the root field at `tokens[field]`: (name, value start, value end)."""
    found: list[tuple[str, int, int]] = []
    index = field + 2
    if field + 1 >= len(tokens) or tokens[field + 1] != "(":
        return found
    while index + 2 < len(tokens) and tokens[index] != ")":
        if tokens[index] == ",":
            index += 1
            continue
        end = _value_end(tokens, index + 2)
        found.append((tokens[index], index + 2, end))
        index = end
    return found


@st.composite
def _variables(draw: st.DrawFn) -> Request:
    """A root argument's value replaced by `$v`, declared with its type or another, sent with
    its own value (as JSON), another value, or variables that are not even an object."""
    tokens = _tokens(draw(DOCUMENTS))
    root = MUTATION if tokens[0] == "mutation" else QUERY
    field = tokens.index("{") + 1
    arguments = _root_arguments(tokens, field)
    declared, value = draw(st.sampled_from(VARIABLE_TYPES)), draw(JSON_VALUES)
    if arguments:
        name, start, end = draw(st.sampled_from(arguments))
        right = str(root.fields[tokens[field]].args[name].type)
        literal = graphql.parse_value(" ".join(tokens[start:end]))
        declared = draw(st.sampled_from([right, right, declared]))
        value = draw(st.sampled_from([graphql.value_from_ast_untyped(literal), value]))
        tokens[start:end] = ["$v"]
    operation = 1 if tokens[0] in ("query", "mutation") else 0
    head = tokens[:operation] or ["query"]
    query = " ".join([*head, f"($v: {declared})", *tokens[operation:]])
    variables = draw(
        st.one_of(
            st.just({"v": value}),
            st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=3),
            JSON_VALUES,
        )
    )
    return Request(query=query, variables=variables)


Corruption = Callable[[st.DrawFn, str], str]
CORRUPTIONS: dict[str, Corruption] = {
    "characters": _characters,
    "tokens": _token_edit,
    "wrong-argument": _wrong_argument,
    "unknown-field": _unknown_field,
    "unknown-argument": _unknown_argument,
}


@st.composite
def _corrupted(draw: st.DrawFn, how: str) -> Request:
    document = draw(DOCUMENTS)
    return Request(query=CORRUPTIONS[how](draw, document))


REQUESTS: dict[str, st.SearchStrategy[Request]] = {
    **{how: _corrupted(how) for how in CORRUPTIONS},
    "variables": _variables(),
}
