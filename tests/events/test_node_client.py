"""A real graphql-ws client (Node.js) follows a pay-out through a real gateway server, then resumes.

A gateway is started as a subprocess (`python -m gateway serve`) over a fresh database (a
SQLite file, and a scratch PostgreSQL database); the platform comes from
`python -m gateway platform create --json` and its validated, funded user from the real
services (`tests.ledger.onboard_validated_user`, a bank-wire pay-in settled by the sandbox).

`tests/js/follow-pay-out.mjs` then uses the `graphql-ws` client over `ws` to:

0. see a wrong API key in `connection_init` refused (close code 4403);
1. follow one pay-out (`objectId` filter) from CREATED to SUCCEEDED: PAY_OUT_CREATED,
   PAY_OUT_PENDING, PAY_OUT_SUCCESSFUL, in order, each with the object as it is now;
2. dispose of its client, make more events while nobody listens (a pay-out that fails, a
   transfer), reconnect with a new client and `after: <last cursor received>`, and receive
   exactly the missed events in order (checked against `Platform.events(after:)`), then a
   live one, with no duplicate; the server's keep-alive pings (every 0.5 s here) are
   answered by graphql-ws on its own.

Node.js packages come from `tests/js/package-lock.json` (`npm ci` when `node_modules` is
missing). Without `node`/`npm`, or PostgreSQL, the test is skipped locally and fails when
MPS_TEST_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gateway.domain.enums import PayInMethod
from gateway.services.payments import NewPayIn, create_pay_in
from gateway.services.sandbox import simulate_pay_in
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from tests.ledger import onboard_validated_user
from tests.processes import gateway_process

T = TypeVar("T")

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "follow-pay-out.mjs"
POSTGRES_ADMIN_URL = os.environ.get(
    "MPS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_SERVICES = os.environ.get("MPS_TEST_REQUIRE_SERVICES") == "1"
NPM_CI_TIMEOUT_S = 300.0
NODE_TIMEOUT_S = 90.0
KEEP_ALIVE_S = 0.5
FUNDS = 100_00  # EUR cents credited before the script runs

PAY_OUT_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_SUCCESSFUL"]
MISSED_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_FAILED", "TRANSFER_SUCCESSFUL"]


def _unavailable(reason: str) -> NoReturn:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MPS_TEST_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def _run_apart(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on its own loop in a thread, away from pytest-asyncio's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


def _hermetic_env(**extra: str) -> dict[str, str]:
    """This process's environment without MPS_* settings (no stray Redis, .env keys...)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MPS_")}
    return {**env, **extra}


# ---- Node.js and the graphql-ws client ------------------------------------------------------


@dataclass(frozen=True)
class NodeTools:
    node: str
    npm: str


@pytest.fixture(scope="module")
def node_tools() -> NodeTools:
    """`node` and `npm`, with tests/js/node_modules installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("Node.js (`node` and `npm`) not found on PATH")
    if not (JS_DIR / "node_modules" / "graphql-ws" / "package.json").is_file():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT_S,
            check=False,
        )
        if installed.returncode != 0:
            pytest.fail(f"`npm ci` in {JS_DIR} failed:\n{installed.stdout}\n{installed.stderr}")
    return NodeTools(node=node, npm=npm)


# ---- Databases ------------------------------------------------------------------------------


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _create_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, for this test's server alone."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}"
        return
    name = f"mps_node_{uuid.uuid4().hex[:12]}"
    try:
        _run_apart(lambda: _create_postgres_database(name))
    except (OSError, asyncpg.PostgresError) as error:
        _unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_apart(lambda: _drop_postgres_database(name))


# ---- The platform's data and the gateway server ---------------------------------------------


@dataclass(frozen=True)
class FundedHolder:
    account_ids: tuple[str, ...]
    bank_account_id: str


@dataclass(frozen=True)
class RunningGateway:
    base_url: str
    api_key: str
    holder: FundedHolder


def _create_platform(env: dict[str, str], workdir: Path) -> tuple[uuid.UUID, str]:
    """`python -m gateway platform create --json` (it also migrates the database)."""
    created = subprocess.run(
        [sys.executable, "-m", "gateway", "platform", "create", "--name", "Node client", "--json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, f"`platform create` failed:\n{created.stderr}"
    platform = json.loads(created.stdout.strip().splitlines()[-1])
    return uuid.UUID(platform["platformId"]), platform["apiKey"]


async def _fund_holder(url: str, documents: Path, platform_id: uuid.UUID) -> FundedHolder:
    """A validated user with two EUR accounts, the first credited by a settled pay-in."""
    db = Database.from_url(url)
    try:
        holder = await onboard_validated_user(
            db, DocumentFiles(documents), platform_id=platform_id, login="follower", accounts=2
        )
        new = NewPayIn(
            credited_account_id=holder.account_ids[0],
            amount=FUNDS,
            currency="EUR",
            method=PayInMethod.BANK_WIRE,
            idempotency_key=f"fund-{uuid.uuid4()}",
        )
        pay_in = (await create_pay_in(db, platform_id=platform_id, new=new)).value
        await simulate_pay_in(db, platform_id=platform_id, pay_in_id=str(pay_in.id), succeeded=True)
    finally:
        await db.dispose()
    return FundedHolder(holder.account_ids, holder.bank_account_id)


@pytest.fixture
def gateway(node_tools: NodeTools, database_url: str, tmp_path: Path) -> Iterator[RunningGateway]:
    """A real `python -m gateway serve` process over `database_url`, with a funded holder."""
    documents = tmp_path / "documents"
    env = _hermetic_env(
        MPS_DATABASE_URL=database_url,
        MPS_DOCUMENTS_DIR=str(documents),
        MPS_WS_KEEP_ALIVE_S=str(KEEP_ALIVE_S),
    )
    platform_id, api_key = _create_platform(env, tmp_path)
    holder = _run_apart(lambda: _fund_holder(database_url, documents, platform_id))

    with gateway_process(env, tmp_path) as base_url:
        yield RunningGateway(base_url=base_url, api_key=api_key, holder=holder)


def _run_client(node: str, gateway: RunningGateway, record: Path) -> dict[str, Any]:
    """Run the script; its summary is kept in `record` (tmp_path) for a look after a run."""
    env = _hermetic_env(
        MPS_GATEWAY_URL=gateway.base_url,
        MPS_API_KEY=gateway.api_key,
        MPS_DEBITED_ACCOUNT_ID=gateway.holder.account_ids[0],
        MPS_CREDITED_ACCOUNT_ID=gateway.holder.account_ids[1],
        MPS_BANK_ACCOUNT_ID=gateway.holder.bank_account_id,
        MPS_STEP_TIMEOUT_MS="10000",
        MPS_TIMEOUT_MS="60000",
        MPS_MIN_PINGS="1",
    )
    try:
        run = subprocess.run(
            [node, str(SCRIPT)],
            cwd=JS_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"the Node.js client ran longer than {NODE_TIMEOUT_S:.0f} s: {timeout}")
    assert run.returncode == 0, (
        f"the Node.js client failed (exit {run.returncode}):\n{run.stderr}\n{run.stdout}"
    )
    record.write_text(run.stdout)
    summary: dict[str, Any] = json.loads(run.stdout)
    return summary


# ---- The test -------------------------------------------------------------------------------


def test_a_graphql_ws_client_follows_a_pay_out_and_resumes_after_its_last_cursor(
    gateway: RunningGateway, node_tools: NodeTools, tmp_path: Path
) -> None:
    summary = _run_client(node_tools.node, gateway, tmp_path / "summary.json")
    assert summary["ok"] is True
    assert summary["wrongKey"]["code"] == 4403  # connection_init with a wrong key is refused

    followed = summary["payOut"]["events"]
    assert [event["type"] for event in followed] == PAY_OUT_EVENTS
    assert [event["status"] for event in followed] == ["CREATED", "PENDING", "SUCCEEDED"]
    assert [event["previousStatus"] for event in followed] == [None, "CREATED", "PENDING"]
    assert {event["objectId"] for event in followed} == {summary["payOut"]["id"]}
    assert followed[0]["object"]["status"] == "CREATED"  # received before it was settled
    assert followed[-1]["object"]["status"] == "SUCCEEDED"

    missed = summary["missed"]
    assert missed["expectedTypes"] == MISSED_EVENTS
    assert missed["receivedCount"] == missed["expectedCount"] == len(MISSED_EVENTS)
    assert [event["type"] for event in missed["events"]] == MISSED_EVENTS
    assert summary["live"]["type"] == "TRANSFER_SUCCESSFUL"

    received = [*followed, *missed["events"], summary["live"]]
    ids = [event["id"] for event in received]
    assert len(set(ids)) == len(ids) == summary["eventsReceived"], f"duplicates in {ids}"
    assert summary["duplicates"] == 0

    first, second = summary["connections"]
    assert first["connected"] == second["connected"] == 1  # no silent reconnection
    assert first["closes"] == [{"code": 1000, "reason": "Normal Closure"}]
    assert second["pingsReceived"] >= 1
    assert second["pongsSent"] == second["pingsReceived"]
