"""How the tenant matrix sends its requests and sees what they did: POSTs (multipart when they
carry files), answers with ids masked by name, leaks, snapshots of a platform's rows, and
subscriptions over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection

from gateway.domain.ids import new_id
from tests.security.matrix import UPLOAD

# ---- calls ---------------------------------------------------------------------------------


async def post(
    client: httpx.AsyncClient,
    document: str,
    variables: dict[str, Any],
    uploads: Sequence[str],
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """POST a GraphQL request (multipart when it carries files); the decoded body."""
    if uploads:
        files_map = {str(i): [path] for i, path in enumerate(uploads)}
        operations = {"query": document, "variables": variables}
        response = await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
            files={str(i): UPLOAD for i in range(len(uploads))},
            headers=dict(headers),
        )
    else:
        response = await client.post(
            "/graphql", json={"query": document, "variables": variables}, headers=dict(headers)
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def masked(body: Any, names: Mapping[str, str]) -> Any:
    """The body with each id replaced by its name (an id may appear inside a message)."""
    text = json.dumps(body, sort_keys=True)
    for found, name in names.items():
        text = text.replace(found, f"<{name}>")
    return json.loads(text)


def fresh_id() -> str:
    """An id of the same shape as every real one (a UUIDv7) that names nothing."""
    return str(new_id())


def leaked(body: Any, secrets: Iterable[str]) -> list[str]:
    text = json.dumps(body)
    return sorted(secret for secret in secrets if secret in text)


# ---- database snapshots ----------------------------------------------------------------


async def platform_tables(engine: AsyncEngine) -> list[sa.Table]:
    """Every table of the database with a platform_id column, as the database has them."""
    metadata = sa.MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: metadata.reflect(sync))
    return [t for t in metadata.sorted_tables if "platform_id" in t.c or t.name == "platforms"]


async def snapshot(
    engine: AsyncEngine, tables: Sequence[sa.Table], platform_id: uuid.UUID
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the platform in every table (and the platforms row), in key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for table in tables:
            column = table.c.id if table.name == "platforms" else table.c.platform_id
            keys = list(table.primary_key.columns) or list(table.c)
            statement = (
                sa.select(table)
                .where(sa.type_coerce(column, sa.Uuid()) == platform_id)
                .order_by(*keys)
            )
            rows[table.name] = [tuple(row) for row in (await connection.execute(statement))]
    return rows


# ---- subscriptions ---------------------------------------------------------------------

RECEIVE_TIMEOUT_S = 10
PROTOCOL: Any = ["graphql-transport-ws"]


@asynccontextmanager
async def subscription(
    url: str, authorization: str, document: str, variables: dict[str, Any]
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws socket, acknowledged, with one subscription started."""
    async with websockets.connect(url, subprotocols=PROTOCOL) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": authorization}}
        await ws.send(json.dumps(init))
        assert await receive(ws) == {"type": "connection_ack"}
        start = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": document, "variables": variables},
        }
        await ws.send(json.dumps(start))
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S)
        message: dict[str, Any] = json.loads(raw)
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return message


async def events_until(
    ws: ClientConnection, stop: Callable[[dict[str, Any]], bool], *, forbidden: Iterable[str]
) -> list[dict[str, Any]]:
    """Every `next` message's event up to and including the first one `stop` accepts; each
    checked, as it arrives, to carry none of the `forbidden` strings."""
    found = []
    while True:
        message = await receive(ws)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["events"]
        assert leaked(event, forbidden) == [], f"a victim's event reached the attacker: {event}"
        found.append(event)
        if stop(event):
            return found
