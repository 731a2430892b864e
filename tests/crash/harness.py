"""What every crash test starts from: a migrated database with a platform of funded accounts,
the environment of a gateway process on it, and a storm driven beside the faults a test
injects, always stopped and settled, whatever the test did in between."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.crash.checks import balances
from tests.crash.storm import Storm
from tests.processes import GatewayServer
from tests.support.platforms import PlatformHandle, make_platform

USERS = 4  # two funded accounts each: 8 accounts, many transfers on each


def gateway_env(database_url: str, workdir: Path, **settings: str) -> dict[str, str]:
    """A gateway on `database_url`, with only what the storm needs running."""
    env = {
        **os.environ,
        "MPS_DATABASE_URL": database_url,
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(workdir / "documents"),
        "MPS_RATE_LIMIT_REQUESTS": "1000000",  # a storm sends thousands of requests per key
        "MPS_WEBHOOK_DELIVERY": "false",
        "MPS_DOCUMENT_EXPIRY": "false",
    }
    env.pop("MPS_REDIS_URL", None)
    env.update(settings)
    return env


async def funded_platform(database_url: str) -> PlatformHandle:
    """A new platform with `USERS` users and two funded EUR accounts each, on a database
    brought to the latest migration (the gateway would do it at start; done here first, so
    that the platform can be made before)."""
    db = Database.from_url(database_url)
    try:
        await upgrade(db.engine)
        return await make_platform(db, natural_users=USERS)
    finally:
        await db.dispose()


@dataclass
class Run:
    """A storm under way and what it started from."""

    storm: Storm
    balances_before: dict[str, int]


@asynccontextmanager
async def storm_on(
    server: GatewayServer, platform: PlatformHandle, *, seed: int = 1
) -> AsyncIterator[Run]:
    """Start a storm against `server` (running); on leaving, stop it and settle every key."""
    before = await balances(server.url, platform)
    storm = Storm(url=lambda: server.url, platform=platform, accounts=sorted(before), seed=seed)
    task = asyncio.create_task(storm.run())
    try:
        yield Run(storm, before)
    finally:
        storm.stop()
        await task
    await storm.settle()


async def started(server: GatewayServer) -> str:
    """Start the server without blocking the event loop (the storm's clients go on)."""
    return await asyncio.to_thread(server.start)
