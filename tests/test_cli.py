"""The command line, run as a real process against each database.

API key management (`key create | list | revoke`) is checked here for what it prints and how
it fails; tests/tokens/test_api_keys.py checks that its keys open, and close, the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from gateway.domain.credentials import key_prefix
from gateway.domain.enums import ApiKeyRole, Environment
from gateway.services.api_keys import revoke_api_key
from gateway.services.credentials import authenticate
from gateway.settings import Settings
from gateway.store import readers
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.processes import gateway_server
from tests.support import data

CLI_TIMEOUT_S = 120


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "MPS_DATABASE_URL": settings.database_url, "MPS_LOG_LEVEL": "WARNING"}


def _cli(
    settings: Settings, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        env=_env(settings),
        timeout=CLI_TIMEOUT_S,
        cwd=cwd,
    )


def cli_runs(settings: Settings, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run several CLI commands at once (each is a process of its own); results in order."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gateway", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(settings),
        )
        for command in commands
    ]
    results = []
    for command, process in zip(commands, processes, strict=True):
        stdout, stderr = process.communicate(timeout=CLI_TIMEOUT_S)
        results.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return results


def cli_json(settings: Settings, *args: str) -> Any:
    """Run a CLI command with --json that must succeed; its one line of JSON, decoded."""
    result = _cli(settings, *args, "--json")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    return json.loads(line)


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
    # In a thread: the app's background tasks (event hub, webhook dispatcher) share this loop
    # and must not stall for the seconds the two runs take.
    runs = [await asyncio.to_thread(_cli, settings, "demo", "--json") for _ in range(2)]
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


async def test_key_create_prints_the_whole_key_once_with_its_prefix_in_the_platforms_environment(
    settings: Settings, db: Database
) -> None:
    platform = await make_platform(db, environment=Environment.PRODUCTION)
    result = _cli(settings, "key", "create", "--platform", str(platform.id), "--label", "payroll")
    assert result.returncode == 0, result.stderr
    lines = dict(line.strip().split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    key, prefix = lines["API key"].strip(), lines["prefix"].strip()
    assert key.startswith(f"{prefix}_")
    assert prefix.startswith("mps_live_")
    assert result.stdout.count(key) == 1
    assert prefix not in result.stderr
    caller = await authenticate(db, authorization=f"Bearer {key}")
    assert caller is not None
    assert caller[0].platform_id == platform.id
    async with db.session() as session:
        found = await readers.credential_by_prefix(session, prefix=prefix)
    assert found is not None
    assert found[0].label == "payroll"
    assert key not in found[0].digest

    assert lines["role"].strip() == "BACKEND"
    assert caller[0].role is ApiKeyRole.BACKEND

    created = cli_json(
        settings, "key", "create", "--platform", str(platform.id), "--role", "operator"
    )
    assert set(created) == {"platformId", "prefix", "label", "role", "apiKey"}
    assert (created["platformId"], created["label"]) == (str(platform.id), None)
    assert created["role"] == "OPERATOR"
    operator = await authenticate(db, authorization=f"Bearer {created['apiKey']}")
    assert operator is not None
    assert operator[0].role is ApiKeyRole.OPERATOR
    refused = _cli(settings, "key", "create", "--platform", str(platform.id), "--role", "admin")
    assert refused.returncode == 2
    assert "invalid choice" in refused.stderr
    assert created["apiKey"].startswith(f"{created['prefix']}_")
    assert created["prefix"].startswith("mps_live_")


async def test_key_list_shows_prefixes_labels_and_dates_but_never_a_secret_or_a_digest(
    settings: Settings, db: Database
) -> None:
    platform = await make_platform(db)
    second = cli_json(
        settings,
        "key",
        "create",
        "--platform",
        str(platform.id),
        "--label",
        "ci",
        "--role",
        "readonly",
    )
    revoked = (await revoke_api_key(db, reference=second["prefix"])).key
    assert revoked.revoked_at is not None
    table, listed = cli_runs(
        settings,
        ["key", "list", "--platform", str(platform.id)],
        ["key", "list", "--platform", str(platform.id), "--json"],
    )
    assert table.returncode == listed.returncode == 0, table.stderr + listed.stderr
    async with db.session() as session:
        rows = await readers.api_keys_of_platform(session, platform_id=platform.id)
    secrets = [platform.key, second["apiKey"], *(row.digest for row in rows)]
    secrets += [key.removeprefix(f"{key_prefix(key)}_") for key in (platform.key, second["apiKey"])]
    for result in (table, listed):
        assert not [secret for secret in secrets if secret in result.stdout + result.stderr]

    header, first_row, second_row = table.stdout.splitlines()
    assert header.split() == ["PREFIX", "ROLE", "LABEL", "CREATED", "AT", "REVOKED", "AT"]
    assert first_row.startswith(
        f"{key_prefix(platform.key)}  BACKEND   created with the platform  "
    )
    assert first_row.endswith("  -")
    assert second_row.startswith(f"{second['prefix']}  READONLY  ci  ")
    assert second_row.endswith(revoked.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    keys = json.loads(listed.stdout)
    assert [key["prefix"] for key in keys] == [row.prefix for row in rows]
    assert all(
        set(key) == {"id", "platformId", "prefix", "label", "role", "createdAt", "revokedAt"}
        for key in keys
    )
    assert [key["role"] for key in keys] == ["BACKEND", "READONLY"]
    assert [key["revokedAt"] is None for key in keys] == [True, False]
    assert keys[1]["id"] == str(revoked.id)


async def test_key_commands_refuse_malformed_and_unknown_ids_without_a_traceback(
    settings: Settings, db: Database
) -> None:
    platform = await make_platform(db)
    unknown = str(uuid.uuid4())
    prefix = key_prefix(platform.key)
    assert prefix is not None
    runs = cli_runs(
        settings,
        ["key", "create", "--platform", "not-a-uuid"],
        ["key", "list", "--platform", "42"],
        ["key", "create", "--platform", str(platform.id), "--label", "x" * 201],
        ["key", "revoke", "not-a-key"],
        ["key", "revoke", platform.key],
        ["key", "create", "--platform", unknown],
        ["key", "list", "--platform", unknown],
        ["key", "revoke", unknown],
        ["key", "revoke", "mps_test_zzzzzzzzzzzz"],
    )
    codes = [run.returncode for run in runs]
    assert codes == [2, 2, 2, 2, 2, 1, 1, 1, 1], [run.stderr for run in runs]
    for run in runs:
        assert run.stdout == ""
        assert run.stderr.startswith(("usage:", "mps-gateway: "))
        assert "Traceback" not in run.stderr
    assert "not a platform id" in runs[0].stderr
    assert "label" in runs[2].stderr
    assert prefix in runs[4].stderr
    assert platform.key not in runs[4].stderr
    assert f"No platform with id {unknown}" in runs[5].stderr
    assert "No API key" in runs[7].stderr
    caller = await authenticate(db, authorization=f"Bearer {platform.key}")
    assert caller is not None, "a refused revocation revoked nothing"


def _worker_processes(server: int) -> list[int]:
    """The uvicorn workers of `server`: its children started by multiprocessing's spawn."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if parent == server and b"multiprocessing.spawn" in command:
            workers.append(int(stat.parent.name))
    return workers


def test_serve_with_two_workers_migrates_a_new_database_once_and_answers_from_both(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    env = {**_env(settings), "MPS_DOCUMENTS_DIR": str(tmp_path / "documents")}
    with gateway_server(env, tmp_path, "--workers", "2") as server:
        assert len(_worker_processes(server.process.pid)) == 2
        created = cli_json(settings, "platform", "create", "--name", "Two workers")
        headers = {"Authorization": f"Bearer {created['apiKey']}"}
        for _ in range(4):  # each answer comes from one worker or the other, both migrated
            response = httpx.post(
                f"{server.url}/graphql",
                json={"query": "{ platform { name } }"},
                headers=headers,
                timeout=30,
            )
            assert response.status_code == 200, response.text
            assert response.json()["data"]["platform"]["name"] == "Two workers"
    log = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert "Traceback" not in log, log


def test_serve_refuses_fewer_than_one_worker(settings: Settings) -> None:
    result = _cli(settings, "serve", "--workers", "0")
    assert result.returncode == 2
    assert "must be 1 or more" in result.stderr
