"""Fuzzing the GraphQL API through the ASGI app: no answer is a server error, none leaks across
platforms.

Two generators, both reading the committed SDL (`schema/schema.graphql`, which
tests/test_contract.py keeps equal to what the code serves):

- schemathesis (its GraphQL support) builds documents for every Query and Mutation field, valid
  ones and ones with a schema violation (negative mode);
- hypothesis-graphql builds valid documents, which are then corrupted: characters or tokens
  dropped, duplicated or replaced, arguments of the wrong type, unknown fields and arguments,
  variables of the wrong type or with wrong values.

Every request is authenticated with the key of a fuzzed platform that has users, persons and
funded accounts. ID arguments are drawn from the ids of that platform and of a bystander
platform (and from random UUIDs and text), so the fuzzer aims at real rows, other platforms'
included. After every request:

- the status is below 500 and the body a JSON object;
- every error carries an `extensions.code`, and none is INTERNAL_SERVER_ERROR (the gateway
  masks unexpected exceptions as that code: each one is a bug, reported with the document);
- a corrupted document gets a 4xx, or a 200 whose error codes are ones the gateway defines on
  purpose (ALLOWED_CODES);
- every row of the bystander platform (its `platforms` row and each row of every table with a
  `platform_id`) is exactly what it was before the test.

Bounded and reproducible: a fixed seed, no example database, MPS_FUZZ_EXAMPLES examples per
operation (and per kind of corruption), default 10. A longer run:

    MPS_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/security/test_fuzz.py

Requests go through httpx's ASGI transport on the test's event loop, with the app's lifespan
run by asgi-lifespan: schemathesis' own ASGI transport runs the app on an event loop of its own,
in another thread, where the session's database engine (bound to the test loop) cannot follow.
Webhook delivery is off in this app, and the fuzzed platform's webhook endpoints are deleted at
the end, so no generated URL is ever called.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import httpx
import hypothesis
import hypothesis_graphql
import pytest
import schemathesis
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from sqlmodel import SQLModel

from gateway.app import create_app
from gateway.domain.errors import DomainError
from gateway.services.webhooks import delete_endpoint
from gateway.settings import Settings
from gateway.store import readers
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
EXAMPLES = int(os.environ.get("MPS_FUZZ_EXAMPLES", "10"))
SEED = 20261128

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # The app, platforms and snapshot are fixtures shared by the examples on purpose.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
    print_blob=False,
    # A failure reports the document as generated: shrinking it would send hundreds of requests.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)

# Codes a refused document may carry: request errors, the query limits (gateway/graphql/
# limits.py), and domain errors. Another code in a 200 answer fails the test: add it here if the
# gateway defines it on purpose.
REQUEST_CODES = {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}
LIMIT_CODES = {"QUERY_TOO_LARGE", "TOO_MANY_TOKENS", "QUERY_TOO_DEEP", "TOO_MANY_ALIASES",
               "TOO_MANY_DIRECTIVES", "QUERY_TOO_COMPLEX"}  # fmt: skip


def _domain_codes(error_type: type[DomainError] = DomainError) -> set[str]:
    codes = {error_type.code}
    for subclass in error_type.__subclasses__():
        codes |= _domain_codes(subclass)
    return codes


ALLOWED_CODES = REQUEST_CODES | LIMIT_CODES | _domain_codes()
INTERNAL = "INTERNAL_SERVER_ERROR"  # an unexpected exception, masked: always a bug


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
    "1", "-1", "0", "1.5", "1e400", "99999999999999999999999", '"text"', '""', "true", "null",
    "[]", "[1, 2]", "{}", "{bogus: 1}", "NOT_AN_ENUM", "$undefined", '"\\u0000"', '"é\\uD83D"',
]  # fmt: skip
VARIABLE_TYPES = ["String", "String!", "Int!", "ID!", "[ID!]!", "Boolean", "Float",
                  "MoneyInput!", "CreateUserInput!", "NoSuchType"]  # fmt: skip


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


# --- The platforms, the app, the snapshot. -----------------------------------------------------


PLATFORM_TABLES = [table for table in SQLModel.metadata.sorted_tables if "platform_id" in table.c]
NULL_TEXT, VALUE, SEPARATOR = "\u2205", "=", "\u241f"  # NULL, before a value, between columns


def _row_text(table: sa.Table) -> sa.ColumnElement[str]:
    """A table's row as one text value: each column `=value`, or `∅` for NULL."""
    null, value, separator = (
        sa.literal_column(f"'{text}'", sa.Text) for text in (NULL_TEXT, VALUE, SEPARATOR)
    )
    parts = [sa.func.coalesce(value + sa.cast(column, sa.Text), null) for column in table.c]
    text: sa.ColumnElement[str] = parts[0]
    for part in parts[1:]:
        text = text + separator + part
    return text


def _rows_statement() -> sa.CompoundSelect[str, str]:
    """Every row of a platform as (table name, row text): its `platforms` row and each row of
    every table with a `platform_id`. One statement, built once: it runs after every request."""
    platforms = SQLModel.metadata.tables["platforms"]
    platform_id: sa.BindParameter[uuid.UUID] = sa.bindparam("platform_id")
    selects = [
        sa.select(sa.literal_column(f"'{table.name}'", sa.Text), _row_text(table)).where(
            table.c.platform_id == platform_id
        )
        for table in PLATFORM_TABLES
    ]
    own = sa.select(sa.literal_column("'platforms'", sa.Text), _row_text(platforms))
    return sa.union_all(*selects, own.where(platforms.c.id == platform_id))


ROWS = _rows_statement()


async def _rows(db: Database, platform_id: uuid.UUID) -> dict[str, list[str]]:
    """Every row of the platform, table by table, in a stable order."""
    snapshot: dict[str, list[str]] = {}
    async with db.engine.connect() as connection:
        for name, row in await connection.execute(ROWS, {"platform_id": platform_id}):
            snapshot.setdefault(name, []).append(row)
    return {name: sorted(rows) for name, rows in sorted(snapshot.items())}


async def _ids_of(db: Database, *platform_ids: uuid.UUID) -> list[str]:
    """The ids of every row of the platforms (ID arguments are drawn from them)."""
    ids = [str(platform_id) for platform_id in platform_ids]
    async with db.session() as session:
        for table in PLATFORM_TABLES:
            if "id" in table.c:
                statement = sa.select(table.c.id).where(table.c.platform_id.in_(platform_ids))
                ids += [str(row_id) for row_id in await session.scalars(statement)]
    return ids


@dataclass
class Target:
    """The app under fuzz, the fuzzed platform, and the bystander whose rows must not move."""

    http: httpx.AsyncClient
    db: Database
    platform: PlatformHandle
    bystander: PlatformHandle
    bystander_rows: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
async def target(db: Database, settings: Settings) -> AsyncIterator[Target]:
    quiet = settings.model_copy(update={"webhook_delivery": False, "settler_delay_s": None})
    platform = await make_platform(db, natural_users=3, legal_users=1, seed=11)
    bystander = await make_platform(db, natural_users=3, legal_users=1, seed=12)
    KNOWN_IDS.ids = await _ids_of(db, platform.id, bystander.id)
    app = create_app(quiet, db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Target(http=http, db=db, platform=platform, bystander=bystander)
    KNOWN_IDS.ids = []
    async with db.session() as session:
        endpoints = await readers.webhook_endpoints(session, platform_id=platform.id)
    for endpoint in endpoints:
        await delete_endpoint(db, platform_id=platform.id, endpoint_id=str(endpoint.id))


@pytest.fixture
async def fuzz(target: Target) -> Target:
    """The target, with the bystander's rows as they are before this test."""
    target.bystander_rows = await _rows(target.db, target.bystander.id)
    return target


# --- Sending and judging. ----------------------------------------------------------------------


def _code(error: Any) -> Any:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def _problems(response: httpx.Response, *, allowed: set[str] | None) -> list[str]:
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"]
    try:
        body = response.json()
    except ValueError:
        return ["the body is not JSON"]
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    codes = [_code(error) for error in body.get("errors") or []]
    problems = [f"an error whose extensions.code is {code!r}" for code in codes
                if not isinstance(code, str)]  # fmt: skip
    if INTERNAL in codes:
        problems.append("a masked internal error (INTERNAL_SERVER_ERROR)")
    if response.status_code >= 400 and not codes:
        problems.append(f"HTTP {response.status_code} without errors")
    if allowed is not None and response.status_code == 200:
        problems += [f"an unexpected error code {code!r} (see ALLOWED_CODES)" for code in codes
                     if isinstance(code, str) and code not in allowed | {INTERNAL}]  # fmt: skip
    return problems


async def _send(fuzz: Target, body: dict[str, Any], *, allowed: set[str] | None = None) -> None:
    headers = {**fuzz.platform.headers, "Content-Type": "application/json"}
    response = await fuzz.http.post("/graphql", content=json.dumps(body), headers=headers)
    problems = _problems(response, allowed=allowed)
    after = await _rows(fuzz.db, fuzz.bystander.id)
    tables = sorted(after.keys() | fuzz.bystander_rows.keys())
    changed = [table for table in tables if after.get(table) != fuzz.bystander_rows.get(table)]
    if changed:
        problems.append(f"the bystander platform's rows changed in: {', '.join(changed)}")
    assert not problems, (
        f"{'; '.join(problems)}\n--- query ---\n{body['query']}\n--- variables ---\n"
        f"{json.dumps(body.get('variables'))}\n--- answer (HTTP {response.status_code}) ---\n"
        f"{response.text[:2000]}"
    )


# --- The tests. --------------------------------------------------------------------------------


async def test_the_snapshot_sees_a_change_to_any_row_and_tells_null_from_text(
    db: Database,
) -> None:
    platform = await make_platform(db, natural_users=1)
    before = await _rows(db, platform.id)
    assert {"platforms", "api_keys", "users", "persons", "accounts"} <= before.keys()
    persons, platforms = (SQLModel.metadata.tables[name] for name in ("persons", "platforms"))
    async with db.transaction() as session:
        await session.execute(
            sa.update(persons)
            .where(persons.c.platform_id == platform.id)
            .values(registration_number=NULL_TEXT)
        )
    after = await _rows(db, platform.id)
    assert [name for name in before if before[name] != after[name]] == ["persons"]
    async with db.transaction() as session:
        await session.execute(
            sa.update(platforms).where(platforms.c.id == platform.id).values(name="Renamed")
        )
    assert (await _rows(db, platform.id))["platforms"] != after["platforms"]


def test_every_query_and_mutation_field_is_fuzzed() -> None:
    results = list(SCHEMA.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    labels = {result.ok().label for result in results if isinstance(result, Ok)}
    assert labels == set(OPERATIONS)
    assert {"Query.platform", "Mutation.createTransfer"} < labels


@pytest.mark.parametrize("label", sorted(OPERATIONS))
@FUZZ_SETTINGS
@hypothesis.seed(SEED)
@hypothesis.given(data=st.data())
async def test_no_generated_operation_fails_inside_or_touches_another_platform(
    fuzz: Target, label: str, data: st.DataObject
) -> None:
    case = data.draw(CASES[label], label="case")
    await _send(fuzz, {"query": case.body})


@pytest.mark.parametrize("how", sorted(REQUESTS))
@FUZZ_SETTINGS
@hypothesis.seed(SEED)
@hypothesis.given(data=st.data())
async def test_a_corrupted_document_is_refused_with_a_specific_error_code(
    fuzz: Target, how: str, data: st.DataObject
) -> None:
    request = data.draw(REQUESTS[how], label="request")
    await _send(fuzz, request.body(), allowed=ALLOWED_CODES)
