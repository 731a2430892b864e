"""Transfers under concurrency: `createTransfer` on PostgreSQL and on SQLite.

wrk sends transfers between random pairs of the platform's 200 accounts, each with a new
idempotency key (bench/lua/transfer.lua), over `transfer_connections` connections. Baselines:
pgbench running the gateway's transaction over as many connections (PostgreSQL), and Python's
sqlite3 running it on one connection against a copy of the same SQLite data, at the same
durability (SQLite). The rate is successful transfers per second.

After every run (warm-ups included) the ledger's invariants are proved from the tables
(tests/ledger/invariants.py: entries sum to zero per currency, balances equal their entries
and chain, no negative balance, every operation has exactly its legs), and the transfers
written are compared with the successes counted by the load generator.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from bench.baselines.pgbench_transfer import run_pgbench
from bench.config import PYTHON, REPO_DIR, TARGETS
from bench.context import Bench
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


def _pgbench_run(bench: Bench, seconds: int, into: Measurement | None) -> list[Check]:
    run = pgbench_transfers(
        bench,
        amount_max=AMOUNT_MAX,
        clients=bench.profile.transfer_connections,
        threads=bench.profile.wrk_threads,
    )
    url = bench.postgres.url
    before = ledger_counts(url, bench.platform_id)
    result = run_pgbench(
        run, bench.work_dir / "transfer.sql", bench.work_dir, limit=["-T", str(seconds)]
    )
    if result.failed:
        raise BenchError(f"pgbench: {result.failed} failed transactions")
    if into is not None:
        into.rates.append(result.tps)
        into.p50_ms.append(result.p50_ms)
        into.p99_ms.append(result.p99_ms)
        into.details.setdefault("succeeded", []).append(result.transactions)
    label = "pgbench run" if into else "pgbench warm-up"
    return ledger_checks(
        url,
        bench.platform_id,
        what=label,
        before=before,
        succeeded=result.transactions,
        cut_off=run.clients,  # pgbench -T abandons each client's transaction in flight
    )


def _sqlite3_run(bench: Bench, copy: Path, seconds: int, into: Measurement | None) -> list[Check]:
    accounts = bench.work_dir / "accounts.txt"
    accounts.write_text("\n".join(bench.postgres.platform.account_ids) + "\n")
    url = f"sqlite+aiosqlite:///{copy}"
    before = ledger_counts(url, bench.platform_id)
    command = [
        PYTHON,
        "-m",
        "bench.baselines.sqlite_transfers",
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
        f"sqlite3-{time.time_ns()}",
    ]
    done = subprocess.run(command, cwd=REPO_DIR, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BenchError(f"raw sqlite3 transfers failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    if into is not None:
        into.rates.append(result["tps"])
        into.p50_ms.append(result["p50_ms"])
        into.p99_ms.append(result["p99_ms"])
        into.details.setdefault("succeeded", []).append(result["transactions"])
    label = "raw sqlite3 run" if into else "raw sqlite3 warm-up"
    return ledger_checks(
        url,
        bench.platform_id,
        what=label,
        before=before,
        succeeded=result["transactions"],
        cut_off=0,  # one loop, counted after each commit
    )


def run_postgres(bench: Bench) -> ScenarioResult:
    gateway, pgbench = Measurement("gateway", UNIT), Measurement("pgbench", UNIT)
    profile, url = bench.profile, bench.postgres.url
    checks = _gateway_run(bench, "gateway-pg", url, profile.warmup_s, None)
    checks += _pgbench_run(bench, profile.warmup_s, None)
    for _ in range(profile.runs):
        checks += _gateway_run(bench, "gateway-pg", url, profile.duration_s, gateway)
        checks += _pgbench_run(bench, profile.duration_s, pgbench)
    return ScenarioResult(
        key="transfers_postgres",
        title="Transfers (PostgreSQL)",
        gateway=gateway,
        baselines=[pgbench],
        targets=TARGETS["transfers_postgres"],
        checks=checks,
        notes=[f"{bench.profile.transfer_connections} connections (wrk and pgbench clients)"],
    )


def run_sqlite(bench: Bench) -> ScenarioResult:
    say("copying the SQLite data for the raw sqlite3 baseline")
    source = Path(bench.sqlite.url.removeprefix("sqlite+aiosqlite:///"))
    copy = bench.work_dir / "raw-sqlite3.sqlite3"
    copy_sqlite(source, copy)
    gateway, raw = Measurement("gateway", UNIT), Measurement("raw-sqlite3", UNIT)
    profile, url = bench.profile, bench.sqlite.url
    checks = _gateway_run(bench, "gateway-sqlite", url, profile.warmup_s, None)
    checks += _sqlite3_run(bench, copy, profile.warmup_s, None)
    for _ in range(profile.runs):
        checks += _gateway_run(bench, "gateway-sqlite", url, profile.duration_s, gateway)
        checks += _sqlite3_run(bench, copy, profile.duration_s, raw)
    return ScenarioResult(
        key="transfers_sqlite",
        title="Transfers (SQLite)",
        gateway=gateway,
        baselines=[raw],
        targets=TARGETS["transfers_sqlite"],
        checks=checks,
        notes=[
            f"gateway: {bench.profile.transfer_connections} wrk connections;"
            " raw sqlite3: one connection (one writer at a time, as in the gateway)"
        ],
    )
