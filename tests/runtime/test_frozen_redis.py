"""A Redis that hangs (stopped with SIGSTOP, not dead) costs a request at most one short
timeout: the rate limiter then lets requests through without asking it for a while, and a
commit's notification goes to it in the background."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from gateway.graphql.runtime.rate_limits import RateLimitPolicy, RateLimits
from gateway.store.notify import RedisNotifications
from tests.processes import free_port

PINGS_MAX = 500  # 5 s at most for the server to answer


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis server of this test's own, which it may freeze."""
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is needed (the CI starts one from it)"
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=0.1, socket_connect_timeout=0.1)
    try:
        for _ in range(PINGS_MAX):
            try:
                if client.ping():
                    break
            except redis.RedisError:
                assert server.poll() is None, "redis-server exited"
                time.sleep(0.01)  # bounded polling while it starts
        yield server, url
    finally:
        client.close()
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)


async def test_a_frozen_redis_is_asked_once_then_left_alone(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, url = own_redis
    policy = RateLimitPolicy(window_s=60, requests=1_000, subscriptions=0, failed_authentications=0)
    limits = RateLimits(policy, redis_url=url)
    try:
        assert await limits.admit_request("key") is None
        assert limits.storage_calls == 1
        os.kill(server.pid, signal.SIGSTOP)
        for _ in range(20):
            assert await limits.admit_request("key") is None  # let through, never refused
        assert limits.storage_calls == 2  # one that timed out, then the breaker
        os.kill(server.pid, signal.SIGCONT)
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await limits.aclose()


async def test_a_commit_is_announced_here_at_once_and_to_a_frozen_redis_in_the_background(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    """The request that committed never waits on Redis: this instance hears at once, the
    publish to the others runs apart and is given up after `PUBLISH_TIMEOUT_S`."""
    server, url = own_redis
    notifications = RedisNotifications(url)
    heard: list[tuple[uuid.UUID, int]] = []
    notifications.local.listeners.append(
        lambda platform_id, sequence: heard.append((platform_id, sequence))
    )
    platform_id = uuid.uuid4()
    os.kill(server.pid, signal.SIGSTOP)
    try:
        await notifications.publish(platform_id, 7)
        assert heard == [(platform_id, 7)]  # this instance, at once
        assert len(notifications.sending) == 1  # the others', still on its way
        await notifications.flush()  # given up after the timeout, not for ever
        assert notifications.sending == set()
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await notifications.stop()
