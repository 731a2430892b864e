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
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from sqlmodel import SQLModel

from gateway.app import create_app
from gateway.domain.errors import DomainError
from gateway.services.webhooks import delete_endpoint
from gateway.settings import Settings
from gateway.store import readers
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.security.fuzzing import CASES, KNOWN_IDS, OPERATIONS, REQUESTS, SCHEMA

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
LIMIT_CODES = {
    "QUERY_TOO_LARGE",
    "TOO_MANY_TOKENS",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "TOO_MANY_DIRECTIVES",
    "QUERY_TOO_COMPLEX",
}


def _domain_codes(error_type: type[DomainError] = DomainError) -> set[str]:
    codes = {error_type.code}
    for subclass in error_type.__subclasses__():
        codes |= _domain_codes(subclass)
    return codes


ALLOWED_CODES = REQUEST_CODES | LIMIT_CODES | _domain_codes()
INTERNAL = "INTERNAL_SERVER_ERROR"  # an unexpected exception, masked: always a bug


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
    problems = [
        f"an error whose extensions.code is {code!r}" for code in codes if not isinstance(code, str)
    ]
    if INTERNAL in codes:
        problems.append("a masked internal error (INTERNAL_SERVER_ERROR)")
    if response.status_code >= 400 and not codes:
        problems.append(f"HTTP {response.status_code} without errors")
    if allowed is not None and response.status_code == 200:
        problems += [
            f"an unexpected error code {code!r} (see ALLOWED_CODES)"
            for code in codes
            if isinstance(code, str) and code not in allowed | {INTERNAL}
        ]
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
