"""A Redis server of a test's own (redis-server on a free loopback port), which the test may
freeze with SIGSTOP (a Redis that hangs: connections open, nothing answered), kill, and start
again on the same port: the machine's shared Redis is never touched."""

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


class OwnRedis:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is needed (the CI starts one from it)"
        self.binary = binary
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "not running"
        return self._process

    def start(self) -> None:
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=0.1, socket_connect_timeout=0.1)
        try:
            for _ in range(PINGS_MAX):
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    assert self._process.poll() is None, "redis-server exited"
                    time.sleep(0.01)  # bounded polling while it starts
            raise AssertionError(f"redis-server on port {self.port} never answered")
        finally:
            client.close()

    def freeze(self) -> None:
        freeze(self.process)

    def thaw(self) -> None:
        thaw(self.process)

    def kill(self) -> None:
        process, self._process = self.process, None
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        """Thawed (a stopped process would not hear SIGTERM) and stopped, whatever its state."""
        process, self._process = self._process, None
        if process is None:
            return
        thaw(process)
        process.terminate()  # nothing if it is already dead
        process.wait(timeout=10)


@contextmanager
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The server's process and its URL; thawed and stopped afterwards, whatever its state."""
    server = OwnRedis()
    try:
        server.start()
        yield server.process, server.url
    finally:
        server.stop()


def freeze(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGSTOP)


def thaw(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGCONT)  # nothing if it is already dead
