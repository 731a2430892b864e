"""Documents generated from the SDL, compared under each credential on each store.

`MPS_COMPILED_EXAMPLES` distinct documents (default 2 010), drawn once per run and sent on both
stores (rendered with each store's ids), each under one of the three credentials in turn: a
third of them under the platform's BACKEND key, a third under a READONLY key, a third under a
user token, so every document is compared twice and 4 020 comparisons are made. Drawing is the
slow part (about 30 ms a document). A longer run:

    MPS_COMPILED_EXAMPLES=6000 .venv/bin/pytest tests/compiled/test_generated.py
"""

from __future__ import annotations

import os

import pytest

from tests.compiled.generated import Renderer, generated
from tests.compiled.harness import Batch, Tally, Twin, graphql_request
from tests.compiled.seed import World

EXAMPLES = int(os.environ.get("MPS_COMPILED_EXAMPLES", "2010"))
CREDENTIALS = ["BACKEND", "READONLY", "USER_TOKEN"]


def test_the_draw_mixes_inline_arguments_variables_and_invalid_documents() -> None:
    drawn = generated(EXAMPLES)
    assert len(drawn) == EXAMPLES
    valid = [d for d in drawn if d.valid]
    assert 0 < len(valid) < len(drawn)
    assert 0 < sum(d.as_variables for d in valid) < len(valid)


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_generated_documents_answer_alike_under_both_executors(
    twin: Twin, world: World, tally: Tally, credential: str
) -> None:
    share = generated(EXAMPLES)[CREDENTIALS.index(credential) :: len(CREDENTIALS)]
    render = Renderer(world)
    batch = Batch(twin)
    for document in share:
        query, variables = render(document)
        request = graphql_request(world.credentials[credential], query, variables)
        await batch.compare(request)
    batch.check()
    tally.add(batch.tally)
    assert batch.sent == len(share) >= EXAMPLES // len(CREDENTIALS)
    # The pools make most documents reach rows: a run where most answers are errors has lost
    # its ids or cursors, and compares little.
    answered = batch.tally.outcome["data"] + batch.tally.outcome["data+errors"]
    assert answered >= len(share) // 2, batch.tally.summary()
    batch.tally.assert_compiled_share()
