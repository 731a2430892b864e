"""Real gateway processes for tests that need a server of their own (browser, Node client,
several instances): `python -m gateway serve` on a free loopback port, healthy before use,
always stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SERVER_START_TIMEOUT_S = 30.0
# `serve --workers N`: a parent and N workers each import the whole gateway, which on a loaded
# machine takes longer than one process's usual bound.
WORKERS_START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_healthy(
    base_url: str, server: subprocess.Popen[bytes], log: Path, *, within_s: float
) -> None:
    deadline = time.monotonic() + within_s
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"gateway server exited with code {server.returncode} before it was healthy:\n"
                + log.read_text(errors="replace")
            )
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=1.0)
        except httpx.TransportError as exc:
            last_problem = repr(exc)
        else:
            if response.status_code == 200 and response.json().get("status") == "ok":
                return
            last_problem = f"HTTP {response.status_code}: {response.text[:200]}"
        time.sleep(0.1)  # bounded polling
    pytest.fail(
        f"gateway server not healthy within {within_s:.0f} s ({last_problem}):\n"
        + log.read_text(errors="replace")
    )


class GatewayServer:
    """A gateway process (`python -m gateway serve ... *args`) that a test may kill (SIGKILL, as
    a crash would) and start again on the same database; each start takes a new free port
    unless told which (a browser reconnecting to the same URL), so `url` is the one to call
    now."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        self.env = env
        self.workdir = workdir
        self.args = args
        self.url = ""
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, port: int | None = None) -> str:
        assert self._process is None, "already running"
        port = port or free_port()
        log = self.workdir / f"server-{port}.log"
        command = [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1"]
        with log.open("wb") as log_file:
            self._process = subprocess.Popen(
                [*command, "--port", str(port), *self.args],
                cwd=self.workdir,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        base_url = f"http://127.0.0.1:{port}"
        within_s = WORKERS_START_TIMEOUT_S if "--workers" in self.args else SERVER_START_TIMEOUT_S
        _wait_until_healthy(base_url, self._process, log, within_s=within_s)
        self.url = base_url
        return base_url

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "not running"
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when the machine loses the process."""
        process, self._process = self.process, None
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL after 10 s; nothing when not running."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()  # nothing if it has exited already
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True, slots=True)
class RunningGateway:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]


@contextmanager
def gateway_server(env: dict[str, str], workdir: Path, *args: str) -> Iterator[RunningGateway]:
    """A running `python -m gateway serve ... *args`, healthy; stopped (SIGTERM) at the end."""
    server = GatewayServer(env, workdir, *args)
    try:
        server.start()
        yield RunningGateway(server.url, server.process)
    finally:
        server.stop()


@contextmanager
def gateway_process(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """A running gateway; yields its base URL (http://127.0.0.1:PORT)."""
    with gateway_server(env, workdir) as server:
        yield server.url
