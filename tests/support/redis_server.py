"""A Redis server of a test's own (redis-server on a free loopback port), which the test may
freeze with SIGSTOP (a Redis that hangs: connections open, nothing answered) or kill."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.processes import free_port

PINGS_MAX = 500  # 5 s at most for the server to answer


@contextmanager
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The server's process and its URL; thawed and stopped afterwards, whatever its state."""
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
        thaw(server)
        server.terminate()  # nothing if it is already dead
        server.wait(timeout=10)


def freeze(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGSTOP)


def thaw(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGCONT)  # nothing if it is already dead
