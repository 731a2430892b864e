"""The PostgreSQL transfers' baselines: pgbench running a transfer transaction.

Two scripts, run by pgbench with `--protocol=prepared` (as asyncpg prepares its statements),
16 clients, PostgreSQL's default durability (`synchronous_commit = on`, fsync), on the bench's
own platform and accounts:

**The baseline: the correct minimal transfer** (`minimal_transfer.pgbench.sql`,
`pgbench-minimal`). One transaction that does what a transfer must and nothing else:

1. the idempotency row, inserted already settled with the transfer's id (the unique
   `(platform_id, key)` makes a retry of the same key fail here; it then reads that row);
2. both accounts locked in id order (`SELECT ... ORDER BY id FOR UPDATE`: two transfers
   between the same accounts in opposite directions cannot deadlock);
3. the guarded debit, `UPDATE ... WHERE balance >= amount RETURNING balance` (no row: not
   enough money, nothing written), then the credit, `RETURNING balance`;
4. one ledger entry per leg with its `balance_after` (one INSERT of two rows);
5. the transfer row, and its `TRANSFER_SUCCESSFUL` event; then COMMIT.

9 statements with BEGIN and COMMIT. No NOTIFY in the transaction: a server tells its readers
after the commit (the gateway does so over Redis or NOTIFY), readers find the event by polling
anyway.

How the minimal transfer numbers its event, and why that is correct: readers resume after a
number (`sequence > cursor`), so a reader must never be handed a number below one it has
already read ("gap-free for readers"). The gateway gets that from one counter per platform,
`platforms.event_sequence`, incremented in the transaction: the row's lock is held until
commit, so numbers are consecutive and in commit order, but every transfer of a platform then
waits for the previous one's commit to reach the disk (no group commit: about 1,700 transfers a
second here instead of 3,800). The minimal transfer takes no lock for it: its event's number is
its own transaction id, `pg_current_xact_id() * 16` (the i-th event of a transaction would
take `+ i`, up to 15). Transaction ids are unique in the cluster and never reused, so numbers
are unique per platform; readers read only below the horizon `pg_snapshot_xmin(
pg_current_snapshot()) * 16`, in the same statement as the events: every transaction with a
smaller id has ended (committed: its events are in the reader's snapshot; rolled back: they
never will be), and every transaction still running, or yet to start, has an id at least that
large. So no event can ever appear below a number a reader has passed: numbers have holes
(other transactions' ids), never gaps that fill later. A long transaction anywhere in the
cluster holds the horizon back: events are seen later, never missed.

The bench then moves the platform's counter to the largest number written
(`catch_up_event_counter`, after each run, outside the timing) so that the gateway, which
shares these tables in the same scenario, keeps numbering above the minimal transfer's events.

**Diagnostic: the gateway's own transaction** (`gateway_transfer.pgbench.sql`,
`pgbench-gateway-tx`). The script replays, statement for statement, what the gateway sends for
one `createTransfer` (captured from PostgreSQL's log, see bench/README.md): claim the
idempotency key, a savepoint, read the platform, lock both accounts in id order (FOR UPDATE),
read their users, the guarded debit and credit each followed by its ledger entry, the transfer
row, the platform's next event sequence (an UPDATE that holds the platform row's lock to
commit, as in the gateway), the event, the notification, release, settle the key, commit.
Measured against the minimal one, it says what the gateway's design costs, apart from its
Python; the fan-out scenario uses it as its event generator. Not in the script: the gateway's
API key lookup and its own session round trips (ping, BEGIN, ROLLBACK) outside the transaction.

In both, one extra statement picks the random pair of accounts, and entries and transfers get
time-ordered ids (`bench.v7()`: milliseconds then a sequence), as the gateway's UUIDv7 ids
are, so the ledger's invariants can be checked on pgbench's rows exactly as on the gateway's.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.servers import BenchError

# Run once as the superuser in the bench database (schema `bench`, which PostGraphile ignores).
SETUP_SQL = """
CREATE SCHEMA IF NOT EXISTS bench;
CREATE SEQUENCE IF NOT EXISTS bench.id_sequence;
CREATE OR REPLACE FUNCTION bench.v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
          || '7' || substr(digits, 1, 3) || '8' || substr(digits, 4, 15))::uuid
  FROM (SELECT lpad(to_hex(nextval('bench.id_sequence')), 18, '0') AS digits) AS next
$$;
CREATE TABLE IF NOT EXISTS bench.accounts (n int PRIMARY KEY, id uuid NOT NULL,
                                           user_id uuid NOT NULL);
GRANT USAGE ON SCHEMA bench TO {group};
GRANT SELECT ON bench.accounts TO {group};
GRANT USAGE ON SEQUENCE bench.id_sequence TO {group};
"""
FILL_SQL = """
INSERT INTO bench.accounts (n, id, user_id)
SELECT row_number() OVER (ORDER BY id), id, user_id FROM accounts WHERE platform_id = $1
ON CONFLICT (n) DO NOTHING
"""

MINIMAL_SCRIPT = Path(__file__).with_name("minimal_transfer.pgbench.sql")
GATEWAY_SCRIPT = Path(__file__).with_name("gateway_transfer.pgbench.sql")
# The copies pgbench runs, in the run's working folder (bench/.cache/work/).
MINIMAL_FILE = "minimal_transfer.sql"
GATEWAY_FILE = "gateway_transfer.sql"

# After a run of the minimal script: the platform's counter above every number written.
CATCH_UP_SQL = """
UPDATE platforms SET event_sequence = greatest(
  event_sequence, (SELECT coalesce(max(sequence), 0) FROM events WHERE platform_id = $1))
WHERE id = $1
"""


@dataclass(frozen=True, slots=True)
class PgbenchResult:
    transactions: int
    failed: int
    duration_s: float
    tps: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class PgbenchRun:
    host: str
    port: int
    database: str
    role: str
    platform_id: uuid.UUID
    accounts: int
    amount_max: int
    clients: int
    threads: int


def write_script(source: Path, path: Path) -> Path:
    """A copy of a script in the run's folder (pgbench reads it from there)."""
    path.write_text(source.read_text())
    return path


def _command(run: PgbenchRun, script: Path, limit: list[str], log_prefix: Path) -> list[str]:
    return [
        "pgbench",
        "--no-vacuum",
        "--protocol=prepared",
        "-h",
        run.host,
        "-p",
        str(run.port),
        "-U",
        run.role,
        "-c",
        str(run.clients),
        "-j",
        str(run.threads),
        *limit,
        "-D",
        f"platform={run.platform_id}",
        "-D",
        f"accounts={run.accounts}",
        "-D",
        f"amount_max={run.amount_max}",
        "--log",
        f"--log-prefix={log_prefix}",
        "-f",
        str(script),
        run.database,
    ]


def _value(output: str, label: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith(label):
            return line.split("=", 1)[-1].split(":", 1)[-1].strip().split()[0]
    raise BenchError(f"pgbench printed no {label!r}:\n{output}")


def _latencies_ms(log_dir: Path) -> list[float]:
    """Per-transaction latencies from pgbench's --log files (3rd column, microseconds)."""
    values = [
        int(line.split()[2]) / 1000
        for path in sorted(log_dir.glob("pgbench_log*"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    return sorted(values)


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def run_pgbench(
    run: PgbenchRun, script: Path, work_dir: Path, *, limit: list[str]
) -> PgbenchResult:
    """pgbench with `limit` (["-T", "10"] or ["-t", "5"]); fails on any failed transaction."""
    log_dir = work_dir / "pgbench-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for stale in log_dir.glob("pgbench_log*"):
        stale.unlink()
    done = subprocess.run(  # noqa: S603 - our own command line
        _command(run, script, limit, log_dir / "pgbench_log"),
        cwd=work_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BenchError(f"pgbench failed ({done.returncode}):\n{output[-3000:]}")
    processed = _value(output, "number of transactions actually processed")
    transactions = int(processed.split("/")[0])  # "N", or "N/M" with -t
    failed = int(_value(output, "number of failed transactions"))
    duration_s = float(_value(output, "duration")) if "duration:" in output else 0.0
    latencies = _latencies_ms(log_dir)
    return PgbenchResult(
        transactions=transactions,
        failed=failed,
        duration_s=duration_s,
        tps=float(_value(output, "tps")),
        p50_ms=_percentile(latencies, 0.5),
        p99_ms=_percentile(latencies, 0.99),
    )


async def prepare(dsn: str, *, group: str, platform_id: uuid.UUID) -> None:
    """Install the script's helpers in the bench database (`dsn`: the superuser's)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SETUP_SQL.format(group=group))
        await connection.execute(FILL_SQL, platform_id)
    finally:
        await connection.close()


async def catch_up_event_counter(dsn: str, *, platform_id: uuid.UUID) -> None:
    """Move the platform's event counter above the minimal script's numbers (see above)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(CATCH_UP_SQL, platform_id)
    finally:
        await connection.close()
