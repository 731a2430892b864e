"""The SQLite transfers' baselines: Python's sqlite3 running a transfer transaction.

`python -m bench.baselines.sqlite_transfers --transaction minimal|gateway --database FILE ...`
runs, back to back for `--duration` seconds, one transfer transaction after another at the
gateway's durability: WAL, synchronous=NORMAL, foreign_keys=ON, busy_timeout, one BEGIN
IMMEDIATE transaction each. Values are stored as the gateway stores them (UUIDs as 32 hex
digits, enums by name, UTC times as text), with UUIDv7 ids from the gateway's own `new_id`.
Statements are prepared once (the sqlite3 module's statement cache, keyed by the SQL text).
One connection: SQLite has one writer at a time, and so has the gateway; more connections
would only take turns on the same lock. Prints one JSON line.

`minimal` (the baseline, `sqlite3-minimal`) is the correct minimal transfer: the idempotency
row inserted already settled with the transfer's id; the two accounts read (their owners, for
the event; BEGIN IMMEDIATE already holds the database's one write lock, the lock SQLite has);
the guarded debit `UPDATE ... WHERE balance >= amount RETURNING balance`, the credit; one
INSERT of the two ledger entries with their `balance_after`; the transfer row; the platform's
next event number and the event; COMMIT. The event is numbered by the platform's counter
(`UPDATE platforms SET event_sequence = event_sequence + 1 RETURNING`): with one writer at a
time, numbers are consecutive and in commit order, so a reader resuming after a number never
misses one, and that costs one row update here, not a wait (unlike PostgreSQL, see
pgbench_transfer.py).

`gateway` (diagnostic, `sqlite3-gateway-tx`) runs the statements the gateway's SQLite store
sends for one `createTransfer` (the same as on PostgreSQL, less FOR UPDATE and NOTIFY; see
gateway_transfer.pgbench.sql): what the gateway's design costs, without its Python.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

from gateway.domain.ids import new_id

BALANCE_MAX = 9_007_199_254_740_991
ENTRY = (
    "INSERT INTO ledger_entries (id, platform_id, account_id, settlement_account_id, currency,"
    " kind, amount, balance_after, operation_type, operation_id, created_at)"
    " VALUES (?, ?, ?, NULL, 'EUR', ?, ?, ?, 'Transfer', ?, ?)"
)
MOVE = (
    "UPDATE accounts SET balance = (accounts.balance + ?), updated_at = ? WHERE accounts.id = ?"
    " AND accounts.balance + ? >= 0 AND accounts.balance + accounts.reserved + ? <= ?"
    " RETURNING id, balance"
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "synchronous=NORMAL",
        "busy_timeout=10000",
    ):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def _move(db: sqlite3.Connection, account: str, delta: int, kind: str, transfer: str) -> None:
    row = db.execute(MOVE, (delta, _now(), account, delta, delta, BALANCE_MAX)).fetchone()
    if row is None:
        raise RuntimeError(f"account {account} cannot move {delta}")
    db.execute(ENTRY, (new_id().hex, PLATFORM[0], account, kind, delta, row[1], transfer, _now()))


PLATFORM: list[str] = []  # the platform id as stored (hex), set in main


MINIMAL_ENTRIES = (
    "INSERT INTO ledger_entries (id, platform_id, account_id, currency, kind, amount,"
    " balance_after, operation_type, operation_id, created_at)"
    " VALUES (?, ?, ?, 'EUR', 'TRANSFER_OUT', ?, ?, 'Transfer', ?, ?),"
    " (?, ?, ?, 'EUR', 'TRANSFER_IN', ?, ?, 'Transfer', ?, ?)"
)


def _balance(row: tuple[object, ...] | None, account: str) -> int:
    if row is None:
        raise RuntimeError(f"account {account}: the guarded update matched no row")
    return int(str(row[0]))


def minimal_transfer(
    db: sqlite3.Connection, debited: str, credited: str, amount: int, key: str
) -> None:
    platform, transfer_id, now = PLATFORM[0], new_id().hex, _now()
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        'INSERT INTO idempotency_records (id, platform_id, "key", operation, fingerprint,'
        " object_id, created_at) VALUES (?, ?, ?, 'createTransfer', ?, ?, ?)",
        (new_id().hex, platform, key, hashlib.sha256(key.encode()).hexdigest(), transfer_id, now),
    )
    owners = dict(
        db.execute(
            "SELECT id, user_id FROM accounts WHERE platform_id = ? AND id IN (?, ?)",
            (platform, debited, credited),
        ).fetchall()
    )
    debited_after = _balance(
        db.execute(
            "UPDATE accounts SET balance = balance - ?, updated_at = ?"
            " WHERE id = ? AND balance >= ? RETURNING balance",
            (amount, now, debited, amount),
        ).fetchone(),
        debited,
    )
    credited_after = _balance(
        db.execute(
            "UPDATE accounts SET balance = balance + ?, updated_at = ? WHERE id = ?"
            " RETURNING balance",
            (amount, now, credited),
        ).fetchone(),
        credited,
    )
    db.execute(
        MINIMAL_ENTRIES,
        (
            *(new_id().hex, platform, debited, -amount, debited_after, transfer_id, now),
            *(new_id().hex, platform, credited, amount, credited_after, transfer_id, now),
        ),
    )
    db.execute(
        "INSERT INTO transfers (id, platform_id, debited_account_id, credited_account_id,"
        " amount, currency, status, created_at) VALUES (?, ?, ?, ?, ?, 'EUR', 'SUCCEEDED', ?)",
        (transfer_id, platform, debited, credited, amount, now),
    )
    (sequence,) = db.execute(
        "UPDATE platforms SET event_sequence = event_sequence + 1 WHERE id = ?"
        " RETURNING event_sequence",
        (platform,),
    ).fetchone()
    db.execute(
        "INSERT INTO events (id, platform_id, sequence, type, object_type, object_id, user_id,"
        " counterpart_user_id, status, occurred_at)"
        " VALUES (?, ?, ?, 'TRANSFER_SUCCESSFUL', 'Transfer', ?, ?, ?, 'SUCCEEDED', ?)",
        (new_id().hex, platform, sequence, transfer_id, owners[debited], owners[credited], now),
    )
    db.execute("COMMIT")


def gateway_transfer(
    db: sqlite3.Connection, debited: str, credited: str, amount: int, key: str
) -> None:
    platform = PLATFORM[0]
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        'INSERT INTO idempotency_records (id, platform_id, "key", operation, fingerprint,'
        " created_at) VALUES (?, ?, ?, 'createTransfer', ?, ?) ON CONFLICT DO NOTHING"
        " RETURNING id",
        (new_id().hex, platform, key, hashlib.sha256(key.encode()).hexdigest(), _now()),
    ).fetchall()
    db.execute("SAVEPOINT transfer")
    db.execute("SELECT * FROM platforms WHERE id = ?", (platform,)).fetchall()
    accounts = db.execute(
        "SELECT id, user_id FROM accounts WHERE platform_id = ? AND id IN (?, ?) ORDER BY id",
        (platform, debited, credited),
    ).fetchall()
    users = [user for _, user in accounts]
    db.execute(
        "SELECT * FROM users WHERE platform_id = ? AND id IN (?, ?)", (platform, *users)
    ).fetchall()
    transfer_id = new_id().hex
    _move(db, debited, -amount, "TRANSFER_OUT", transfer_id)
    _move(db, credited, amount, "TRANSFER_IN", transfer_id)
    db.execute(
        "INSERT INTO transfers (id, platform_id, debited_account_id, credited_account_id,"
        " amount, currency, label, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'EUR', NULL, 'SUCCEEDED', ?)",
        (transfer_id, platform, debited, credited, amount, _now()),
    )
    (sequence,) = db.execute(
        "UPDATE platforms SET event_sequence = (platforms.event_sequence + 1)"
        " WHERE platforms.id = ? RETURNING event_sequence",
        (platform,),
    ).fetchone()
    by_account = dict(accounts)
    db.execute(
        "INSERT INTO events (id, platform_id, sequence, type, object_type, object_id, user_id,"
        " counterpart_user_id, previous_status, status, occurred_at)"
        " VALUES (?, ?, ?, 'TRANSFER_SUCCESSFUL', 'Transfer', ?, ?, ?, NULL, 'SUCCEEDED', ?)",
        (
            new_id().hex,
            platform,
            sequence,
            transfer_id,
            by_account[debited],
            by_account[credited],
            _now(),
        ),
    )
    db.execute("RELEASE SAVEPOINT transfer")
    db.execute(
        "UPDATE idempotency_records SET object_id = ?, rejection = 'null'"
        ' WHERE idempotency_records.platform_id = ? AND idempotency_records."key" = ?',
        (transfer_id, platform, key),
    )
    db.execute("COMMIT")


TRANSACTIONS = {"minimal": minimal_transfer, "gateway": gateway_transfer}


def run(args: argparse.Namespace) -> dict[str, float | int]:
    accounts = [line.replace("-", "") for line in Path(args.accounts).read_text().split()]
    PLATFORM[:] = [args.platform.replace("-", "")]
    transaction = TRANSACTIONS[args.transaction]
    db = _connect(args.database)
    rng = random.Random(args.seed)  # noqa: S311 - a load pattern, not a secret
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + args.duration
    while time.perf_counter() < deadline:
        debited, credited = rng.sample(accounts, 2)
        began = time.perf_counter()
        transaction(
            db,
            debited,
            credited,
            rng.randint(1, args.amount_max),
            f"{args.key_prefix}-{len(latencies)}",
        )
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - start
    db.close()
    latencies.sort()
    return {
        "transactions": len(latencies),
        "duration_s": elapsed,
        "tps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines.sqlite_transfers")
    parser.add_argument("--transaction", choices=sorted(TRANSACTIONS), required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--platform", required=True)
    parser.add_argument("--accounts", required=True, help="a file of account ids")
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--amount-max", type=int, default=10)
    parser.add_argument("--key-prefix", default="sqlite3")
    parser.add_argument("--seed", type=int, default=1)
    print(json.dumps(run(parser.parse_args(argv))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
