"""A Redis that hangs (stopped with SIGSTOP, not dead) costs a request at most one short
timeout: the rate limiter then lets requests through without asking it for a while."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from gateway.graphql.runtime.rate_limits import RateLimitPolicy, RateLimits
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
