"""`python -m bench` (or `bench/run`): the whole benchmark, from data to report.

Installs what is missing (wrk, Node.js 22 + PostGraphile 5), prepares the data (bench/data.py),
counts SQL statements per request, runs the scenarios, writes the results (bench/report.py)
and prints the table. Exit code: 0 when every check passed (targets missed or not), 1 on an
error, a bad answer under load or a broken invariant, 130 when interrupted. Every server it
started is stopped, and the bench's database and roles are dropped, however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from bench import data, machine, report, tools
from bench.baselines import pgbench_transfer
from bench.config import DEFAULT_RESULTS_DIR, FULL, QUICK, WORK_DIR, Profile
from bench.context import Bench
from bench.results import ScenarioResult
from bench.scenarios import (
    fanout,
    nested_read,
    statements,
    transfers,
    trivial,
    viewer_read,
)
from bench.servers import BenchError, Servers
from bench.sqlcount import ServerLog
from bench.tools import say

SCENARIOS = (
    "nested_read",
    "nested_read_sqlite",
    "nested_read_1000",
    "viewer_read",
    "trivial",
    "transfers_postgres",
    "transfers_sqlite",
    "fanout",
)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    say(f"stopping on signal {signum}")
    raise SystemExit(128 + signum)  # unwinds: servers stopped, database dropped


def _locate_log() -> tuple[ServerLog | None, str]:
    try:
        return asyncio.run(ServerLog.locate()), ""
    except Exception as error:  # reported in the results; the timings do not need the log
        return None, f"PostgreSQL's log cannot be read here: {error}"


def _prepare(work_dir: Path) -> tuple[data.Store, data.Store]:
    say("preparing data: PostgreSQL database mps_bench (100 + 1,000 users)")
    postgres = asyncio.run(data.prepare_postgres())
    asyncio.run(
        pgbench_transfer.prepare(
            data.postgres_server().dsn("postgres"),
            group=data.GROUP_ROLE,
            platform_id=postgres.platform.id,
        )
    )
    pgbench_transfer.write_script(
        pgbench_transfer.MINIMAL_SCRIPT, work_dir / pgbench_transfer.MINIMAL_FILE
    )
    pgbench_transfer.write_script(
        pgbench_transfer.GATEWAY_SCRIPT, work_dir / pgbench_transfer.GATEWAY_FILE
    )
    say("preparing data: SQLite copy")
    sqlite = asyncio.run(data.prepare_sqlite(work_dir / "gateway.sqlite3", postgres))
    return postgres, sqlite


def _scenarios(bench: Bench, only: list[str]) -> list[ScenarioResult]:
    runners: dict[str, Any] = {
        "nested_read": lambda: [nested_read.run(bench)],
        "nested_read_sqlite": lambda: [nested_read.run_sqlite(bench)],
        "nested_read_1000": lambda: [nested_read.run_large(bench)],
        "viewer_read": lambda: [viewer_read.run(bench)],
        "trivial": lambda: [trivial.run(bench)],
        "transfers_postgres": lambda: transfers.run_postgres(bench),
        "transfers_sqlite": lambda: [transfers.run_sqlite(bench)],
        "fanout": lambda: [fanout.run(bench, 10), fanout.run(bench, 100)],
    }
    results: list[ScenarioResult] = []
    for name in only:
        say(f"scenario: {name}")
        results += runners[name]()
    return results


_COUNTED = {  # scenario -> (server in the results, server in the counts, operation)
    "nested_read": [
        ("gateway", "gateway", "nested_read"),
        ("postgraphile", "postgraphile", "nested_read"),
        ("asyncpg-endpoint", "asyncpg-endpoint", "nested_read"),
    ],
    "nested_read_1000": [
        ("gateway", "gateway", "nested_read_1000"),
        ("postgraphile", "postgraphile", "nested_read_1000"),
        ("asyncpg-endpoint", "asyncpg-endpoint", "nested_read_1000"),
    ],
    "viewer_read": [
        ("gateway", "gateway", "viewer_read"),
        ("postgraphile", "postgraphile", "viewer_read"),
        ("asyncpg-endpoint", "asyncpg-endpoint", "viewer_read"),
    ],
    "trivial": [("gateway", "gateway", "trivial")],
    "transfers_postgres": [
        ("gateway", "gateway", "transfer"),
        ("pgbench-minimal", "pgbench-minimal", "transfer"),
        ("pgbench-gateway-tx", "pgbench-gateway-tx", "transfer"),
    ],
    "transfers_postgres_workers": [
        ("gateway", "gateway", "transfer"),
        ("pgbench-minimal", "pgbench-minimal", "transfer"),
        ("pgbench-gateway-tx", "pgbench-gateway-tx", "transfer"),
    ],
}
# The scenarios that need PostGraphile (installed on first use: Node.js 22 and npm packages).
POSTGRAPHILE_SCENARIOS = {"nested_read", "nested_read_sqlite", "nested_read_1000", "viewer_read"}


def _attach_statements(results: list[ScenarioResult], counts: dict[str, Any]) -> None:
    for result in results:
        for server, counted, operation in _COUNTED.get(result.key, []):
            found = counts.get(counted, {}).get(operation)
            if found is None:
                continue
            target = result.gateway if server == "gateway" else result.baseline(server)
            target.details["sql_statements_per_request"] = found["statements_per_request"]
            target.details["sql_queries_per_request"] = found["queries_per_request"]


def run(args: argparse.Namespace, profile: Profile) -> int:
    started = time.monotonic()
    load_before = os.getloadavg()
    tools.ensure_wrk()
    tools.ensure_pgbench()
    needs_node = POSTGRAPHILE_SCENARIOS & set(args.only)
    node = tools.ensure_postgraphile() if needs_node else tools.NODE
    ready = time.monotonic()
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    (WORK_DIR / "logs").mkdir(parents=True)
    postgres, sqlite = _prepare(WORK_DIR)
    log, log_problem = _locate_log()
    with Servers(WORK_DIR / "logs") as servers:
        bench = Bench(
            profile=profile,
            work_dir=WORK_DIR,
            servers=servers,
            pg=data.postgres_server(),
            postgres=postgres,
            sqlite=sqlite,
            node=node,
            log=log,
            log_problem=log_problem,
        )
        counts = statements.count_all(bench, args.only)
        results = _scenarios(bench, args.only)
    _attach_statements(results, counts)
    host = machine.describe(node)
    host["load_average_before"], host["load_average_after"] = load_before, os.getloadavg()
    document = {
        "profile": dataclasses.asdict(profile),
        "machine": host,
        "sql_statements": counts,
        "wall_time_s": round(time.monotonic() - ready, 1),
        "tool_install_s": round(ready - started, 1),
    }
    print(report.write(args.results, document, results))
    say(f"results in {args.results}; {document['wall_time_s']} s (without installs)")
    broken = [c for r in results for c in r.checks if not c.passed]
    for check in broken:
        say(f"FAILED: {check.name}: {check.detail}")
    return 1 if broken else 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 short run per scenario (a smoke test, under 3 minutes)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS_DIR,
        help="where to write results.json, results.md, results.png",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SCENARIOS,
        default=list(SCENARIOS),
        help="run only these scenarios",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the mps_bench database and its roles afterwards",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started ignoring it
    try:
        return run(args, QUICK if args.quick else FULL)
    except BenchError as error:
        say(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        if not args.keep_data:
            try:
                asyncio.run(data.drop_postgres(roles=True))
            except Exception as error:  # the run's own outcome matters more
                say(f"could not drop the bench database: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
