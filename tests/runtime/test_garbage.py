"""What a request read is freed when it ends, not left to the collector.

The request's loaders and their batch functions refer to each other; without clearing them at
the end of the request, every row, page and future a read loaded stays in a reference cycle
until the collector finds it, and the collector's passes over those rows dominated the CPU and
the latency tail of large reads."""

from __future__ import annotations

import gc

import httpx

from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform

USERS = """{ platform { users(first: 100) { nodes {
  id holder { id } persons { id } accounts(first: 2) { nodes { id balance { amount } } }
} } } }"""


async def _garbage_of_a_read(client: httpx.AsyncClient, platform: PlatformHandle) -> int:
    """Objects in reference cycles that one read of the platform's users leaves behind."""
    warm = await client.post("/graphql", json={"query": USERS}, headers=platform.headers)
    assert warm.status_code == 200
    assert "errors" not in warm.json()
    gc.collect()
    gc.disable()
    try:
        await client.post("/graphql", json={"query": USERS}, headers=platform.headers)
        return gc.collect()
    finally:
        gc.enable()


async def test_a_reads_garbage_does_not_grow_with_the_rows_it_read(
    db: Database, client: httpx.AsyncClient
) -> None:
    few = await _garbage_of_a_read(client, await make_platform(db, natural_users=2))
    many = await _garbage_of_a_read(client, await make_platform(db, natural_users=42))

    assert many - few < 40 * 3  # 8 objects per user more when the rows were left to it
