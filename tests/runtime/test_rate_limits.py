"""Rate limits through the real app: per credential (requests, new subscriptions), per client
address (failed authentications), in process and shared by instances through Redis.

Budgets are small (3 per 60 s) and windows long, so nothing waits for a window to pass: the
tests check the refusal and the `Retry-After` it announces. Each test makes its own platforms,
so its credentials (and their Redis keys) are its own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.enums import Environment
from gateway.services.credentials import issue_api_key
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support.server import serve

QUERY = {"query": "{ platform { id } }"}
SUBSCRIPTION = "subscription { events(types: [USER_CREATED]) { objectId } }"
WINDOW_S = 60


def limited(settings: Settings, **budgets: Any) -> Settings:
    changes = {
        "rate_limit_window_s": WINDOW_S,
        "rate_limit_requests": 3,
        "rate_limit_subscriptions": 3,
        "rate_limit_failed_authentications": 3,
        **budgets,
    }
    return settings.model_copy(update=changes)


@asynccontextmanager
async def clients(
    settings: Settings, db: Database, *addresses: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """HTTP clients on one real app, each from its own client address."""
    async with AsyncExitStack() as stack:
        manager = await stack.enter_async_context(LifespanManager(create_app(settings, db=db)))
        found = []
        for address in addresses or ("127.0.0.1",):
            transport = httpx.ASGITransport(app=manager.app, client=(address, 50_000))
            found.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://gateway")
                )
            )
        yield found


async def ask(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/graphql", json=QUERY, headers=headers)


def assert_rate_limited(response: httpx.Response) -> int:
    """The refusal's Retry-After, after checking the refusal's shape."""
    assert response.status_code == 429, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = int(response.headers["retry-after"])
    assert error["extensions"]["retryAfter"] == retry_after
    assert 0 < retry_after <= WINDOW_S
    return retry_after


async def test_a_credential_over_its_budget_gets_429_with_retry_after(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    async with clients(limited(settings), db) as [http]:
        answers = [await ask(http, platform.headers) for _ in range(4)]
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    # The first hit was an instant ago: its slot frees about a whole window from now.
    assert assert_rate_limited(answers[3]) >= WINDOW_S - 5


async def test_one_credential_exhausted_does_not_limit_another(
    db: Database, settings: Settings
) -> None:
    platform, other_platform = await make_platform(db), await make_platform(db)
    second_key = await issue_api_key(db, platform_id=platform.id, environment=Environment.SANDBOX)
    same_platform = PlatformHandle(id=platform.id, key=second_key)
    async with clients(limited(settings), db) as [http]:
        for _ in range(3):
            assert (await ask(http, platform.headers)).status_code == 200
        assert_rate_limited(await ask(http, platform.headers))
        assert (await ask(http, same_platform.headers)).status_code == 200  # per key
        assert (await ask(http, other_platform.headers)).status_code == 200


async def test_a_budget_of_zero_is_no_limit(db: Database, settings: Settings) -> None:
    platform = await make_platform(db)
    async with clients(limited(settings, rate_limit_requests=0), db) as [http]:
        answers = [await ask(http, platform.headers) for _ in range(6)]
    assert {answer.status_code for answer in answers} == {200}


async def test_failed_authentications_block_that_address_for_failing_credentials(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    forged = {"Authorization": f"Bearer {platform.key[:-4]}zzzz"}
    async with clients(limited(settings), db, "203.0.113.7", "198.51.100.9") as [guesser, other]:
        failures = [await ask(guesser, forged) for _ in range(3)]
        blocked = await ask(guesser, forged)
        elsewhere = await ask(other, forged)
    assert {failure.status_code for failure in failures} == {401}
    assert_rate_limited(blocked)
    assert elsewhere.status_code == 401


async def test_successful_requests_do_not_count_as_failed_authentications(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    budgets = {"rate_limit_requests": 0, "rate_limit_failed_authentications": 1}
    async with clients(limited(settings, **budgets), db) as [http]:
        answers = [await ask(http, platform.headers) for _ in range(4)]
        failed = await ask(http, {"Authorization": "Bearer nope"})
        blocked = await ask(http, {"Authorization": "Bearer nope"})
    assert {answer.status_code for answer in answers} == {200}
    assert failed.status_code == 401
    assert_rate_limited(blocked)


# ---- new subscriptions ------------------------------------------------------------------------


async def test_new_sse_subscriptions_over_the_budget_get_429(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    headers = {**platform.headers, "Accept": "text/event-stream"}
    body = {"query": SUBSCRIPTION}
    async for server in serve(limited(settings, rate_limit_subscriptions=1), db):
        async with (
            httpx.AsyncClient(base_url=server.http, timeout=10) as http,
            http.stream("POST", "/graphql", json=body, headers=headers) as first,
        ):
            assert first.status_code == 200
            second = await http.post("/graphql", json=body, headers=headers)
            query = await http.post("/graphql", json=QUERY, headers=platform.headers)
    assert_rate_limited(second)
    assert query.status_code == 200  # plain requests have their own budget


async def _subscribe(ws: Any, operation_id: str) -> None:
    message = {"id": operation_id, "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
    await ws.send(json.dumps(message))


async def test_new_websocket_subscriptions_over_the_budget_get_an_error_message(
    db: Database, settings: Settings
) -> None:
    platform, other = await make_platform(db), await make_platform(db)
    protocols: Any = ["graphql-transport-ws"]
    async for server in serve(limited(settings, rate_limit_subscriptions=2), db):
        async with websockets.connect(server.ws, subprotocols=protocols) as ws:
            init = {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {platform.key}"},
            }
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            for operation_id in ("1", "2", "3"):
                await _subscribe(ws, operation_id)
            refused = json.loads(await ws.recv())
        async with websockets.connect(server.ws, subprotocols=protocols) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {other.key}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            await _subscribe(ws, "1")
            await ws.send(json.dumps({"type": "ping"}))
            after_other = json.loads(await ws.recv())
    assert refused["type"] == "error"
    assert refused["id"] == "3"
    [error] = refused["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= WINDOW_S
    assert after_other == {"type": "pong"}  # the other credential's subscription was accepted


async def test_failed_websocket_authentications_count_for_the_address(
    db: Database, settings: Settings
) -> None:
    platform = await make_platform(db)
    protocols: Any = ["graphql-transport-ws"]

    async def close_code(key: str) -> int | None:
        async with websockets.connect(server.ws, subprotocols=protocols) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            await ws.send(json.dumps(init))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        return closed.value.rcvd.code if closed.value.rcvd else None

    async for server in serve(limited(settings, rate_limit_failed_authentications=2), db):
        assert [await close_code("nope") for _ in range(3)] == [4403, 4403, 4403]
        async with httpx.AsyncClient(base_url=server.http) as http:
            assert_rate_limited(await ask(http, {"Authorization": "Bearer nope"}))
            assert (await ask(http, platform.headers)).status_code == 200


# ---- several instances ------------------------------------------------------------------------


async def test_two_instances_sharing_redis_share_one_budget(
    db: Database, settings: Settings, redis_url: str
) -> None:
    platform, other = await make_platform(db), await make_platform(db)
    shared = limited(settings, redis_url=redis_url)
    async with clients(shared, db) as [first], clients(shared, db) as [second]:
        spent = [await ask(first, platform.headers) for _ in range(2)]
        spent.append(await ask(second, platform.headers))
        refused_second = await ask(second, platform.headers)
        refused_first = await ask(first, platform.headers)
        unaffected = await ask(second, other.headers)
    assert [answer.status_code for answer in spent] == [200, 200, 200]
    assert_rate_limited(refused_second)
    assert_rate_limited(refused_first)
    assert unaffected.status_code == 200


async def test_instances_without_redis_each_count_alone(db: Database, settings: Settings) -> None:
    platform = await make_platform(db)
    alone = limited(settings, redis_url=None)
    async with clients(alone, db) as [first], clients(alone, db) as [second]:
        answers = [await ask(first, platform.headers) for _ in range(3)]
        answers += [await ask(second, platform.headers) for _ in range(3)]
    assert {answer.status_code for answer in answers} == {200}
