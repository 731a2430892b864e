"""/metrics of real `mps-gateway serve` processes: on a port of its own (and then not on the
public one), and merged across `--workers 2`, whose parent serves the metrics port from the
values every worker writes to the multiprocess directory it made (and removes at the end)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.processes import free_port, gateway_server
from tests.support.metrics import bearer, scrape_process, value
from tests.support.websocket import EVENTS, PROTOCOL

REQUESTS = "mps_graphql_requests_total"
OPEN = "mps_subscriptions_open"
WAIT_S = 30.0
T = TypeVar("T")
REQUESTS_MAX = 200  # bounded: enough for the kernel to hand connections to both workers


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "MPS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_METRICS": "true",
        **more,
    }


def _api_key(env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "gateway", "platform", "create", "--name", "M", "--json"]
    made = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    key: str = json.loads(made.stdout)["apiKey"]
    return key


def _ask(base_url: str, key: str, operation: str) -> None:
    """One named query on a connection of its own (so that any worker may accept it)."""
    body = {"query": f"query {operation} {{ platform {{ name }} }}"}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, timeout=30) as fresh:
        response = fresh.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text


def test_a_metrics_port_serves_the_metrics_that_the_public_port_does_not(tmp_path: Path) -> None:
    """...behind the metrics token when one is set."""
    port = free_port()
    token = f"metrics-{uuid.uuid4().hex}"
    env = _env(tmp_path, MPS_METRICS_PORT=str(port), MPS_METRICS_TOKEN=token)
    operation = f"Apart{uuid.uuid4().hex}"
    with gateway_server(env, tmp_path) as server:
        key = _api_key(env)
        for _ in range(2):
            _ask(server.url, key, operation)
        assert httpx.get(f"{server.url}/metrics", timeout=30).status_code == 404
        url = f"http://127.0.0.1:{port}/metrics"
        refused = httpx.get(url, headers=bearer(f"{token}x"), timeout=30)
        found = scrape_process(url, token=token)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 404
    assert (refused.status_code, refused.headers["www-authenticate"]) == (
        401,
        'Bearer realm="metrics"',
    )
    assert value(found, REQUESTS, operation=operation, transport="http", outcome="ok") == 2


def _two_workers(tmp_path: Path) -> tuple[int, Path, dict[str, str]]:
    """The metrics port, the TMPDIR the parent makes its multiprocess directory in, and the
    environment of a `serve --workers 2` with both."""
    port = free_port()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    return port, temporary, _env(tmp_path, MPS_METRICS_PORT=str(port), TMPDIR=str(temporary))


def _workers(server: int) -> list[int]:
    """The uvicorn workers of `server`: its children started by multiprocessing's spawn."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if parent == server and b"multiprocessing.spawn" in command:
            workers.append(int(stat.parent.name))
    return workers


def _answered_by(directory: Path, pid: int, operation: str) -> float:
    """The requests for `operation` that worker `pid` counted, from its own file only."""
    counters = directory / f"counter_{pid}.db"
    if not counters.exists():
        return 0.0
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge([str(counters)], accumulate=True)  # type: ignore[no-untyped-call]
        for sample in metric.samples
        if sample.name == REQUESTS and sample.labels.get("operation") == operation
    )


def test_two_workers_count_into_one_scrape_served_by_the_parent(tmp_path: Path) -> None:
    port, temporary, env = _two_workers(tmp_path)
    operation = f"Workers{uuid.uuid4().hex}"
    with gateway_server(env, tmp_path, "--workers", "2") as server:
        workers = _workers(server.process.pid)
        assert len(workers) == 2
        (directory,) = temporary.glob("mps-gateway-metrics-*")
        key = _api_key(env)
        sent = 0
        while sent < REQUESTS_MAX:
            _ask(server.url, key, operation)
            sent += 1
            if all(_answered_by(directory, pid, operation) for pid in workers):
                break
        by_worker = [_answered_by(directory, pid, operation) for pid in workers]
        assert all(by_worker), f"one worker answered all {sent} requests: {by_worker}"
        found = scrape_process(f"http://127.0.0.1:{port}/metrics")
        assert httpx.get(f"{server.url}/metrics", timeout=30).status_code == 404
    assert value(found, REQUESTS, operation=operation, transport="http", outcome="ok") == sent
    assert sum(by_worker) == sent
    assert not directory.exists()  # removed by the parent once its workers stopped


def _open_subscriptions(directory: Path, pid: int) -> float:
    """The subscriptions worker `pid` holds open, from its own gauge file only."""
    gauges = directory / f"gauge_livesum_{pid}.db"
    if not gauges.exists():
        return 0.0
    return sum(
        sample.value
        for metric in MultiProcessCollector.merge([str(gauges)], accumulate=True)  # type: ignore[no-untyped-call]
        for sample in metric.samples
        if sample.name == OPEN
    )


def test_a_killed_workers_gauges_leave_the_scrape(tmp_path: Path) -> None:
    """A worker that is killed cannot mark itself dead; the parent notices and does it, so the
    subscription it held no longer counts as open."""
    port, temporary, env = _two_workers(tmp_path)
    url = f"http://127.0.0.1:{port}/metrics"
    with gateway_server(env, tmp_path, "--workers", "2") as server:
        (directory,) = temporary.glob("mps-gateway-metrics-*")
        key = _api_key(env)
        ws_url = server.url.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=[Subprotocol(PROTOCOL)]) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": bearer(key)}))
            assert json.loads(ws.recv(timeout=30))["type"] == "connection_ack"
            subscribe = {"query": EVENTS, "variables": {}}
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            holder = _eventually(
                lambda: next(
                    (
                        pid
                        for pid in _workers(server.process.pid)
                        if _open_subscriptions(directory, pid) == 1
                    ),
                    None,
                )
            )
            assert value(scrape_process(url), OPEN, transport="websocket") == 1
            os.kill(holder, signal.SIGKILL)
            _eventually(lambda: value(scrape_process(url), OPEN, transport="websocket") == 0)
        assert not (directory / f"gauge_livesum_{holder}.db").exists()


def _eventually(check: Callable[[], T | None]) -> T:
    """`check()`'s first result that is not None or False (bounded: 30 s of polling)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found is not None and found is not False:
            return found
        time.sleep(0.1)  # bounded polling
    raise AssertionError("never happened")
