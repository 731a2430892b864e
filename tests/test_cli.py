"""The command line, run as a real process against each database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from gateway.domain.enums import Environment
from gateway.services.credentials import authenticate
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.support import data


def _cli(
    settings: Settings, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPS_DATABASE_URL": settings.database_url, "MPS_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=cwd,
    )


async def test_platform_create_json_prints_one_line_with_a_working_key(
    settings: Settings, db: Database
) -> None:
    result = _cli(
        settings,
        "platform",
        "create",
        "--name",
        "Acme",
        "--currency",
        "EUR",
        "--currency",
        "usd",
        "--environment",
        "production",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    created = json.loads(line)
    assert set(created) == {"platformId", "apiKey"}
    assert created["apiKey"].startswith("mps_live_")
    caller = await authenticate(db, authorization=f"Bearer {created['apiKey']}")
    assert caller is not None
    principal, platform = caller
    assert str(principal.platform_id) == created["platformId"]
    assert platform.environment is Environment.PRODUCTION
    assert platform.allowed_currencies == ["EUR", "USD"]
    assert created["apiKey"] not in result.stderr


def test_platform_create_refuses_unknown_currencies_and_blank_names(settings: Settings) -> None:
    bad_currency = _cli(settings, "platform", "create", "--name", "X", "--currency", "XYZ")
    assert bad_currency.returncode == 2
    assert "XYZ" in bad_currency.stderr
    blank = _cli(settings, "platform", "create", "--name", "   ")
    assert blank.returncode == 2
    assert "Traceback" not in blank.stderr + bad_currency.stderr


async def test_demo_is_idempotent_and_issues_a_new_key_each_time(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    runs = [_cli(settings, "demo", "--json") for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["platformId"] == second["platformId"]
    assert first["apiKey"] != second["apiKey"]
    query = """{ platform { name environment
        users(first: 100) { totalCount nodes { kind accounts { nodes { balance { amount } } }
          holder { ... on LegalPerson { representatives { id } beneficialOwners { id } } }
        } } } }"""
    counts = []
    for run in (first, second):
        found = await data(client, query, headers={"Authorization": f"Bearer {run['apiKey']}"})
        counts.append(found["platform"]["users"]["totalCount"])
    platform = found["platform"]
    assert (platform["name"], platform["environment"]) == ("Demo", "SANDBOX")
    assert counts[0] == counts[1]
    users = platform["users"]["nodes"]
    assert sum(user["kind"] == "NATURAL" for user in users) >= 20
    legal = [user for user in users if user["kind"] == "LEGAL"]
    assert len(legal) >= 5
    assert all(u["holder"]["representatives"] and u["holder"]["beneficialOwners"] for u in legal)
    balances = [a["balance"]["amount"] for u in users for a in u["accounts"]["nodes"]]
    assert balances
    assert all(amount > 0 for amount in balances)


def test_db_upgrade_is_idempotent(settings: Settings) -> None:
    for _ in range(2):
        result = _cli(settings, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout


def test_the_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MPS_DATABASE_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "platform",
            "create",
            "--name",
            f"p{uuid.uuid4().hex}",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mps-gateway.db").exists()
    journal = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3; print(sqlite3.connect('mps-gateway.db')"
            ".execute('PRAGMA journal_mode').fetchone()[0])",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert journal.stdout.strip() == "wal"
