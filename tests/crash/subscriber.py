"""A subscriber to a platform's events over graphql-transport-ws, kept running beside a storm
as a careful client runs one: it collects every event, and if its subscription ends (an
error, a completion, a closed socket) it subscribes again `after` the last cursor it
received, as the README says a client resumes; each such end is recorded."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import websockets

from tests.crash.checks import events_after
from tests.support.platforms import PlatformHandle
from tests.support.websocket import PROTOCOL, init, subscribe

RESUME_PAUSE_S = 0.1
WAIT_STEP_S = 0.05
CATCH_UP_TIMEOUT_S = 60.0  # a notification listener's reconnection backs off up to 10 s


@dataclass
class Follower:
    base_url: str
    platform: PlatformHandle
    after: str
    received: list[dict[str, Any]] = field(default_factory=list)
    interruptions: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @property
    def cursor(self) -> str:
        return self.received[-1]["cursor"] if self.received else self.after

    async def _once(self) -> None:
        url = self.base_url.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            await init(ws, self.platform)
            await subscribe(ws, "1", after=self.cursor)
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    self.received.append(message["payload"]["data"]["events"])
                else:
                    self.interruptions.append(json.dumps(message))
                    return

    async def _run(self) -> None:
        while True:
            try:
                await self._once()
            except (OSError, AssertionError, TimeoutError, websockets.WebSocketException) as end:
                self.interruptions.append(repr(end))
            await asyncio.sleep(RESUME_PAUSE_S)

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def received_at_least(self, count: int) -> None:
        """Wait (bounded) until `count` events have come."""
        for _ in range(int(CATCH_UP_TIMEOUT_S / WAIT_STEP_S)):
            assert self.task is not None
            assert not self.task.done(), "the follower stopped"
            if len(self.received) >= count:
                return
            await asyncio.sleep(WAIT_STEP_S)
        raise AssertionError(
            f"the subscriber has {len(self.received)} events, {count} awaited;"
            f" interruptions: {self.interruptions[-5:]}"
        )

    async def hears_again(self, writer_url: str) -> None:
        """Receives an event committed after this call (while a storm goes on through
        `writer_url`): the notifications that carry them reach its instance again."""
        committed = len(await events_after(writer_url, self.platform, self.after))
        await self.received_at_least(committed + 1)

    async def assert_has_every_event(self, writer_url: str) -> None:
        """Every event of the log after `after`, in order, once each."""
        logged = await events_after(writer_url, self.platform, self.after)
        await self.received_at_least(len(logged))
        assert [event["cursor"] for event in self.received] == [
            event["cursor"] for event in logged
        ], f"not the log, in order, once each; interruptions: {self.interruptions[-5:]}"
