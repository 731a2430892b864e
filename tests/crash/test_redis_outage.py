"""Redis frozen (SIGSTOP) and then killed under a storm of transfers, with two gateway
instances using it (rate limits, and the notifications that carry events between them): the
requests keep succeeding at once (no 503, no error), the ledger holds, and a WebSocket
subscriber on the other instance receives every event of the storm, in order, without a gap
or a duplicate, once Redis is back.

The subscriber's instance polls the log only every 600 s, far beyond the test: what reaches
it comes through Redis, so the test shows that the notifications flow again after Redis
restarts (the listener reconnects) and that a notification heard after some were lost brings
the whole log up to date."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import websockets

from tests.crash.checks import assert_storm_left_everything_whole, events_after
from tests.crash.harness import funded_platform, gateway_env, started, storm_on
from tests.crash.redis_server import OwnRedis
from tests.crash.storm import INSUFFICIENT, REPLAY, SUCCESS, Storm
from tests.processes import GatewayServer
from tests.support.platforms import PlatformHandle
from tests.support.websocket import PROTOCOL, init, subscribe

SUCCESSES_PER_PHASE = 60
WAIT_STEP_S = 0.05
CATCH_UP_TIMEOUT_S = 60.0  # the listener's reconnection backs off up to 10 s


async def follow(
    base_url: str, platform: PlatformHandle, after: str, received: list[dict[str, Any]]
) -> None:
    """Subscribe to every event after `after` over graphql-transport-ws; collect them."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await init(ws, platform)
        await subscribe(ws, "1", after=after)
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next", message
            received.append(message["payload"]["data"]["events"])


async def received_at_least(
    count: int, received: list[dict[str, Any]], follower: asyncio.Task[None]
) -> None:
    for _ in range(int(CATCH_UP_TIMEOUT_S / WAIT_STEP_S)):
        if follower.done():
            follower.result()  # its failure, if it failed
            raise AssertionError("the subscription ended")
        if len(received) >= count:
            return
        await asyncio.sleep(WAIT_STEP_S)
    raise AssertionError(f"the subscriber has {len(received)} events, {count} awaited")


async def heard_again(
    storm: Storm, writer: GatewayServer, start: str, received: list[dict[str, Any]],
    follower: asyncio.Task[None],
) -> None:  # fmt: skip
    """Redis carries again: the subscriber receives an event committed after this call (the
    storm goes on meanwhile; only a notification through Redis can bring it)."""
    committed = len(await events_after(writer.url, storm.platform, start))
    await received_at_least(committed + 1, received, follower)


async def test_a_frozen_then_killed_redis_costs_no_request_and_no_event(
    postgresql_url: str, tmp_path: Path
) -> None:
    redis = OwnRedis()
    redis.start()
    platform = await funded_platform(postgresql_url)
    env = gateway_env(postgresql_url, tmp_path, MPS_REDIS_URL=redis.url)
    writer = GatewayServer(env, tmp_path)
    watcher = GatewayServer({**env, "MPS_EVENTS_POLL_INTERVAL_S": "600"}, tmp_path)
    received: list[dict[str, Any]] = []
    follower: asyncio.Task[None] | None = None
    try:
        await started(writer)
        await started(watcher)
        start = (await events_after(writer.url, platform))[-1]["cursor"]
        follower = asyncio.create_task(follow(watcher.url, platform, start, received))
        async with storm_on(writer, platform) as run:
            await run.storm.wait_for(SUCCESS, SUCCESSES_PER_PHASE)
            redis.freeze()
            await run.storm.wait_for(SUCCESS, SUCCESSES_PER_PHASE)
            redis.thaw()
            await heard_again(run.storm, writer, start, received, follower)
            redis.kill()
            await run.storm.wait_for(SUCCESS, SUCCESSES_PER_PHASE)
            await asyncio.to_thread(redis.start)
            await heard_again(run.storm, writer, start, received, follower)
        logged = await events_after(writer.url, platform, start)
        await received_at_least(len(logged), received, follower)
        assert [event["cursor"] for event in received] == [event["cursor"] for event in logged]
        await assert_storm_left_everything_whole(
            storm=run.storm,
            database_url=postgresql_url,
            base_url=writer.url,
            balances_before=run.balances_before,
        )
        answers = set(run.storm.counts)
        assert answers <= {SUCCESS, REPLAY, INSUFFICIENT}, run.storm.counts  # all at once
    finally:
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        writer.stop()
        watcher.stop()
        redis.stop()
