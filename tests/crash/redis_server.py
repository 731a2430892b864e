"""A Redis server of the test's own, which it may freeze (SIGSTOP), kill and start again on
the same port: the machine's shared Redis is never touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

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

    def _signal(self, number: signal.Signals) -> None:
        assert self._process is not None, "not running"
        os.kill(self._process.pid, number)

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        assert self._process is not None, "not running"
        self._process.kill()
        self._process.wait(timeout=10)
        self._process = None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        os.kill(process.pid, signal.SIGCONT)  # a stopped process would not hear SIGTERM
        process.terminate()
        process.wait(timeout=10)
