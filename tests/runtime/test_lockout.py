"""A valid credential is never locked out by its address's failed authentications.

The failed-authentication budget is per client address, so a page that called without a key, a
script with a typo or a neighbour behind the same NAT shares it with the real key. The key is
verified first and the budget spent only by credentials that fail: a guessing address is still
refused (429), a valid key from it is served (and meets its own per-credential budget), and a
request without any credential is answered 401 without spending the budget at all. Guesses that
cannot be a key cost no database read."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import websockets

from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.runtime.test_rate_limits import ask, assert_rate_limited, clients, limited
from tests.support import StatementCounter
from tests.support.server import serve

PROTOCOLS: Any = ["graphql-transport-ws"]


def forged(key: str) -> dict[str, str]:
    """The key's own lookup part with a wrong secret: found, then refused by its digest."""
    return {"Authorization": f"Bearer {key[:-4]}zzzz"}


async def test_a_valid_key_is_served_from_an_address_refused_for_guessing(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async with clients(limited(settings, rate_limit_requests=0), db) as [http]:
        guesses = [await ask(http, forged(platform.key)) for _ in range(4)]
        served = [await ask(http, platform.headers) for _ in range(5)]
        still_refused = await ask(http, forged(platform.key))
    assert [guess.status_code for guess in guesses[:3]] == [401, 401, 401]
    assert_rate_limited(guesses[3])
    assert {answer.status_code for answer in served} == {200}
    assert served[0].json()["data"]["platform"]["id"]
    assert_rate_limited(still_refused)


async def test_requests_without_a_key_neither_spend_the_budget_nor_lock_out_the_key(
    db: Database, settings: Settings
) -> None:
    """A playground reloaded again and again before its key is typed in."""
    platform = await make_platform(db)
    async with clients(limited(settings), db) as [http]:
        keyless = [await ask(http, {}) for _ in range(10)]
        served = await ask(http, platform.headers)
        first_guesses = [await ask(http, {"Authorization": "Bearer nope"}) for _ in range(3)]
    assert {answer.status_code for answer in keyless} == {401}
    assert {e["extensions"]["code"] for a in keyless for e in a.json()["errors"]} == {
        "UNAUTHENTICATED"
    }
    assert served.status_code == 200
    assert {answer.status_code for answer in first_guesses} == {401}  # the budget was untouched


async def test_a_valid_key_from_a_refused_address_keeps_its_own_request_budget(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async with clients(limited(settings), db) as [http]:
        for _ in range(4):
            await ask(http, {"Authorization": "Bearer nope"})
        answers = [await ask(http, platform.headers) for _ in range(4)]
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert_rate_limited(answers[3])


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nope", "Basic dXNlcjpwYXNz", "Bearer mps_test_short", "Bearer a.b.c", "Bearer"],
)
async def test_a_malformed_credential_is_refused_without_a_database_read(
    db: Database, settings: Settings, statements: StatementCounter, authorization: str
) -> None:
    quiet = limited(settings, webhook_delivery=False)  # no dispatcher reading while we count
    async with clients(quiet, db) as [http]:
        statements.start()
        answers = [await ask(http, {"Authorization": authorization}) for _ in range(5)]
        reads = statements.stop()
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429]
    assert reads == 0, statements.statements


async def test_a_key_shaped_guess_costs_one_read(
    db: Database, settings: Settings, statements: StatementCounter
) -> None:
    platform = await make_platform(db)
    quiet = limited(settings, webhook_delivery=False)
    async with clients(quiet, db) as [http]:
        statements.start()
        refused = await ask(http, forged(platform.key))
        reads = statements.stop()
    assert refused.status_code == 401
    assert reads == 1, statements.statements


async def _connection_init(ws_url: str, key: str) -> dict[str, Any] | int | None:
    """The server's answer to connection_init: its message, or the close code."""
    async with websockets.connect(ws_url, subprotocols=PROTOCOLS) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
        await ws.send(json.dumps(init))
        try:
            answer: dict[str, Any] = json.loads(await ws.recv())
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return answer


async def test_a_valid_key_opens_a_websocket_from_an_address_refused_for_guessing(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    guess = forged(platform.key)["Authorization"].removeprefix("Bearer ")
    async for server in serve(limited(settings, rate_limit_failed_authentications=2), db):
        refusals = [await _connection_init(server.ws, guess) for _ in range(3)]
        acknowledged = await _connection_init(server.ws, platform.key)
        async with httpx.AsyncClient(base_url=server.http) as http:
            guessing_over_http = await ask(http, forged(platform.key))
            served_over_http = await ask(http, platform.headers)
    assert refusals == [4403, 4403, 4403]
    assert acknowledged == {"type": "connection_ack"}
    assert_rate_limited(guessing_over_http)
    assert served_over_http.status_code == 200
