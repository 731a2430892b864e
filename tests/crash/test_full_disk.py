"""The disk of a SQLite database filling up under a storm of transfers: each write that
finds no room is answered HTTP 503 `SERVICE_UNAVAILABLE` (SQLite's "database or disk is
full"), nothing is half-written, and once room is made the retries complete, each transfer
applied once.

A full disk for real: the database lives on a small tmpfs mounted for the test, which a filler
file fills to the last byte mid-storm, then leaves. (`PRAGMA max_page_count` would not do: it
holds for the one connection that sets it, and the gateway opens its own connections.)
Mounting needs the privilege to mount (root with CAP_SYS_ADMIN, as in CI); without it that
test is skipped locally and fails under MPS_TEST_REQUIRE_SERVICES=1, like a missing service.
The second test needs no privilege: the operating system refuses the gateway's writes (a file
size limit of 0 bytes, "disk I/O error"), the same promise under a neighbouring fault.
"""

from __future__ import annotations

import asyncio
import errno
import resource
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import _unavailable
from tests.crash.checks import assert_storm_left_everything_whole
from tests.crash.harness import funded_platform, gateway_env, started, storm_on
from tests.crash.storm import SUCCESS, TRANSPORT, UNAVAILABLE
from tests.processes import GatewayServer

DISK_SIZE = "64m"
SUCCESSES_AROUND = 60
UNAVAILABLE_SEEN = 20
CHUNKS_BYTES = (1 << 20, 4096, 1)  # fill with large writes, then the last pages
FILL_WRITES_MAX = 1 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of `DISK_SIZE`, mounted for the test and unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if mounted.returncode != 0:
        _unavailable(f"cannot mount a tmpfs for the full disk: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        unmounted = subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=30)
        if unmounted.returncode != 0:  # still busy: detach it now, freed when released
            subprocess.run(["umount", "-l", str(mount_point)], check=True, timeout=30)


def fill(filler: Path) -> int:
    """Write to `filler` until the file system has no byte left; the bytes written."""
    written = 0
    with filler.open("wb", buffering=0) as file:
        for size in CHUNKS_BYTES:
            chunk = b"\0" * size
            for _ in range(FILL_WRITES_MAX):
                try:
                    written += file.write(chunk) or 0
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    return written


async def storm_through(
    database_url: str, tmp_path: Path, take: Callable[[GatewayServer], object],
    give_back: Callable[[GatewayServer], object],
) -> None:  # fmt: skip
    """A storm during which `take` leaves the gateway no room to write until `give_back`."""
    platform = await funded_platform(database_url)
    server = GatewayServer(gateway_env(database_url, tmp_path), tmp_path)
    try:
        await started(server)
        async with storm_on(server, platform) as run:
            await run.storm.wait_for(SUCCESS, SUCCESSES_AROUND)
            await asyncio.to_thread(take, server)
            await run.storm.wait_for(UNAVAILABLE, UNAVAILABLE_SEEN)
            give_back(server)
            await run.storm.wait_for(SUCCESS, SUCCESSES_AROUND)
        await assert_storm_left_everything_whole(
            storm=run.storm,
            database_url=database_url,
            base_url=server.url,
            balances_before=run.balances_before,
        )
    finally:
        server.stop()
    assert run.storm.counts[TRANSPORT] == 0  # the gateway answered every request


async def test_a_full_disk_mid_storm_is_a_503_and_loses_nothing(
    small_disk: Path, tmp_path: Path
) -> None:
    filler = small_disk / "filler"
    await storm_through(
        f"sqlite+aiosqlite:///{small_disk / 'gateway.db'}",
        tmp_path,
        take=lambda _server: fill(filler),
        give_back=lambda _server: filler.unlink(),
    )


async def test_writes_the_system_refuses_mid_storm_are_a_503_and_lose_nothing(
    tmp_path: Path,
) -> None:
    """The same without the privilege to mount: the gateway process may write no byte to any
    file (its RLIMIT_FSIZE lowered to 0 from outside; Python ignores SIGXFSZ, so a write fails
    with EFBIG, which SQLite reports as "disk I/O error"), then may again."""
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    await storm_through(
        f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        tmp_path,
        take=lambda server: resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (0, limits[1])),
        give_back=lambda server: resource.prlimit(server.pid, resource.RLIMIT_FSIZE, limits),
    )
