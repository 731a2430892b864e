"""Two gateway processes on one database, each keeping the credentials it verified for 600 s:
a revocation made through the first (revokeUserTokens, blockUser) or by the `key revoke`
command refuses the credential on the second too, carried by PostgreSQL NOTIFY, or by Redis
when configured (on PostgreSQL, and on a SQLite file that two processes share, where Redis is
the only carrier between them).

The TTL is far beyond the test's patience, so only the invalidation can explain a refusal; and
a control key revoked straight in SQL (which announces nothing) is still served by the second
instance afterwards, which shows that it answers from its cache. The carrier delivers to the
other process asynchronously, a moment after the revoking request has committed: the second
instance is asked again at most `ATTEMPTS_MAX` times, 10 ms apart (the first attempt refuses
unless the notification is still in flight), and the test reports how many it took.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from gateway.services.api_keys import create_api_key
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from gateway.store.tables import ApiKey
from tests.conftest import make_platform
from tests.processes import gateway_process
from tests.support.calls import mutate, success
from tests.support.decisions import operator_of
from tests.support.lifecycle import block_user
from tests.support.tokens import refused, user_token
from tests.support.users import create_natural_user

ATTEMPTS_MAX = 200  # 2 s at most
REVOKE_TOKENS = (Path(__file__).parents[2] / "queries" / "RevokeUserTokens.graphql").read_text()
HEALTH_CHECKS_MAX = 1000  # 10 s at most


@pytest.fixture
async def shared(postgresql_url: str) -> AsyncIterator[Database]:
    """The PostgreSQL database the two processes share (PostgreSQL only: SQLite has no
    carrier between processes)."""
    database = Database.from_url(postgresql_url)
    await upgrade(database.engine)
    yield database
    await database.dispose()


@pytest.fixture
def environment(postgresql_url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MPS_DATABASE_URL": postgresql_url,
        "MPS_CREDENTIAL_CACHE_TTL_S": "600",
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
    }
    env.pop("MPS_REDIS_URL", None)
    return env


async def _listening(http: httpx.AsyncClient) -> None:
    """Until the instance's carrier listens (it drops what it kept when it starts to)."""
    for _ in range(HEALTH_CHECKS_MAX):
        if (await http.get("/healthz")).json()["notifications"] == "listening":
            return
        await asyncio.sleep(0.01)
    pytest.fail("the instance's notification carrier never listened")


async def _attempts_until_refused(http: httpx.AsyncClient, credential: str) -> int:
    for attempt in range(1, ATTEMPTS_MAX + 1):
        if await refused(http, credential):
            return attempt
        await asyncio.sleep(0.01)
    pytest.fail(f"still served after {ATTEMPTS_MAX} attempts: no invalidation arrived")


def _revoke_with_the_command(env: dict[str, str], workdir: Path, prefix: str) -> None:
    revoked = subprocess.run(
        [sys.executable, "-m", "gateway", "key", "revoke", prefix, "--json"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr


async def _revoke_in_sql(db: Database, prefix: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            sa.update(ApiKey).where(col(ApiKey.prefix) == prefix).values(revoked_at=sa.func.now())
        )


async def _revocations_reach_the_other_instance(
    db: Database, env: dict[str, str], workdir: Path
) -> None:
    platform = await make_platform(db)
    operator = await operator_of(db, platform)
    doomed = await create_api_key(db, platform_id=platform.id, label="revoked by the command")
    control = await create_api_key(db, platform_id=platform.id, label="revoked in SQL")
    with gateway_process(env, workdir) as first, gateway_process(env, workdir) as second:
        async with (
            httpx.AsyncClient(base_url=first, timeout=10) as a,
            httpx.AsyncClient(base_url=second, timeout=10) as b,
        ):
            await _listening(a)
            await _listening(b)
            revoked_user = await create_natural_user(a, platform)
            blocked_user = await create_natural_user(a, platform)
            logged_out = await user_token(a, platform, revoked_user)
            blocked = await user_token(a, platform, blocked_user)
            credentials = [logged_out, blocked, doomed.key, control.key, platform.key]
            for http in (a, b):  # both instances keep every credential
                for credential in credentials:
                    assert not await refused(http, credential)

            await _revoke_in_sql(db, control.prefix)
            assert not await refused(b, control.key), "the second instance answers from its cache"

            payload = await mutate(a, platform, REVOKE_TOKENS, {"userId": revoked_user})
            success(payload, "RevokeUserTokensSuccess")
            attempts = [await _attempts_until_refused(b, logged_out)]
            await block_user(a, operator, blocked_user)
            attempts.append(await _attempts_until_refused(b, blocked))
            _revoke_with_the_command(env, workdir, doomed.prefix)
            attempts.append(await _attempts_until_refused(b, doomed.key))
            attempts.append(await _attempts_until_refused(a, doomed.key))

            assert not await refused(b, platform.key), "other credentials are still served"
            assert not await refused(b, control.key), "nothing announced the control's revocation"
    print(f"attempts until refused on the other instance: {attempts}")


async def test_revocations_reach_the_other_instance_through_postgresql(
    shared: Database, environment: dict[str, str], tmp_path: Path
) -> None:
    await _revocations_reach_the_other_instance(shared, environment, tmp_path)


async def test_revocations_reach_the_other_instance_through_redis(
    shared: Database, environment: dict[str, str], tmp_path: Path, redis_url: str
) -> None:
    await _revocations_reach_the_other_instance(
        shared, {**environment, "MPS_REDIS_URL": redis_url}, tmp_path
    )


async def test_revocations_reach_the_other_instance_on_sqlite_through_redis(
    tmp_path: Path, environment: dict[str, str], redis_url: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    db = Database.from_url(url)
    await upgrade(db.engine)
    try:
        env = {**environment, "MPS_DATABASE_URL": url, "MPS_REDIS_URL": redis_url}
        await _revocations_reach_the_other_instance(db, env, tmp_path)
    finally:
        await db.dispose()
