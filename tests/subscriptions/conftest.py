"""A real gateway server on a free loopback port, in the test's event loop; and the Node.js
clients' fixtures (tests.nodejs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.nodejs import database_url, gateway, node_tools
from tests.processes import free_port

__all__ = ["LiveServer", "database_url", "gateway", "live", "node_tools", "serve"]


@dataclass(frozen=True)
class LiveServer:
    http: str
    ws: str


async def serve(settings: Settings, db: Database) -> AsyncIterator[LiveServer]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, db=db), host="127.0.0.1", port=port, log_level="warning",
        ws="websockets-sansio", lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # bounded: 10 s
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the gateway server did not start"
    try:
        yield LiveServer(http=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}/graphql")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def live(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    quick = settings.model_copy(
        update={"ws_connection_init_timeout_s": 0.5, "ws_subscriptions_per_connection_max": 3,
                "events_poll_interval_s": 0.2}
    )  # fmt: skip
    async for server in serve(quick, db):
        yield server
