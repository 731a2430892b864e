"""examples/web/demo_token.py run again once the gateway has forgotten its idempotency keys
(the retention window): it finds the same user and accounts and wires nothing more."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "web" / "demo_token.py"


def _run(database: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{database}"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--database-url", url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_rerun_after_the_retention_window_finds_the_same_funded_user(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    first = _run(database)
    with sqlite3.connect(database) as connection:  # what the retention purge does, at once
        forgotten = connection.execute("DELETE FROM idempotency_records").rowcount
    assert forgotten > 0
    again = _run(database)
    with sqlite3.connect(database) as connection:
        users = connection.execute("SELECT count(*) FROM users WHERE login = 'web.demo'").fetchone()
        balances = connection.execute(
            "SELECT label, balance FROM accounts WHERE user_id = ? ORDER BY label",
            (first["userId"].replace("-", ""),),
        ).fetchall()
    assert (again["userId"], again["accountIds"]) == (first["userId"], first["accountIds"])
    assert again["token"] != first["token"]
    assert users == (1,)
    assert balances == [("Main", 250_00), ("Savings", 0)]
