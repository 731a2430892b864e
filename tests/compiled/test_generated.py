"""Documents generated from the SDL, compared under each credential on each store.

`MPS_COMPILED_EXAMPLES` documents per credential (default 350), each credential its own share
of one run's draw; both stores send the same documents, rendered with their own ids: by
default 3 x 350 distinct documents, 2 100 compared in all. A longer run:

    MPS_COMPILED_EXAMPLES=3000 .venv/bin/pytest tests/compiled/test_generated.py
"""

from __future__ import annotations

import os

import pytest

from tests.compiled.generated import Renderer, generated
from tests.compiled.harness import Batch, Tally, Twin, graphql_request
from tests.compiled.seed import World

EXAMPLES = int(os.environ.get("MPS_COMPILED_EXAMPLES", "350"))
CREDENTIALS = ["BACKEND", "READONLY", "USER_TOKEN"]


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_generated_documents_answer_alike_under_both_executors(
    twin: Twin, world: World, tally: Tally, credential: str
) -> None:
    drawn = generated(EXAMPLES * len(CREDENTIALS))
    index = CREDENTIALS.index(credential)
    share = drawn[index * EXAMPLES : (index + 1) * EXAMPLES]
    render = Renderer(world)
    batch = Batch(twin)
    for document in share:
        query, variables = render(document)
        request = graphql_request(world.credentials[credential], query, variables)
        await batch.compare(request)
    batch.check()
    tally.add(batch.tally)
    assert batch.sent == len(share) == EXAMPLES
    # The pools make most documents reach rows: a run where most answers are errors has lost
    # its ids or cursors, and compares little.
    answered = batch.tally.outcome["data"] + batch.tally.outcome["data+errors"]
    assert answered >= len(share) // 2, batch.tally.summary()
    batch.tally.assert_compiled_share()
