"""A real gateway server (uvicorn) on a free loopback port, in the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn
from opentelemetry.sdk.trace.export import SpanExporter

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.processes import free_port


@dataclass(frozen=True)
class LiveServer:
    http: str
    ws: str


async def serve(
    settings: Settings, db: Database, *, span_exporter: SpanExporter | None = None
) -> AsyncIterator[LiveServer]:
    """`span_exporter`: where the app's spans go when `settings.tracing` is on."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, db=db, span_exporter=span_exporter),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="on",
    )
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
