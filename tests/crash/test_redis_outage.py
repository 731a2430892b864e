"""Redis frozen (SIGSTOP) and then killed under a storm of transfers, with two gateway
instances using it (rate limits, and the notifications that carry events between them): the
requests keep succeeding at once (no 503, no error), the ledger holds, and a WebSocket
subscriber on the other instance receives every event of the storm, in order, without a gap
or a duplicate, its subscription never interrupted.

The subscriber's instance polls the log only every 600 s, far beyond the test: what reaches
it comes through Redis, so the test shows that the notifications flow again once Redis is
thawed and once it is restarted (the listener reconnects), and that a notification heard
after some were lost brings the subscriber up to date."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.crash.checks import assert_storm_left_everything_whole, events_after
from tests.crash.harness import funded_platform, gateway_env, started, storm_on
from tests.crash.storm import INSUFFICIENT, REPLAY, SUCCESS
from tests.crash.subscriber import Follower
from tests.processes import GatewayServer
from tests.support.redis_server import OwnRedis

SUCCESSES_PER_PHASE = 60


async def test_a_frozen_then_killed_redis_costs_no_request_and_no_event(
    postgresql_url: str, tmp_path: Path
) -> None:
    redis = OwnRedis()
    redis.start()
    platform = await funded_platform(postgresql_url)
    env = gateway_env(postgresql_url, tmp_path, MPS_REDIS_URL=redis.url)
    writer = GatewayServer(env, tmp_path)
    watcher = GatewayServer({**env, "MPS_EVENTS_POLL_INTERVAL_S": "600"}, tmp_path)
    follower: Follower | None = None
    try:
        await started(writer)
        await started(watcher)
        start = (await events_after(writer.url, platform))[-1]["cursor"]
        follower = Follower(watcher.url, platform, after=start)
        follower.start()
        async with storm_on(writer, platform) as run:
            await run.storm.wait_for(SUCCESS, SUCCESSES_PER_PHASE)
            redis.freeze()
            await run.storm.wait_for(SUCCESS, SUCCESSES_PER_PHASE)
            redis.thaw()
            await follower.hears_again(writer.url)
            redis.kill()
            await run.storm.wait_for(SUCCESS, SUCCESSES_PER_PHASE)
            await asyncio.to_thread(redis.start)
            await follower.hears_again(writer.url)
        await follower.assert_has_every_event(writer.url)
        assert follower.interruptions == []
        await assert_storm_left_everything_whole(
            storm=run.storm,
            database_url=postgresql_url,
            base_url=writer.url,
            balances_before=run.balances_before,
        )
        answers = set(run.storm.counts)
        assert answers <= {SUCCESS, REPLAY, INSUFFICIENT}, run.storm.counts  # each at once
    finally:
        if follower is not None:
            await follower.stop()
        writer.stop()
        watcher.stop()
        redis.stop()
