"""Helpers shared by the scenarios: request bodies, sample requests, ledger checks."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from bench.baselines.pgbench_transfer import PgbenchRun
from bench.config import QUERIES_DIR
from bench.context import Bench
from bench.data import role_name
from bench.load import LoadResult, WrkLoad, checked, run_wrk
from bench.results import Check, Measurement
from bench.servers import BenchError, Server
from gateway.graphql.compiled import EXECUTION_HEADER
from gateway.store.engine import Database
from gateway.store.journal_tables import IdempotencyRecord
from gateway.store.ledger_tables import Transfer
from tests.ledger.invariants import assert_ledger_holds

REQUEST_TIMEOUT_S = 30.0
SETTLE_INTERVAL_S = 0.3
SETTLE_TIMEOUT_S = 30.0


def query(name: str) -> str:
    return (QUERIES_DIR / f"{name}.graphql").read_text()


def post_response(
    url: str, body: dict[str, Any], authorization: str | None = None, path: str = "/graphql"
) -> tuple[dict[str, Any], httpx.Response]:
    """One GraphQL request that must answer 200 without errors; its JSON and the response."""
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=REQUEST_TIMEOUT_S)
    answer: dict[str, Any] = response.json() if response.content else {}
    if response.status_code != 200 or answer.get("errors"):
        raise BenchError(f"{url}{path}: HTTP {response.status_code}: {response.text[:500]}")
    return answer, response


def post(
    url: str, body: dict[str, Any], authorization: str | None = None, path: str = "/graphql"
) -> dict[str, Any]:
    """One GraphQL request that must answer 200 without errors; its JSON."""
    return post_response(url, body, authorization, path)[0]


def executor_of(response: httpx.Response) -> str:
    """Which of the gateway's executors answered: its X-MPS-Execution header, or "missing"."""
    executor: str = response.headers.get(EXECUTION_HEADER, "missing")
    return executor


def wrk(bench: Bench, url: str, script: str, *args: str, connections: int) -> WrkLoad:
    return WrkLoad(
        url=url,
        script=script,
        args=args,
        connections=connections,
        threads=bench.profile.wrk_threads,
        duration_s=bench.profile.duration_s,
    )


def post_load(
    bench: Bench,
    server: str,
    body: Path,
    authorization: str = "",
    *,
    connections: int,
    path: str = "/graphql",
) -> tuple[Server, WrkLoad]:
    """The named server and wrk posting `body` to its `path` again and again."""
    running = bench.server(server)
    load = wrk(
        bench, running.url, "post.lua", str(body), authorization, path, connections=connections
    )
    return running, load


def measure(load: WrkLoad, into: Measurement, what: str) -> LoadResult:
    """One wrk run; its rate and latencies appended to `into` (fails on any bad answer)."""
    result = checked(run_wrk(load), what)
    into.rates.append(result.per_s)
    into.p50_ms.append(result.p50_ms)
    into.p99_ms.append(result.p99_ms)
    return result


def warm_up(bench: Bench, load: WrkLoad, what: str) -> None:
    """An unmeasured run: connections open, caches and JITs warm. Any bad answer fails."""
    short = WrkLoad(
        load.url, load.script, load.args, load.connections, load.threads, bench.profile.warmup_s
    )
    result = run_wrk(short)
    if result.bad:
        checked(result, f"{what} (warm-up)")


def pgbench_transfers(
    bench: Bench, *, amount_max: int, clients: int, threads: int, logged: bool = False
) -> PgbenchRun:
    """pgbench running the gateway's transfer transaction on the bench platform's accounts,
    as the pgbench role (its statement-logging twin with `logged`)."""
    return PgbenchRun(
        host=bench.pg.host,
        port=bench.pg.port,
        database=bench.pg.database,
        role=role_name("pgbench", logged=logged),
        platform_id=bench.platform_id,
        accounts=len(bench.postgres.platform.account_ids),
        amount_max=amount_max,
        clients=clients,
        threads=threads,
    )


def measure_turns(
    bench: Bench, loads: dict[str, tuple[Server, WrkLoad]], unit: str, what: str
) -> dict[str, Measurement]:
    """Each server's load warmed up once, then measured `runs` times, servers taking turns
    within each run; each server's resident memory is read after each of its runs."""
    measurements = {name: Measurement(name, unit) for name in loads}
    for name, (_server, load) in loads.items():
        warm_up(bench, load, f"{what}, {name}")
    for _ in range(bench.profile.runs):
        for name, (server, load) in loads.items():
            measure(load, measurements[name], f"{what}, {name}")
            measurements[name].rss_kib.append(server.rss_kib())
    return measurements


@dataclass(frozen=True, slots=True)
class LedgerCounts:
    """What a run adds up to in the tables: transfers, and idempotency keys settled with one."""

    transfers: int
    settled_keys: int


async def _counts(url: str, platform_id: uuid.UUID) -> LedgerCounts:
    transfers = (
        sa.select(sa.func.count())
        .select_from(Transfer)
        .where(col(Transfer.platform_id) == platform_id)
        .scalar_subquery()
    )
    settled = (
        sa.select(sa.func.count())
        .select_from(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.platform_id) == platform_id,
            col(IdempotencyRecord.operation) == "createTransfer",
            col(IdempotencyRecord.object_id).is_not(None),
        )
        .scalar_subquery()
    )
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            row = (await session.execute(sa.select(transfers, settled))).one()  # one snapshot
            return LedgerCounts(int(row[0]), int(row[1]))
    finally:
        await db.dispose()


async def _settled_counts(url: str, platform_id: uuid.UUID) -> LedgerCounts:
    """The counts once they stop moving: requests cut off at the end of a run may still be
    committing for a moment after the load generator has exited."""
    counts = await _counts(url, platform_id)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_INTERVAL_S)
        again = await _counts(url, platform_id)
        if again == counts:
            return counts
        counts = again
    raise BenchError(f"transfers were still being written {SETTLE_TIMEOUT_S} s after the load")


def ledger_counts(url: str, platform_id: uuid.UUID) -> LedgerCounts:
    return asyncio.run(_settled_counts(url, platform_id))


async def _ledger_holds(url: str, platform_id: uuid.UUID) -> str | None:
    db = Database.from_url(url)
    try:
        await assert_ledger_holds(db, platform_id)
    except AssertionError as broken:
        return str(broken)
    finally:
        await db.dispose()
    return None


def ledger_checks(
    url: str,
    platform_id: uuid.UUID,
    *,
    what: str,
    before: LedgerCounts,
    succeeded: int,
    cut_off: int,
) -> list[Check]:
    """The ledger's invariants after a run, and the transfers it wrote against the answers.

    Exact: every transfer written has its idempotency key settled with it (one effect per
    request). Against the load generator's count: every successful answer has its transfer,
    and the only transfers without a successful answer are requests cut off by the end of
    the run (sent, then abandoned by wrk or pgbench when the time was up: they may commit).
    """
    problem = asyncio.run(_ledger_holds(url, platform_id))
    after = ledger_counts(url, platform_id)
    written = after.transfers - before.transfers
    settled = after.settled_keys - before.settled_keys
    return [
        Check(f"{what}: ledger invariants", problem is None, problem or "hold"),
        Check(
            f"{what}: transfers written match the successful requests",
            written == settled and succeeded <= written <= succeeded + cut_off,
            f"{written} transfers written, {settled} keys settled with a transfer,"
            f" {succeeded} successful answers, {cut_off} requests cut off at the end",
        ),
    ]
