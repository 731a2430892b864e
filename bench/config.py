"""Where things live and how long each measurement runs (the full and the `--quick` profile)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.results import Goal, LatencyTarget, Target

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
WORK_DIR = CACHE_DIR / "work"
LUA_DIR = BENCH_DIR / "lua"
QUERIES_DIR = BENCH_DIR / "queries"
POSTGRAPHILE_DIR = BENCH_DIR / "postgraphile"
POSTGRAPHILE_CACHE = CACHE_DIR / "postgraphile"  # node_modules, Node.js 22
DEFAULT_RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable

# The PostgreSQL server, reached as a superuser to create (and drop) the bench's own database
# and roles. Never the `postgres` database's tables.
ADMIN_DSN = os.environ.get(
    "MPS_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE_NAME = os.environ.get("MPS_BENCH_DATABASE", "mps_bench")


@dataclass(frozen=True, slots=True)
class Profile:
    """How much of each measurement to do."""

    name: str
    runs: int  # repetitions of every measurement; medians are reported
    duration_s: int  # one wrk / pgbench / sqlite3 run
    warmup_s: int  # an unmeasured run before the first measured one, per server
    nested_connections: int  # wrk -c for the nested read (see bench/README.md)
    read_connections: int  # wrk -c for the trivial query
    transfer_connections: int  # wrk -c / pgbench -c for the transfers
    wrk_threads: int
    fanout_events: int  # events generated per fan-out run (a multiple of 4: pgbench clients)
    fanout_rate: int  # events per second, steady
    count_requests: int  # requests sent to count SQL statements per request


FULL = Profile(
    name="full",
    runs=3,
    duration_s=10,
    warmup_s=2,
    nested_connections=4,
    read_connections=16,
    transfer_connections=16,
    wrk_threads=2,
    fanout_events=1000,
    fanout_rate=100,
    count_requests=20,
)
QUICK = Profile(
    name="quick",
    runs=1,
    duration_s=3,
    warmup_s=1,
    nested_connections=4,
    read_connections=16,
    transfer_connections=16,
    wrk_threads=2,
    fanout_events=200,
    fanout_rate=100,
    count_requests=5,
)


# What the gateway should reach, per scenario: a ratio to a baseline measured in the same run
# (`Target`), or a bound on its p99 latency (`LatencyTarget`). The first ratio target of a
# scenario is the one its chart bar shows. A missed target is reported, never a failed run.
# Transfers are measured against the correct minimal transfer (bench/baselines/
# pgbench_transfer.py, sqlite_transfers.py), not against a replay of the gateway's own
# transaction (a diagnostic column, with no target).
TRANSFER_P99_MS_MAX = 100.0  # at `transfer_connections` (16) clients

TARGETS: dict[str, tuple[Goal, ...]] = {
    "nested_read": (Target("postgraphile", 1.5), Target("asyncpg-endpoint", 0.6)),
    "nested_read_sqlite": (Target("sqlite-endpoint", 0.6),),
    "nested_read_1000": (Target("asyncpg-endpoint", 0.6),),
    "viewer_read": (Target("asyncpg-endpoint", 0.6),),
    "trivial": (Target("raw-starlette", 0.3),),
    "transfers_postgres": (
        Target("pgbench-minimal", 0.2),
        LatencyTarget(TRANSFER_P99_MS_MAX),
    ),
    "transfers_postgres_workers": (
        Target("pgbench-minimal", 0.2),
        LatencyTarget(TRANSFER_P99_MS_MAX),
    ),
    "transfers_sqlite": (
        Target("sqlite3-minimal", 0.3),
        LatencyTarget(TRANSFER_P99_MS_MAX),
    ),
    "fanout": (Target("raw-websocket", 0.3),),
}
