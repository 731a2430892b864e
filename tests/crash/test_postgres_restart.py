"""The PostgreSQL server stopped and started again under a storm of transfers (a private
cluster, see postgres_cluster.py): while it is down every request is answered HTTP 503
`SERVICE_UNAVAILABLE` (the gateway never claims a success or a failure for a write it could
not make), and once it is back the retries complete, each transfer applied once.

A second instance, which polls the log only every 600 s, serves a WebSocket subscriber: its
LISTEN connection is cut by each stop, and once it has listened again the subscriber (which
resumes after its last cursor if its subscription ends) has every event, in order, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.crash.checks import assert_storm_left_everything_whole, events_after
from tests.crash.harness import funded_platform, gateway_env, started, storm_on
from tests.crash.postgres_cluster import private_cluster
from tests.crash.storm import SUCCESS, TRANSPORT, UNAVAILABLE
from tests.crash.subscriber import Follower
from tests.processes import GatewayServer

SUCCESSES_BETWEEN_RESTARTS = 60
UNAVAILABLE_SEEN_PER_OUTAGE = 20
MODES = ("fast", "immediate")  # a clean shutdown that cuts the connections; a crash


async def test_a_postgresql_restart_mid_storm_is_a_503_and_loses_nothing(tmp_path: Path) -> None:
    with private_cluster() as cluster:
        platform = await funded_platform(cluster.url)
        env = gateway_env(cluster.url, tmp_path)
        server = GatewayServer(env, tmp_path)
        watcher = GatewayServer({**env, "MPS_EVENTS_POLL_INTERVAL_S": "600"}, tmp_path)
        follower: Follower | None = None
        try:
            await started(server)
            await started(watcher)
            start = (await events_after(server.url, platform))[-1]["cursor"]
            follower = Follower(watcher.url, platform, after=start)
            follower.start()
            async with storm_on(server, platform) as run:
                for mode in MODES:
                    await run.storm.wait_for(SUCCESS, SUCCESSES_BETWEEN_RESTARTS)
                    run.storm.phase = f"stopping ({mode})"
                    await asyncio.to_thread(cluster.stop, mode)
                    run.storm.phase = f"down ({mode})"
                    await run.storm.wait_for(UNAVAILABLE, UNAVAILABLE_SEEN_PER_OUTAGE)
                    run.storm.phase = f"starting ({mode})"
                    await asyncio.to_thread(cluster.start)
                    run.storm.phase = f"up again ({mode})"
                    await follower.hears_again(server.url)
                await run.storm.wait_for(SUCCESS, SUCCESSES_BETWEEN_RESTARTS)
            await follower.assert_has_every_event(server.url)
            await assert_storm_left_everything_whole(
                storm=run.storm,
                database_url=cluster.url,
                base_url=server.url,
                balances_before=run.balances_before,
            )
        finally:
            if follower is not None:
                await follower.stop()
            server.stop()
            watcher.stop()
    assert run.storm.counts[TRANSPORT] == 0  # the gateway answered every request
    assert server.starts == 1
    for mode in MODES:  # sent and answered while the server was down: 503, and only that
        down = run.storm.by_phase[f"down ({mode})"]
        assert set(down) == {UNAVAILABLE}, (mode, down)
