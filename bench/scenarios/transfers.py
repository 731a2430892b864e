"""Transfers under concurrency: `createTransfer` on PostgreSQL and on SQLite.

wrk sends transfers between random pairs of the platform's 200 accounts, each with a new
idempotency key (bench/lua/transfer.lua), over `transfer_connections` connections (16). The
rate is successful transfers per second.

Baselines, on the same database and data as the gateway, taking turns with it:

- **the correct minimal transfer** (the baseline, with the targets): pgbench running
  bench/baselines/minimal_transfer.pgbench.sql over as many clients (`pgbench-minimal`), and
  Python's sqlite3 running the same transaction on one connection at the gateway's durability
  (`sqlite3-minimal`; bench/baselines/sqlite_transfers.py);
- **the gateway's own transaction replayed** (diagnostic, no target: what the design costs
  without the Python): bench/baselines/gateway_transfer.pgbench.sql (`pgbench-gateway-tx`),
  and its SQLite twin (`sqlite3-gateway-tx`).

On PostgreSQL the gateway is measured twice: as every server of the bench runs (uvicorn, one
worker) and as `python -m gateway serve --workers 2` would be deployed (a line of its own,
against the same baseline runs).

After every run (warm-ups included) the ledger's invariants are proved from the tables
(tests/ledger/invariants.py: entries sum to zero per currency, balances equal their entries
and chain, no negative balance, every operation has exactly its legs), and the transfers
written are compared with the successes counted by the load generator.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.baselines.pgbench_transfer import (
    GATEWAY_FILE,
    MINIMAL_FILE,
    catch_up_event_counter,
    run_pgbench,
)
from bench.config import PYTHON, REPO_DIR, TARGETS
from bench.context import SERVE_WORKERS, Bench
from bench.data import copy_sqlite
from bench.load import WrkLoad, checked, run_wrk
from bench.results import Check, Measurement, ScenarioResult
from bench.scenarios.common import ledger_checks, ledger_counts, pgbench_transfers, query
from bench.servers import BenchError
from bench.tools import say

UNIT = "transfers/s"
AMOUNT_MAX = 10  # minor units: small against every balance, so rejections stay rare


def _params(bench: Bench, name: str) -> Path:
    """transfer.lua's parameters, with a key prefix of its own: keys are never reused."""
    path = bench.work_dir / f"transfer-{name}.params"
    lines = [
        bench.authorization,
        f"{name}-{time.time_ns()}",
        str(AMOUNT_MAX),
        json.dumps(query("create_transfer")),
        *bench.postgres.platform.account_ids,
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _gateway_run(
    bench: Bench, server: str, url: str, seconds: int, into: Measurement | None
) -> list[Check]:
    """One wrk run of transfers against `server` (whose database is `url`), then its checks."""
    label = f"{server} {'run' if into else 'warm-up'}"
    load = WrkLoad(
        url=bench.server(server).url,
        script="transfer.lua",
        args=(str(_params(bench, server)),),
        connections=bench.profile.transfer_connections,
        threads=bench.profile.wrk_threads,
        duration_s=seconds,
    )
    before = ledger_counts(url, bench.platform_id)
    result = checked(run_wrk(load), f"transfers, {label}")
    if into is not None:
        into.rates.append(result.ok / result.duration_s)
        into.p50_ms.append(result.p50_ms)
        into.p99_ms.append(result.p99_ms)
        into.rss_kib.append(bench.server(server).rss_kib())
        into.details.setdefault("succeeded", []).append(result.ok)
        into.details.setdefault("insufficient_funds", []).append(result.rejected)
    return ledger_checks(
        url,
        bench.platform_id,
        what=label,
        before=before,
        succeeded=result.ok,
        cut_off=result.cut_off,
    )


def _pgbench_run(bench: Bench, script: str, seconds: int, into: Measurement | None) -> list[Check]:
    """One pgbench run of `script` (MINIMAL_FILE or GATEWAY_FILE), then its checks."""
    run = pgbench_transfers(
        bench,
        amount_max=AMOUNT_MAX,
        clients=bench.profile.transfer_connections,
        threads=bench.profile.wrk_threads,
    )
    url = bench.postgres.url
    before = ledger_counts(url, bench.platform_id)
    result = run_pgbench(run, bench.work_dir / script, bench.work_dir, limit=["-T", str(seconds)])
    if script == MINIMAL_FILE:  # the gateway numbers its next events above these
        dsn = bench.pg.dsn("postgres")
        asyncio.run(catch_up_event_counter(dsn, platform_id=bench.platform_id))
    if result.failed:
        raise BenchError(f"pgbench {script}: {result.failed} failed transactions")
    if into is not None:
        into.rates.append(result.tps)
        into.p50_ms.append(result.p50_ms)
        into.p99_ms.append(result.p99_ms)
        into.details.setdefault("succeeded", []).append(result.transactions)
    name = "pgbench-minimal" if script == MINIMAL_FILE else "pgbench-gateway-tx"
    return ledger_checks(
        url,
        bench.platform_id,
        what=f"{name} {'run' if into else 'warm-up'}",
        before=before,
        succeeded=result.transactions,
        cut_off=run.clients,  # pgbench -T abandons each client's transaction in flight
    )


def _sqlite3_run(
    bench: Bench, copy: Path, transaction: str, seconds: int, into: Measurement | None
) -> list[Check]:
    """One raw sqlite3 run of `transaction` ("minimal" or "gateway"), then its checks."""
    accounts = bench.work_dir / "accounts.txt"
    accounts.write_text("\n".join(bench.postgres.platform.account_ids) + "\n")
    url = f"sqlite+aiosqlite:///{copy}"
    before = ledger_counts(url, bench.platform_id)
    command = [
        PYTHON,
        "-m",
        "bench.baselines.sqlite_transfers",
        "--transaction",
        transaction,
        "--database",
        str(copy),
        "--platform",
        str(bench.platform_id),
        "--accounts",
        str(accounts),
        "--duration",
        str(seconds),
        "--amount-max",
        str(AMOUNT_MAX),
        "--key-prefix",
        f"sqlite3-{transaction}-{time.time_ns()}",
    ]
    done = subprocess.run(command, cwd=REPO_DIR, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BenchError(f"raw sqlite3 transfers ({transaction}) failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    if into is not None:
        into.rates.append(result["tps"])
        into.p50_ms.append(result["p50_ms"])
        into.p99_ms.append(result["p99_ms"])
        into.details.setdefault("succeeded", []).append(result["transactions"])
    return ledger_checks(
        url,
        bench.platform_id,
        what=f"sqlite3-{transaction} {'run' if into else 'warm-up'}",
        before=before,
        succeeded=result["transactions"],
        cut_off=0,  # one loop, counted after each commit
    )


Turn = Callable[[int, Measurement | None], list[Check]]


def _take_turns(bench: Bench, turns: dict[str, tuple[Turn, Measurement]]) -> dict[str, list[Check]]:
    """Each turn warmed up once, then measured `runs` times, taking turns within each run;
    the checks of each."""
    checks: dict[str, list[Check]] = {name: [] for name in turns}
    for name, (turn, _into) in turns.items():
        checks[name] += turn(bench.profile.warmup_s, None)
    for _ in range(bench.profile.runs):
        for name, (turn, into) in turns.items():
            checks[name] += turn(bench.profile.duration_s, into)
    return checks


def run_postgres(bench: Bench) -> list[ScenarioResult]:
    """The gateway (uvicorn, one worker), the gateway under `serve --workers 2`, the minimal
    transfer and the gateway's transaction replayed by pgbench: one result per gateway line."""
    url = bench.postgres.url
    gateway, workers = Measurement("gateway", UNIT), Measurement("gateway", UNIT)
    minimal = Measurement("pgbench-minimal", UNIT)
    replay = Measurement("pgbench-gateway-tx", UNIT, diagnostic=True)
    checks = _take_turns(
        bench,
        {
            "gateway": (lambda s, m: _gateway_run(bench, "gateway-pg", url, s, m), gateway),
            "workers": (
                lambda s, m: _gateway_run(bench, "gateway-pg-workers", url, s, m),
                workers,
            ),
            "minimal": (lambda s, m: _pgbench_run(bench, MINIMAL_FILE, s, m), minimal),
            "replay": (lambda s, m: _pgbench_run(bench, GATEWAY_FILE, s, m), replay),
        },
    )
    clients = f"{bench.profile.transfer_connections} connections (wrk and pgbench clients)"
    return [
        ScenarioResult(
            key="transfers_postgres",
            title="Transfers (PostgreSQL)",
            gateway=gateway,
            baselines=[minimal, replay],
            goals=TARGETS["transfers_postgres"],
            checks=checks["gateway"] + checks["minimal"] + checks["replay"],
            notes=[clients],
        ),
        ScenarioResult(
            key="transfers_postgres_workers",
            title=f"Transfers (PostgreSQL, serve --workers {SERVE_WORKERS})",
            gateway=workers,
            baselines=[minimal, replay],
            goals=TARGETS["transfers_postgres_workers"],
            checks=checks["workers"],
            notes=[clients, "the same baseline runs as the line above"],
        ),
    ]


def run_sqlite(bench: Bench) -> ScenarioResult:
    say("copying the SQLite data for the raw sqlite3 baselines")
    source = Path(bench.sqlite.url.removeprefix("sqlite+aiosqlite:///"))
    copy = bench.work_dir / "raw-sqlite3.sqlite3"
    copy_sqlite(source, copy)
    url = bench.sqlite.url
    gateway = Measurement("gateway", UNIT)
    minimal = Measurement("sqlite3-minimal", UNIT)
    replay = Measurement("sqlite3-gateway-tx", UNIT, diagnostic=True)
    checks = _take_turns(
        bench,
        {
            "gateway": (lambda s, m: _gateway_run(bench, "gateway-sqlite", url, s, m), gateway),
            "minimal": (lambda s, m: _sqlite3_run(bench, copy, "minimal", s, m), minimal),
            "replay": (lambda s, m: _sqlite3_run(bench, copy, "gateway", s, m), replay),
        },
    )
    return ScenarioResult(
        key="transfers_sqlite",
        title="Transfers (SQLite)",
        gateway=gateway,
        baselines=[minimal, replay],
        goals=TARGETS["transfers_sqlite"],
        checks=[check for found in checks.values() for check in found],
        notes=[
            f"gateway: {bench.profile.transfer_connections} wrk connections;"
            " raw sqlite3: one connection (one writer at a time, as in the gateway)"
        ],
    )
