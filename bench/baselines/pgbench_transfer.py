"""The PostgreSQL transfers' baseline: pgbench running the gateway's transfer transaction.

The script replays, statement for statement, what the gateway sends for one `createTransfer`
(captured from PostgreSQL's log, see bench/README.md): claim the idempotency key, a savepoint,
read the platform, lock both accounts in id order (FOR UPDATE), read their users, the guarded
debit and credit each followed by its ledger entry, the transfer row, the platform's next event
sequence (an UPDATE that holds the platform row's lock to commit, as in the gateway), the
event, the notification, release, settle the key, commit. Entries and transfers get
time-ordered ids (`bench.v7()`: milliseconds then a sequence), as the gateway's UUIDv7 ids
are, so the ledger's invariants can be checked on pgbench's rows exactly as on the gateway's.

Not in the script: the gateway's API key lookup and its own session round trips (ping, BEGIN,
ROLLBACK) outside the transaction; one extra statement picks the random pair of accounts.
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

SCRIPT = Path(__file__).with_name("transfer.pgbench.sql")


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


def write_script(path: Path) -> Path:
    """A copy of the script in the run's folder (pgbench reads it from there)."""
    path.write_text(SCRIPT.read_text())
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
