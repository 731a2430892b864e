"""Subscription fan-out: events per second delivered to 10 and to 100 WebSocket subscribers.

The subscribers run in a process of their own (bench/subscribers.py, graphql-transport-ws,
`subscription { events { cursor type objectId } }` with the platform's key, after the cursor
of the platform's last event so that none can be missed) and check that every subscriber gets
every event, in order, with no gap and no duplicate.

Events come from transfers at a steady rate (`fanout_rate` per second, `fanout_events` in
all): pgbench running the gateway's own transfer transaction (bench/baselines/
transfer.pgbench.sql) with `--rate`, so that the generator is never the bottleneck (the
gateway's createTransfer is slower than the rates needed here; see the transfers scenario).
Each transfer commits its TRANSFER_SUCCESSFUL event and NOTIFYs, exactly as a gateway
instance does, so the events reach the subscribers' gateway as they would from another
instance in production: PostgreSQL NOTIFY, then a read of the event log. The ledger is
checked after each generation. The baseline is a raw Starlette WebSocket endpoint that
broadcasts the same frame to as many clients, one POST /publish per event, paced evenly at
the rate pgbench actually achieved for the gateway in the same run (the same stream).

Delivered events per second = subscribers x events / (last receipt - first send): the
offered rate when a server keeps up, less when its deliveries lag behind.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from bench.baselines.pgbench_transfer import GATEWAY_FILE, run_pgbench
from bench.config import PYTHON, REPO_DIR, TARGETS
from bench.context import Bench
from bench.results import Check, Measurement, ScenarioResult
from bench.scenarios.common import ledger_checks, ledger_counts, pgbench_transfers
from bench.servers import BenchError
from gateway.domain.pagination import encode_event_cursor

UNIT = "events/s"
SENDERS_MAX = 16  # requests in flight at once in the raw baseline's generator
GENERATOR_CLIENTS = 4  # pgbench clients generating the gateway's events
READY_POLL_S = 0.05
SUBSCRIBED_TIMEOUT_S = 30.0


async def _paced(count: int, rate: float, send: Callable[[int], Awaitable[None]]) -> float:
    """Call `send(i)` for i < count, starting one every 1/rate s; returns the first start."""
    gate = asyncio.Semaphore(SENDERS_MAX)

    async def one(index: int) -> None:
        async with gate:
            await send(index)

    start = time.time()
    tasks = []
    for index in range(count):
        delay = start + index / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return start


def _transfers(bench: Bench, count: int, rate: float) -> tuple[float, Callable[[], list[Check]]]:
    """`count` transfers at `rate` per second through pgbench (the gateway's transaction,
    NOTIFY included); the first send's time, and the ledger's checks, to run once the
    subscribers are done (they would compete with the deliveries for the CPU)."""
    run = pgbench_transfers(bench, amount_max=1, clients=GENERATOR_CLIENTS, threads=1)
    url = bench.postgres.url
    before = ledger_counts(url, bench.platform_id)
    first_send = time.time()
    limit = ["-t", str(count // GENERATOR_CLIENTS), "--rate", str(rate)]
    result = run_pgbench(run, bench.work_dir / GATEWAY_FILE, bench.work_dir, limit=limit)

    def checks() -> list[Check]:
        return ledger_checks(
            url,
            bench.platform_id,
            what="fan-out generator",
            before=before,
            succeeded=result.transactions,
            cut_off=0,
        )

    return first_send, checks


async def _publishes(url: str, count: int, rate: float) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:

        async def send(_index: int) -> None:
            (await client.post("/publish")).raise_for_status()

        return await _paced(count, rate, send)


def _start_subscribers(url: str, clients: int, events: int, first: int, **extra: str) -> Any:
    command = [
        PYTHON,
        "-m",
        "bench.subscribers",
        "--url",
        url,
        "--clients",
        str(clients),
        "--events",
        str(events),
        "--first-sequence",
        str(first),
    ]
    for name, value in extra.items():
        command += [f"--{name}", value]
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command, cwd=REPO_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "READY":
        process.kill()
        raise BenchError(f"subscribers did not get ready: {line}{process.communicate()[1][-2000:]}")
    return process


def _finish(process: Any, timeout_s: float) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout_s)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"subscribers reported nothing ({process.returncode}): {err[-2000:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


async def _last_sequence(bench: Bench) -> int:
    connection = await asyncpg.connect(bench.pg.dsn("postgres"))
    try:
        value: int = await connection.fetchval(
            "SELECT event_sequence FROM platforms WHERE id = $1", bench.platform_id
        )
        return value
    finally:
        await connection.close()


@dataclass(frozen=True, slots=True)
class Round:
    """One server's round: when the first event was sent, the rate the events were actually
    generated at, what the subscribers reported, and the checks of the generation."""

    first_send: float
    generated_rate: float
    report: dict[str, Any]
    checks: list[Check]


def _gateway_round(bench: Bench, clients: int) -> Round:
    events, rate = bench.profile.fanout_events, bench.profile.fanout_rate
    subscribers_url = bench.server("gateway-pg").ws_url
    last = asyncio.run(_last_sequence(bench))
    process = _start_subscribers(
        subscribers_url,
        clients,
        events,
        last + 1,
        key=bench.postgres.platform.api_key,
        after=encode_event_cursor(bench.platform_id, last),
        timeout=str(events / rate + 120),
    )
    try:
        first_send, ledger = _transfers(bench, events, rate)
        generated_rate = events / (time.time() - first_send)
    except BaseException:
        process.kill()
        raise
    report = _finish(process, events / rate + 150)
    return Round(first_send, generated_rate, report, ledger())


def _wait_subscribed(url: str, clients: int) -> int:
    deadline = time.monotonic() + SUBSCRIBED_TIMEOUT_S
    while time.monotonic() < deadline:
        state = httpx.get(f"{url}/clients").json()
        if state["subscribed"] >= clients:
            return int(state["sequence"])
        time.sleep(READY_POLL_S)
    raise BenchError(f"raw WebSocket: fewer than {clients} clients subscribed in time")


def _raw_round(bench: Bench, clients: int, rate: float) -> Round:
    """The baseline's round, its events sent at `rate`: the rate the gateway's were generated
    at in the same run, so that both servers get the same stream."""
    events = bench.profile.fanout_events
    server = bench.server("raw-websocket")
    sequence = httpx.get(f"{server.url}/clients").json()["sequence"]
    process = _start_subscribers(
        server.ws_url, clients, events, sequence + 1, timeout=str(events / rate + 120)
    )
    try:
        _wait_subscribed(server.url, clients)
        first_send = asyncio.run(_publishes(server.url, events, rate))
        generated_rate = events / (time.time() - first_send)
    except BaseException:
        process.kill()
        raise
    return Round(first_send, generated_rate, _finish(process, events / rate + 150), [])


def _record(into: Measurement, round_: Round) -> list[Check]:
    report, problems = round_.report, round_.report["problems"]
    if report["last_receipt"] and not problems:
        elapsed = report["last_receipt"] - round_.first_send
        into.rates.append(report["clients"] * report["events"] / elapsed)
        into.details.setdefault("delivery_span_s", []).append(round(elapsed, 3))
        into.details.setdefault("generated_events_per_s", []).append(
            round(round_.generated_rate, 1)
        )
    delivered = Check(
        f"{into.server}: every event, in order, to each of {report['clients']} subscribers",
        not problems,
        "; ".join(problems) or f"{report['received']} deliveries",
    )
    return [*round_.checks, delivered]


def run(bench: Bench, clients: int) -> ScenarioResult:
    gateway, raw = Measurement("gateway", UNIT), Measurement("raw-websocket", UNIT)
    checks: list[Check] = []
    for _ in range(bench.profile.runs):
        gateway_round = _gateway_round(bench, clients)
        checks += _record(gateway, gateway_round)
        gateway.rss_kib.append(bench.server("gateway-pg").rss_kib())
        checks += _record(raw, _raw_round(bench, clients, gateway_round.generated_rate))
        raw.rss_kib.append(bench.server("raw-websocket").rss_kib())
    offered = bench.profile.fanout_rate * clients
    return ScenarioResult(
        key=f"fanout_{clients}",
        title=f"Subscription fan-out, {clients} subscribers",
        gateway=gateway,
        baselines=[raw],
        goals=TARGETS["fanout"],
        checks=checks,
        notes=[
            f"{bench.profile.fanout_events} events per run, generated at"
            f" {bench.profile.fanout_rate}/s (pgbench --rate; the raw baseline at the rate"
            f" pgbench achieved): up to {offered} deliveries/s offered"
        ],
    )
