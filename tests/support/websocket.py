"""Subscription.events over a real graphql-transport-ws socket, from the test's side: open,
authenticate, subscribe, read messages (answering pings) and the close code; and a user
made over real HTTP to own what the events are about."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.platforms import PlatformHandle
from tests.support.server import LiveServer

PROTOCOL = "graphql-transport-ws"
EVENTS = """subscription ($after: String, $types: [EventType!], $objectId: ID) {
  events(after: $after, types: $types, objectId: $objectId) {
    cursor type status objectId object { __typename id }
  }
}"""
RECEIVE_TIMEOUT_S = 10


def _person() -> dict[str, Any]:
    address = {"line1": "1 rue", "postalCode": "75001", "city": "Paris", "country": "FR"}
    return {
        "natural": {
            "firstName": "Ada",
            "lastName": "Byron",
            "birthDate": "1990-01-01",
            "nationality": "FR",
            "address": address,
        }
    }


async def create_user(live: LiveServer, platform: PlatformHandle) -> str:
    login = f"u{uuid.uuid4().hex[:12]}"
    query = """mutation ($input: CreateUserInput!) { createUser(input: $input) {
        ... on CreateUserSuccess { user { id } } } }"""
    variables = {"input": {"email": f"{login}@example.com", "login": login, "person": _person()}}
    async with httpx.AsyncClient(base_url=live.http) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=platform.headers
        )
    user_id: str = response.json()["data"]["createUser"]["user"]["id"]
    return user_id


@asynccontextmanager
async def socket(live: LiveServer, **options: Any) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(live.ws, subprotocols=[PROTOCOL], **options) as ws:  # type: ignore[list-item]
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S))
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return message


async def init(ws: ClientConnection, platform: PlatformHandle) -> None:
    payload = {"Authorization": f"Bearer {platform.key}"}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert await receive(ws) == {"type": "connection_ack"}


async def subscribe(ws: ClientConnection, operation_id: str, **variables: Any) -> None:
    message = {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": EVENTS, "variables": variables},
    }
    await ws.send(json.dumps(message))


async def events(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        message = await receive(ws)
        assert message["type"] == "next", message
        found.append(message["payload"]["data"]["events"])
    return found


async def closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await receive(ws)
    return closed.value.rcvd.code if closed.value.rcvd else None
