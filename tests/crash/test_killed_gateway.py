"""A gateway process killed with SIGKILL in the middle of a storm of transfers, again and
again, and started again on the same database: the clients, retrying each transfer with its
idempotency key until it has an answer, lose nothing and apply nothing twice, on SQLite as
on PostgreSQL (the process dies with transactions open, between a commit and its answer,
and with answers half-sent). A subscriber on a second instance, which lives on, receives
every event the killed one committed, in order, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.checks import assert_storm_left_everything_whole, events_after
from tests.crash.harness import funded_platform, gateway_env, started, storm_on
from tests.crash.storm import SUCCESS, TRANSPORT
from tests.crash.subscriber import Follower
from tests.processes import GatewayServer

KILLS = 3
SUCCESSES_BETWEEN_KILLS = 60


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    url: str = request.getfixturevalue("postgresql_url")
    return url


async def test_a_gateway_killed_mid_storm_loses_nothing_and_applies_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    platform = await funded_platform(database_url)
    env = gateway_env(database_url, tmp_path, MPS_EVENTS_POLL_INTERVAL_S="1")
    server = GatewayServer(env, tmp_path)
    watcher = GatewayServer(env, tmp_path)
    follower: Follower | None = None
    try:
        await started(server)
        await started(watcher)
        start = (await events_after(server.url, platform))[-1]["cursor"]
        follower = Follower(watcher.url, platform, after=start)
        follower.start()
        async with storm_on(server, platform) as run:
            for _ in range(KILLS):
                await run.storm.wait_for(SUCCESS, SUCCESSES_BETWEEN_KILLS)
                server.kill()
                await run.storm.wait_for(TRANSPORT, 1)  # a client found it gone
                await started(server)
            await run.storm.wait_for(SUCCESS, SUCCESSES_BETWEEN_KILLS)
        await assert_storm_left_everything_whole(
            storm=run.storm,
            database_url=database_url,
            base_url=server.url,
            balances_before=run.balances_before,
        )
        await follower.assert_has_every_event(watcher.url)
        assert follower.interruptions == []
    finally:
        if follower is not None:
            await follower.stop()
        server.stop()
        watcher.stop()
    assert server.starts == KILLS + 1
