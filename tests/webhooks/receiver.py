"""A real webhook receiver for tests: a Starlette app served by uvicorn on 127.0.0.1.

It verifies every request's signature with `standardwebhooks`, answers 500 to the first
`fail_first` requests of each message (or to all of them while `always_fail`), then 200, and
deduplicates by `webhook-id` the way a receiver should: `accepted` holds one payload per id.
`raw` keeps every request's body and headers as they came, to verify them again.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

START_WAIT_MAX_S = 10.0


@dataclass
class Received:
    webhook_id: str
    status: int
    payload: Any
    traceparent: str | None = None  # the sender's trace context (W3C), when it traces


@dataclass
class Receiver:
    secret: str | None = None  # the endpoint's, once created
    fail_first: int = 0
    always_fail: bool = False
    port: int = 0
    gate: asyncio.Event | None = None  # when given, each answer waits until it is set
    held: int = 0  # requests that reached the gate
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, Any] = field(default_factory=dict)
    unverified: int = 0
    raw: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)  # body, headers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def seen(self, webhook_id: str) -> int:
        return sum(1 for request in self.requests if request.webhook_id == webhook_id)

    def statuses(self) -> Counter[tuple[str, int]]:
        return Counter((request.webhook_id, request.status) for request in self.requests)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.raw.append((body, dict(request.headers)))
        assert self.secret is not None, "the receiver got a request before its endpoint existed"
        try:
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.unverified += 1
            return Response(status_code=400)
        webhook_id = request.headers["webhook-id"]
        if self.gate is not None:  # a slow receiver
            self.held += 1
            await self.gate.wait()
        failing = self.always_fail or self.seen(webhook_id) < self.fail_first
        status = 500 if failing else 200
        traceparent = request.headers.get("traceparent")
        self.requests.append(Received(webhook_id, status, payload, traceparent))
        if status == 200:
            self.accepted.setdefault(webhook_id, payload)  # a redelivery changes nothing
        return Response(status_code=status)


@asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[Receiver]:
    """Serve `receiver` on a free port of 127.0.0.1 in this event loop until the block ends."""
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="none",
        http="h11",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    receiver.port = listener.getsockname()[1]
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(START_WAIT_MAX_S):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to await
                await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=START_WAIT_MAX_S)
        listener.close()
