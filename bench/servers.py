"""Servers as subprocesses on free loopback ports, always stopped.

`Servers` is a context manager: every process started through it runs in its own session
(process group) and is stopped when the block ends, however it ends (normal exit, an
exception, Ctrl-C, or SIGTERM, which `__main__` turns into an exception): SIGTERM to the
group, then SIGKILL after a grace period. A server is used only once it answers its health
probe; one that exits or stays silent fails the run with the tail of its log.

A server's resident memory (`Server.rss_kib`) is the sum of VmRSS in /proc/<pid>/status over
its process and every descendant (uvicorn's, Node's), read whenever the bench asks.

Every Python server runs under the same uvicorn settings: one worker, the default event loop
and HTTP implementation of uvicorn[standard] (uvloop, httptools), log level warning, no
access log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from bench.config import PYTHON, REPO_DIR

START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
LOG_TAIL_CHARS = 3_000
WS_MAX_SIZE = 1_000_000  # the gateway's request body limit, as `mps-gateway serve` sets it


class BenchError(RuntimeError):
    """A failure that ends the bench run with a non-zero exit."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_argv(target: str, port: int, *, factory: bool) -> list[str]:
    """The one uvicorn command line every Python server of the bench runs under."""
    argv = [PYTHON, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "1", "--log-level", "warning", "--no-access-log"]
    argv += ["--ws-max-size", str(WS_MAX_SIZE), "--lifespan", "on"]
    return [*argv, "--factory"] if factory else argv


@dataclass(frozen=True, slots=True)
class Probe:
    """A request that answers 2xx once the server is ready."""

    method: str = "GET"
    path: str = "/healthz"
    json: Mapping[str, object] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServerSpec:
    name: str
    argv: Sequence[str]
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    probe: Probe = field(default_factory=Probe)
    cwd: Path = REPO_DIR


@dataclass(slots=True)
class Server:
    spec: ServerSpec
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.spec.port}/graphql"

    def rss_kib(self) -> int:
        """Resident memory of the server's process and its descendants, in KiB."""
        return sum(_vm_rss_kib(pid) for pid in _process_tree(self.process.pid))

    def log_tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL_CHARS:]


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The bench's environment without any MPS_* setting of the caller's, plus `extra`."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("MPS_")}
    return {**base, **extra}


class Servers:
    """Starts servers, waits until they are healthy, and stops every one of them at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Server] = []

    def __enter__(self) -> Servers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for server in reversed(list(self.running)):
            self.stop(server)

    def start(self, spec: ServerSpec) -> Server:
        log = self.log_dir / f"{spec.name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own command lines
                list(spec.argv),
                cwd=spec.cwd,
                env=clean_environment(spec.env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(spec, process, log)
        self.running.append(server)
        self._wait_until_healthy(server)
        return server

    def stop(self, server: Server) -> None:
        if server in self.running:
            self.running.remove(server)
        if server.process.poll() is not None:
            return
        _signal_group(server.process, signal.SIGTERM)
        try:
            server.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(server.process, signal.SIGKILL)
            server.process.wait(timeout=STOP_GRACE_S)

    def _wait_until_healthy(self, server: Server) -> None:
        probe = server.spec.probe
        deadline = time.monotonic() + START_TIMEOUT_S
        problem = "no answer yet"
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchError(
                    f"{server.spec.name} exited with code {server.process.returncode} before it"
                    f" was ready; its log ({server.log}) ends with:\n{server.log_tail()}"
                )
            try:
                response = httpx.request(
                    probe.method,
                    server.url + probe.path,
                    json=probe.json,
                    headers=dict(probe.headers),
                    timeout=2.0,
                )
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
            except httpx.TransportError as error:
                problem = repr(error)
            time.sleep(0.1)
        raise BenchError(
            f"{server.spec.name} was not ready within {START_TIMEOUT_S:.0f} s ({problem});"
            f" its log ({server.log}) ends with:\n{server.log_tail()}"
        )


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the process group of a server we started (its own session, so only its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _parent_pids() -> dict[int, int]:
    """Every process's parent, from /proc/<pid>/stat (the field after the parenthesised name)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_pids().items():
        children.setdefault(parent, []).append(pid)
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending += children.get(pid, [])
    return tree


def _vm_rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), None)
    return int(line.split()[1]) if line else 0  # "VmRSS:   123456 kB"; none for a zombie
