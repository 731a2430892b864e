"""Node.js clients against a real gateway server: the machinery their tests share.

`gateway` is a real `python -m gateway serve` process over a fresh database of each backend
(a SQLite file, and a scratch PostgreSQL database), with a platform created by
`python -m gateway platform create --json` and a validated user holding two EUR accounts, the
first credited by a settled bank-wire pay-in. `node_tools` is `node` and `npm` with
`tests/js/node_modules` installed from its lock file (`npm ci` when a dependency is missing).
`run_script` runs one of `tests/js`'s scripts against the server and returns its JSON summary.

Without `node`/`npm`, or PostgreSQL, the tests are skipped locally and fail when
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

JS_DIR = Path(__file__).resolve().parents[1] / "js"
POSTGRES_ADMIN_URL = os.environ.get(
    "MPS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_SERVICES = os.environ.get("MPS_TEST_REQUIRE_SERVICES") == "1"
NPM_CI_TIMEOUT_S = 300.0
NODE_TIMEOUT_S = 90.0
KEEP_ALIVE_S = 0.5
FUNDS = 100_00  # EUR cents credited before a script runs

T = TypeVar("T")


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


# ---- Node.js and the npm clients ------------------------------------------------------------


def _missing_dependencies() -> list[str]:
    dependencies = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    return [
        name
        for name in dependencies
        if not (JS_DIR / "node_modules" / name / "package.json").is_file()
    ]


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
    if _missing_dependencies():
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


def run_script(
    node: str, script: str, gateway: RunningGateway, record: Path, **extra: str
) -> dict[str, Any]:
    """Run `tests/js/<script>` against `gateway`; its JSON summary is also kept in `record`
    (under tmp_path) for a look after a run."""
    env = _hermetic_env(
        MPS_GATEWAY_URL=gateway.base_url,
        MPS_API_KEY=gateway.api_key,
        MPS_DEBITED_ACCOUNT_ID=gateway.holder.account_ids[0],
        MPS_CREDITED_ACCOUNT_ID=gateway.holder.account_ids[1],
        MPS_BANK_ACCOUNT_ID=gateway.holder.bank_account_id,
        **extra,
    )
    try:
        run = subprocess.run(
            [node, str(JS_DIR / script)],
            cwd=JS_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"{script} ran longer than {NODE_TIMEOUT_S:.0f} s: {timeout}")
    assert run.returncode == 0, (
        f"{script} failed (exit {run.returncode}):\n{run.stderr}\n{run.stdout}"
    )
    record.write_text(run.stdout)
    summary: dict[str, Any] = json.loads(run.stdout)
    return summary
