"""Several gateway processes writing to one platform at once: the event log stays ordered,
gap-free and without duplicates, and a subscriber sees every event once, in log order.

Each process commits its own batches (group commit), numbering the events of a batch with
one reservation; the reservations of the processes interleave. Two instances take transfers
concurrently (each on its own pair of accounts, so that nothing but the event numbering is
shared); a subscriber on the first receives the events of both, carried by PostgreSQL's
NOTIFY, or by Redis between SQLite processes.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from sqlmodel import col

from gateway.store.engine import Database
from gateway.store.journal_tables import Event
from tests.events.test_instances import _platform, call, funded_pair
from tests.processes import gateway_process

TRANSFERS_PER_INSTANCE = 24
CLIENTS_PER_INSTANCE = 8
WAIT_S = 60.0
SUBSCRIBE = {
    "id": "1",
    "type": "subscribe",
    "payload": {
        "query": "subscription { events(types: [TRANSFER_SUCCESSFUL]) { objectId cursor } }"
    },
}
TRANSFER = (
    "mutation ($i: CreateTransferInput!) { createTransfer(input: $i) {"
    " ... on CreateTransferSuccess { transfer { id } } } }"
)
LOG = (
    "query ($after: String) { platform { id events(first: 100, after: $after,"
    " types: [TRANSFER_SUCCESSFUL]) { edges { node { objectId cursor } }"
    " pageInfo { hasNextPage endCursor } } } }"
)


async def _transfers(base_url: str, key: str, debited: str, credited: str) -> list[str]:
    """TRANSFERS_PER_INSTANCE transfers of 1, CLIENTS_PER_INSTANCE at a time."""
    keys = iter(range(TRANSFERS_PER_INSTANCE))
    done: list[str] = []

    async def client(http: httpx.AsyncClient) -> None:
        for number in keys:
            new = {
                "debitedAccountId": debited,
                "creditedAccountId": credited,
                "amount": {"amount": 1, "currency": "EUR"},
                "idempotencyKey": f"w-{base_url[-5:]}-{number}",
            }
            moved = await call(http, key, TRANSFER, i=new)
            done.append(moved["createTransfer"]["transfer"]["id"])

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(CLIENTS_PER_INSTANCE)))
    return done


async def _log(base_url: str, key: str) -> tuple[str, list[tuple[str, str]]]:
    """The platform's id and its TRANSFER_SUCCESSFUL events, oldest first, read by the graph."""
    events: list[tuple[str, str]] = []
    after = None
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        while True:
            platform = (await call(http, key, LOG, after=after))["platform"]
            connection = platform["events"]
            events += [(e["node"]["objectId"], e["node"]["cursor"]) for e in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return platform["id"], events
            after = connection["pageInfo"]["endCursor"]


async def _sequences(url: str, platform_id: str) -> list[int]:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            rows = await session.scalars(
                sa.select(col(Event.sequence))
                .where(col(Event.platform_id) == uuid.UUID(platform_id))
                .order_by(col(Event.sequence))
            )
            return list(rows)
    finally:
        await db.dispose()


async def _writers(env: dict[str, str], url: str, workdir: Path) -> None:
    key = _platform(env, workdir)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
    received: list[dict[str, Any]] = []
    with gateway_process(env, workdir) as first, gateway_process(env, workdir) as second:
        async with httpx.AsyncClient(base_url=first, timeout=30) as http:
            pairs = [await funded_pair(http, key), await funded_pair(http, key)]
        ws_url = first.replace("http://", "ws://") + "/graphql"
        protocols: Any = ["graphql-transport-ws"]
        async with websockets.connect(ws_url, subprotocols=protocols) as ws:
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            await ws.send(json.dumps(SUBSCRIBE))
            await asyncio.sleep(0.5)  # the subscription registers
            written = await asyncio.gather(
                _transfers(first, key, *pairs[0]), _transfers(second, key, *pairs[1])
            )
            async with asyncio.timeout(WAIT_S):
                while len(received) < 2 * TRANSFERS_PER_INSTANCE:
                    message = json.loads(await ws.recv())
                    assert message["type"] == "next", message
                    received.append(message["payload"]["data"]["events"])
        platform_id, log = await _log(second, key)

    transfers = [transfer for instance in written for transfer in instance]
    assert len(set(transfers)) == 2 * TRANSFERS_PER_INSTANCE
    seen = [(event["objectId"], event["cursor"]) for event in received]
    assert sorted(object_id for object_id, _ in seen) == sorted(transfers)  # each once
    assert seen == log  # in the log's order, which the cursors follow
    sequences = await _sequences(url, platform_id)
    assert sequences == list(range(1, len(sequences) + 1))  # gap-free, no duplicate


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    import os

    env = {
        **os.environ,
        "MPS_EVENTS_POLL_INTERVAL_S": "600",  # only the carrier delivers in time
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "MPS_RATE_LIMIT_REQUESTS": "100000",
    }
    env.pop("MPS_REDIS_URL", None)
    return env


async def test_two_instances_writing_to_one_platform_on_postgresql_keep_one_ordered_log(
    environment: dict[str, str], postgresql_url: str, tmp_path: Path
) -> None:
    env = {**environment, "MPS_DATABASE_URL": postgresql_url}
    await _writers(env, postgresql_url, tmp_path)


async def test_two_instances_writing_to_one_platform_on_sqlite_keep_one_ordered_log(
    environment: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}"
    env = {**environment, "MPS_DATABASE_URL": url, "MPS_REDIS_URL": redis_url}
    await _writers(env, url, tmp_path)
