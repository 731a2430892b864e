"""The written read documents, and the variables to send them with.

Documents: every query operation of queries/ (the clients' documents), of tests/documents/
(with the fragments they spread), and every string constant in the test suite's modules that
is a valid query document against the SDL (found by parsing the modules, so a new test's
document joins without a list to keep).

Variables: one request with a base value for every variable, then one request per other value
of each variable in turn (one factor at a time): ids of every type, the other platform's,
unknown and malformed ones; page sizes at the edges (0, 1, exactly the count, one more, the
maximum, past it); cursors (none, the first, the second, the last, bad ones); filters and
event types.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import graphql

from tests.compiled.generated import MALFORMED_IDS, SCHEMA, UNKNOWN_IDS
from tests.compiled.seed import World
from tests.support.documents import document as test_document

ROOT = Path(__file__).resolve().parents[2]
OMIT = object()  # a variable left out of the request (its default applies)
_NOW = dt.datetime.now(dt.UTC)  # a statement's window around the seeded rows (made now)
WINDOW = {
    "from": (_NOW - dt.timedelta(days=300)).isoformat(),
    "to": (_NOW + dt.timedelta(days=1)).isoformat(),
}

# The connection each paged document pages, for its counts and cursors.
CONNECTION = {
    "AccountEntries": "entries",
    "PlatformAccounts": "accounts",
    "PlatformEvents": "events",
    "EventsPage": "events",
    "ObjectHistory": "events",
    "PlatformUsers": "users",
    "PlatformPayments": "transfers",
}


@dataclass(frozen=True)
class Written:
    """A read document and where it comes from."""

    name: str
    text: str

    @property
    def operation(self) -> graphql.OperationDefinitionNode:
        parsed = graphql.parse(self.text)
        return next(d for d in parsed.definitions if isinstance(d, graphql.OperationDefinitionNode))


def _is_read(text: str) -> bool:
    try:
        parsed = graphql.parse(text)
    except graphql.GraphQLError:
        return False
    operations = [d for d in parsed.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    return (
        bool(operations)
        and all(o.operation is graphql.OperationType.QUERY for o in operations)
        and not graphql.validate(SCHEMA, parsed)
    )


def _folder(folder: Path, read: Any) -> list[Written]:
    found = []
    for path in sorted(folder.glob("*.graphql")):
        text = read(path)
        if _is_read(text):
            found.append(Written(f"{folder.name}/{path.stem}", text))
    return found


def _constants(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
            yield node.value


@cache
def written() -> tuple[Written, ...]:
    """Every written read document, each text once, in a stable order."""
    found = _folder(ROOT / "queries", lambda path: path.read_text())
    found += _folder(ROOT / "tests" / "documents", lambda path: test_document(path.stem))
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "compiled" not in path.parts:
            relative = path.relative_to(ROOT).as_posix()
            found += [Written(relative, t) for t in _constants(path) if _is_read(t)]
    unique: dict[str, Written] = {}
    for item in found:
        unique.setdefault(item.text, item)
    return tuple(unique.values())


# --- Variables. ------------------------------------------------------------------------------


def _ids(world: World) -> list[str]:
    """One id of every type, then the victim's and the other platform's, unknown, malformed."""
    every = [world.ids[name][0] for name in sorted(world.ids)]
    return [*every, world.foreign_credit, world.other_ids[0], *UNKNOWN_IDS, *MALFORMED_IDS[:3]]


def _id_base(world: World, operation: str, variable: str) -> str:
    if variable in ("transferId",):
        return world.victim["transfer"]
    if variable in ("payInId",):
        return world.victim["pay_in"]
    if operation in ("AccountEntries", "AccountWithEntries", "AccountStatement"):
        return world.busy_account
    if operation == "EventNode":
        return world.ids["Event"][0]
    return world.victim["user"]


def _cursors(world: World, connection: str | None) -> list[Any]:
    cursors = world.cursors.get(connection or "", [])
    picked = [cursors[0], cursors[min(1, len(cursors) - 1)], cursors[-1]] if cursors else []
    return [OMIT, None, *picked, "bogus", ""]


def _sizes(world: World, connection: str | None) -> list[Any]:
    count = world.counts.get(connection or "", 5)
    return [OMIT, 3, 0, 1, count, count + 1, 100, 101, -1, None]


def _id_lists(world: World) -> list[Any]:
    every = _ids(world)
    return [
        [world.ids[name][0] for name in sorted(world.ids)],
        every,
        [],
        [world.victim["user"]] * 2,
        world.all_ids[:101],
    ]


def _pool(world: World, operation: str, definition: graphql.VariableDefinitionNode) -> list[Any]:
    """The values to send for one variable, its base value first."""
    name = definition.variable.name.value
    type_text = graphql.print_ast(definition.type)
    named = type_text.strip("[]!")
    connection = CONNECTION.get(operation)
    if type_text.startswith("[") and named == "ID":
        return _id_lists(world)
    if named == "ID":
        base = _id_base(world, operation, name)
        return [base, *(i for i in _ids(world) if i != base)]
    if named == "Int":
        return _sizes(world, connection if name == "first" else None)
    if named == "String":
        return _cursors(world, connection if name in ("after", "before") else None)
    if named == "EventType":
        return [OMIT, ["TRANSFER_SUCCESSFUL"], [], ["USER_CREATED", "PAY_IN_SUCCESSFUL"], None]
    if named == "UserFilter":
        return [
            OMIT,
            {"kind": "LEGAL"},
            {"validationStatus": "VALIDATED"},
            {"kind": "NATURAL", "validationStatus": "NOT_SUBMITTED"},
            {"email": "nobody@example.com"},
            {},
        ]
    if named == "WebhookDeliveryStatus":
        return [OMIT, "SUCCEEDED", "FAILED", "PENDING", None]
    if named == "Boolean":
        return [True, False]
    if named == "DateTime":  # a statement's window: wide, then backwards, then too long
        return [WINDOW[name], "2100-01-01T00:00:00Z", "1999-01-01T00:00:00Z", "not a date"]
    return [OMIT]  # a type no read document takes yet: its default


def _light(world: World, values: list[Any]) -> list[Any]:
    """The base value, and for ids another tenant's, an unknown and a malformed one."""
    if isinstance(values[0], str) and values[0] in world.all_ids:
        return [values[0], world.other_ids[0], UNKNOWN_IDS[0], MALFORMED_IDS[1]]
    return values[:2] if isinstance(values[0], list) else values[:1]


def variable_sets(world: World, item: Written) -> list[dict[str, Any] | None]:
    """The base variables, then each variable's other values one at a time: all of them for
    the clients' documents (queries/), the telling few for the tests' own."""
    operation = item.operation
    name = operation.name.value if operation.name else ""
    pools = {
        d.variable.name.value: _pool(world, name, d) for d in operation.variable_definitions or ()
    }
    if not item.name.startswith("queries/"):
        pools = {variable: _light(world, values) for variable, values in pools.items()}
    if not pools:
        return [None]
    base = {variable: values[0] for variable, values in pools.items()}
    sets = [base]
    for variable, values in pools.items():
        sets += [{**base, variable: value} for value in values[1:]]
    return [{k: v for k, v in s.items() if v is not OMIT} for s in sets]
