"""Every document in queries/ is one named operation, valid against the SDL, and runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate

from tests.conftest import PlatformHandle
from tests.support import data

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted((ROOT / "queries").glob("*.graphql"))
TEXTS = {path: path.read_text() for path in DOCUMENTS}
READS = [path for path in DOCUMENTS if "\nquery " in TEXTS[path]]
SCHEMA = build_schema((ROOT / "schema" / "schema.graphql").read_text())


def test_there_are_query_documents() -> None:
    assert len(DOCUMENTS) >= 5


@pytest.mark.parametrize("path", DOCUMENTS, ids=[path.stem for path in DOCUMENTS])
def test_each_document_is_one_operation_named_after_its_file_and_valid(path: Path) -> None:
    document = parse(path.read_text())
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None
    assert operations[0].name.value == path.stem
    assert validate(SCHEMA, document) == []


async def _variables(
    client: httpx.AsyncClient, platform: PlatformHandle, path: Path
) -> dict[str, Any]:
    """Real ids from the seeded platform for the documents' variables."""
    found = await data(
        client,
        "{ platform { id users(first: 1, filter: {kind: LEGAL}) { nodes { id persons { id } "
        "accounts(first: 1) { nodes { id } } } } } }",
        headers=platform.headers,
    )
    user = found["platform"]["users"]["nodes"][0]
    ids = [
        user["id"],
        user["persons"][0]["id"],
        user["persons"][1]["id"],
        user["accounts"]["nodes"][0]["id"],
        found["platform"]["id"],
    ]
    variables = {"id": user["id"], "ids": ids, "first": 5, "objectId": user["id"]}
    if path.stem in ("AccountEntries", "FilteredEntries", "AccountStatement"):
        variables["id"] = user["accounts"]["nodes"][0]["id"]
    now = dt.datetime.now(dt.UTC)
    variables["from"] = (now - dt.timedelta(days=30)).isoformat()
    variables["to"] = (now + dt.timedelta(days=1)).isoformat()
    return variables


@pytest.mark.parametrize("path", READS, ids=[path.stem for path in READS])
async def test_each_read_document_runs_against_a_seeded_platform(
    client: httpx.AsyncClient, platform: PlatformHandle, path: Path
) -> None:
    variables = await _variables(client, platform, path)
    document = parse(TEXTS[path])
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    wanted = {v.variable.name.value for v in operation.variable_definitions or ()}
    result = await data(
        client,
        TEXTS[path],
        {k: v for k, v in variables.items() if k in wanted},
        headers=platform.headers,
    )
    roots = {name: value for name, value in result.items() if name != "viewer"}
    assert roots
    assert all(value is not None for value in roots.values()), result
    assert None not in result.get("nodes", []), "every seeded id must resolve"
