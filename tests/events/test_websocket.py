"""Subscription.events over graphql-transport-ws, through a real server and a real socket:
authentication in connection_init, the protocol's error paths, live events, resume."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support.server import LiveServer, serve
from tests.support.websocket import (
    closed_with,
    create_user,
    events,
    init,
    receive,
    socket,
    subscribe,
)


@pytest.mark.parametrize("payload", [None, {}, {"Authorization": "Bearer nope"}, {"x": 1}])
async def test_a_connection_init_without_a_valid_key_is_closed_4403(
    live: LiveServer, payload: dict[str, Any] | None
) -> None:
    message: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        message["payload"] = payload
    async with socket(live) as ws:
        await ws.send(json.dumps(message))
        assert await closed_with(ws) == 4403


async def test_subscribing_before_connection_init_is_closed_4401(live: LiveServer) -> None:
    async with socket(live) as ws:
        await subscribe(ws, "1")
        assert await closed_with(ws) == 4401


async def test_a_socket_that_never_sends_connection_init_is_closed_4408(live: LiveServer) -> None:
    async with socket(live) as ws:
        assert await closed_with(ws) == 4408


async def test_the_legacy_graphql_ws_subprotocol_is_not_offered(live: LiveServer) -> None:
    async with websockets.connect(live.ws, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        assert await closed_with(ws) == 4406


async def test_live_events_arrive_in_order_with_their_object_read_fresh(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    async with socket(live) as ws:
        await init(ws, platform)
        await subscribe(ws, "1")
        await asyncio.sleep(0.2)  # let the subscription register before the change
        user_id = await create_user(live, platform)
        received = await events(ws, 2)
    assert [event["type"] for event in received] == ["USER_CREATED", "PERSON_CREATED"]
    assert received[0]["objectId"] == user_id
    assert received[0]["object"] == {"__typename": "User", "id": user_id}


async def test_resuming_after_a_cursor_replays_exactly_the_missed_events_then_goes_live(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    async with socket(live) as ws:
        await init(ws, platform)
        await subscribe(ws, "1", types=["USER_CREATED"])
        await asyncio.sleep(0.2)
        await create_user(live, platform)
        [first] = await events(ws, 1)
    missed = [await create_user(live, platform) for _ in range(3)]
    async with socket(live) as ws:
        await init(ws, platform)
        await subscribe(ws, "2", after=first["cursor"], types=["USER_CREATED"])
        replayed = await events(ws, 3)
        live_user = await create_user(live, platform)
        [fresh] = await events(ws, 1)
    assert [event["objectId"] for event in replayed] == missed
    assert fresh["objectId"] == live_user
    cursors = [first["cursor"], *(event["cursor"] for event in replayed), fresh["cursor"]]
    assert len(set(cursors)) == 5


async def test_a_subscriber_sees_only_its_platforms_events(live: LiveServer, db: Database) -> None:
    mine, other = await make_platform(db), await make_platform(db)
    async with socket(live) as ws:
        await init(ws, mine)
        await subscribe(ws, "1", types=["USER_CREATED"])
        await asyncio.sleep(0.2)
        await create_user(live, other)
        my_user = await create_user(live, mine)
        [event] = await events(ws, 1)
    assert event["objectId"] == my_user


async def _post(live: LiveServer, platform: PlatformHandle, query: str, **variables: Any) -> Any:
    async with httpx.AsyncClient(base_url=live.http) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=platform.headers
        )
    return response.json()["data"]


async def test_an_object_id_filter_passes_only_that_objects_events(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db)
    user_id = await create_user(live, platform)
    opened = await _post(
        live,
        platform,
        'mutation ($u: ID!) { openAccount(input: {userId: $u, currency: "EUR"}) {'
        " ... on OpenAccountSuccess { account { id } } } }",
        u=user_id,
    )
    account_id = opened["openAccount"]["account"]["id"]
    async with socket(live) as ws:
        await init(ws, platform)
        await subscribe(ws, "1", objectId=account_id)
        await asyncio.sleep(0.2)
        await create_user(live, platform)
        await _post(
            live,
            platform,
            "mutation ($a: ID!) { blockAccount(input: {accountId: $a}) { __typename } }",
            a=account_id,
        )
        await create_user(live, platform)
        [event] = await events(ws, 1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 1.0)
    assert (event["type"], event["objectId"], event["status"]) == (
        "ACCOUNT_BLOCKED",
        account_id,
        "BLOCKED",
    )


async def test_a_cursor_of_another_platform_or_garbage_is_an_error(
    live: LiveServer, db: Database
) -> None:
    mine, other = await make_platform(db), await make_platform(db)
    await create_user(live, other)
    query = "{ platform { events { nodes { cursor } } } }"
    async with httpx.AsyncClient(base_url=live.http) as http:
        body = (await http.post("/graphql", headers=other.headers, json={"query": query})).json()
    foreign = body["data"]["platform"]["events"]["nodes"][0]["cursor"]
    async with socket(live) as ws:
        await init(ws, mine)
        for operation_id, cursor in (("1", foreign), ("2", "garbage")):
            await subscribe(ws, operation_id, after=cursor)
            message = await receive(ws)
            assert message["type"] == "error" or "errors" in message.get("payload", {}), message
            assert "cursor" in json.dumps(message)


async def test_subscriptions_per_connection_are_capped(live: LiveServer, db: Database) -> None:
    platform = await make_platform(db)
    async with socket(live) as ws:
        await init(ws, platform)
        for operation_id in ("1", "2", "3", "4"):
            await subscribe(ws, operation_id)
        message = await receive(ws)
    assert message["type"] == "error"
    assert message["id"] == "4"
    assert "limit" in json.dumps(message).lower()


async def test_browser_origins_are_checked_when_configured(
    db: Database, settings: Settings
) -> None:
    strict = settings.model_copy(update={"ws_allowed_origins": ["https://app.example"]})
    async for server in serve(strict, db):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with socket(server, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with socket(server, origin="https://app.example") as ws:
            platform = await make_platform(db)
            await init(ws, platform)


ACCOUNTS = "{ platform { accounts(first: 2) { nodes { id } } } }"
BALANCE = "query ($id: ID!) { node(id: $id) { ... on Account { balance { amount } } } }"
TRANSFER = """mutation ($input: CreateTransferInput!) {
  createTransfer(input: $input) { __typename }
}"""


async def _balance_over(ws: ClientConnection, operation_id: str, account_id: str) -> int:
    message = {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": BALANCE, "variables": {"id": account_id}},
    }
    await ws.send(json.dumps(message))
    answer = await receive(ws)
    assert answer["type"] == "next", answer
    assert await receive(ws) == {"id": operation_id, "type": "complete"}
    amount: int = answer["payload"]["data"]["node"]["balance"]["amount"]
    return amount


async def test_each_query_on_a_socket_reads_afresh_what_an_earlier_one_read(
    live: LiveServer, db: Database
) -> None:
    platform = await make_platform(db, natural_users=1)
    async with httpx.AsyncClient(base_url=live.http, headers=platform.headers) as http:
        found = (await http.post("/graphql", json={"query": ACCOUNTS})).json()
        debited, credited = [node["id"] for node in found["data"]["platform"]["accounts"]["nodes"]]
        async with socket(live) as ws:
            await init(ws, platform)
            before = await _balance_over(ws, "1", debited)
            new = {
                "debitedAccountId": debited,
                "creditedAccountId": credited,
                "amount": {"amount": 25, "currency": "EUR"},
                "idempotencyKey": "ws-fresh",
            }
            variables = {"input": new}
            moved = await http.post("/graphql", json={"query": TRANSFER, "variables": variables})
            assert moved.json()["data"]["createTransfer"]["__typename"] == "CreateTransferSuccess"
            after = await _balance_over(ws, "2", debited)
    assert after == before - 25
