"""The written read documents (queries/, tests/documents/, the test suite's own), each with
its variables at the edges, compared under each credential on each store."""

from __future__ import annotations

import pytest

from tests.compiled.documents import variable_sets, written
from tests.compiled.harness import Batch, Tally, Twin, graphql_request
from tests.compiled.seed import World

CREDENTIALS = ["BACKEND", "READONLY", "USER_TOKEN"]


def test_every_read_document_of_queries_is_collected() -> None:
    names = {item.name for item in written()}
    assert {
        "queries/AccountEntries",
        "queries/NodesById",
        "queries/PlatformUsers",
        "queries/Viewer",
        "documents/UserWithObjects",
    } <= names
    assert not any(name.endswith("CreateTransfer") for name in names)  # mutations are not reads
    assert any(name.startswith("tests/") for name in names)  # the suite's inline documents


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_written_documents_answer_alike_under_both_executors(
    twin: Twin, world: World, tally: Tally, credential: str
) -> None:
    batch = Batch(twin)
    for item in written():
        operation = item.operation.name
        for variables in variable_sets(world, item):
            request = graphql_request(
                world.credentials[credential],
                item.text,
                variables,
                operation_name=operation.value if operation else None,
            )
            await batch.compare(request)
    batch.check()
    tally.add(batch.tally)
    assert batch.sent > 3 * len(written())
    batch.tally.assert_compiled_share()
