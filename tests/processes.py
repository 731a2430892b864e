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
from pathlib import Path

import httpx
import pytest

SERVER_START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
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
        f"gateway server not healthy within {SERVER_START_TIMEOUT_S:.0f} s ({last_problem}):\n"
        + log.read_text(errors="replace")
    )


@contextmanager
def gateway_process(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """A running gateway; yields its base URL (http://127.0.0.1:PORT)."""
    with gateway_server(env, workdir) as (base_url, _server):
        yield base_url


@contextmanager
def gateway_server(
    env: dict[str, str], workdir: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A running gateway and its process (to signal); stopped afterwards if still running."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / f"server-{port}.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(base_url, server, log)
        yield base_url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
