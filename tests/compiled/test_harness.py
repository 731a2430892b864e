"""The harness itself: it passes two identical answers, catches two that differ and says how,
and the world holds what the other modules' documents count on."""

from __future__ import annotations

import httpx
import pytest

from gateway.graphql.compiled import EXECUTION_HEADER
from tests.compiled.harness import Batch, Tally, Twin, graphql_request
from tests.compiled.seed import World, describe

VIEWER = "query Viewer { viewer { __typename id email } }"


def _acting_as(client: httpx.AsyncClient, token: str) -> httpx.AsyncClient:
    """A client of the same app that swaps the request's credential for `token` on the way:
    an app that answers differently, for the harness to catch."""

    async def swap(request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {token}"

    return httpx.AsyncClient(
        transport=client._transport,  # the same ASGI app, not a new one
        base_url=client.base_url,
        event_hooks={"request": [swap]},
    )


async def test_identical_answers_pass_and_are_tallied(twin: Twin, world: World) -> None:
    tally = Tally()
    request = graphql_request(world.credentials["USER_TOKEN"], VIEWER)
    body = await twin.compare(request, into=tally)
    assert body["data"]["viewer"]["id"] == world.victim["user"]
    assert tally.total == 1
    assert tally.outcome["data"] == 1
    assert sum(tally.execution.values()) == 1


async def test_answers_that_differ_fail_with_the_document_and_both_bodies(
    twin: Twin, world: World
) -> None:
    async with _acting_as(twin.compiled, world.credentials["BACKEND"].token) as impostor:
        different = Twin(compiled=impostor, general=twin.general)
        request = graphql_request(world.credentials["USER_TOKEN"], VIEWER)
        with pytest.raises(AssertionError) as failure:
            await different.compare(request)
    report = str(failure.value)
    assert VIEWER in report
    assert world.victim["user"] in report  # the general app's body (the token's user)
    assert '"viewer": null' in report  # the other one's
    assert "--- diff (general -> compiled)" in report


async def test_a_batch_goes_on_after_a_difference_and_reports_them_all(
    twin: Twin, world: World
) -> None:
    async with _acting_as(twin.compiled, world.credentials["BACKEND"].token) as impostor:
        batch = Batch(Twin(compiled=impostor, general=twin.general))
        token = world.credentials["USER_TOKEN"]
        for query in (VIEWER, "{ platform { id } }", "{ viewer { id } }"):
            await batch.compare(graphql_request(token, query))
    assert batch.sent == 3
    assert len(batch.failures) == 2  # the platform is the same under both credentials
    with pytest.raises(AssertionError, match="2 of 3 requests answered differently"):
        batch.check()


async def test_the_general_app_never_says_it_compiled(twin: Twin, world: World) -> None:
    request = graphql_request(world.credentials["BACKEND"], "{ platform { id name } }")
    compiled, general = await twin.send(request)
    assert general.headers.get(EXECUTION_HEADER) in (None, "general")
    assert compiled.headers.get(EXECUTION_HEADER) in (None, "general", "compiled")


def test_the_world_has_every_kind_of_object_on_two_platforms(world: World) -> None:
    wanted = {
        "Platform",
        "User",
        "NaturalPerson",
        "LegalPerson",
        "Account",
        "LedgerEntry",
        "Transfer",
        "TransferReversal",
        "PayIn",
        "Refund",
        "PayOut",
        "BankAccount",
        "DirectDebitMandate",
        "KycDocument",
        "Event",
        "WebhookEndpoint",
        "WebhookDelivery",
    }
    assert wanted <= set(world.ids), describe(world)
    assert world.other_ids
    assert not set(world.other_ids) & set(world.all_ids)
    assert world.counts["entries"] > 6, describe(world)  # more than two pages of three
    assert len(world.ids["WebhookDelivery"]) == 3
