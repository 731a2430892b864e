"""Where automatic persisted queries are kept: bounded in the process, shared through Redis by
every instance that names it (each document under the hash of its own text only), and Redis
down is a miss, never a 500."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis

from gateway.graphql.runtime.persisted_store import MemoryDocuments, RedisDocuments
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.processes import free_port
from tests.support.persisted import REDIS_URL, app_client, apq, codes, fresh_query, sha256


def on_redis(settings: Settings) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL})


async def test_two_instances_on_one_redis_run_what_the_other_stored(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    query = fresh_query()
    async with (
        app_client(on_redis(settings), db) as first,
        app_client(on_redis(settings), db) as second,
    ):
        stored = await first.post(
            "/graphql", json={"query": query, "extensions": apq(query)}, headers=platform.headers
        )
        by_hash = await second.post(
            "/graphql", json={"extensions": apq(query)}, headers=platform.headers
        )
    assert "errors" not in stored.json()
    assert by_hash.status_code == 200
    assert by_hash.json()["data"] == stored.json()["data"]


async def test_a_mismatched_hash_is_stored_nowhere(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    claimed, sent = fresh_query(), fresh_query()
    async with (
        app_client(on_redis(settings), db) as first,
        app_client(on_redis(settings), db) as second,
    ):
        lying = await first.post(
            "/graphql", json={"query": sent, "extensions": apq(claimed)}, headers=platform.headers
        )
        later = [
            await http.post("/graphql", json={"extensions": apq(q)}, headers=platform.headers)
            for http in (first, second)
            for q in (claimed, sent)
        ]
    assert codes(lying) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert [codes(response) for response in later] == [["PERSISTED_QUERY_NOT_FOUND"]] * 4
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert await client.exists(f"mps-gateway:apq:{sha256(claimed)}") == 0
        assert await client.exists(f"mps-gateway:apq:{sha256(sent)}") == 0
    finally:
        await client.aclose()


async def test_with_redis_unreachable_a_hash_misses_and_a_document_still_runs(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    nowhere = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "rate_limit_requests": None}
    )
    query = fresh_query()
    async with app_client(nowhere, db) as http:
        sent = await http.post(
            "/graphql", json={"query": query, "extensions": apq(query)}, headers=platform.headers
        )
        by_hash = await http.post(
            "/graphql", json={"extensions": apq(query)}, headers=platform.headers
        )
    assert sent.status_code == 200
    assert "errors" not in sent.json()
    assert (by_hash.status_code, codes(by_hash)) == (200, ["PERSISTED_QUERY_NOT_FOUND"])


async def test_the_app_keeps_at_most_persisted_queries_max(
    db: Database, settings: Settings, platform: PlatformHandle
) -> None:
    first, second = fresh_query(), fresh_query()
    async with app_client(settings.model_copy(update={"persisted_queries_max": 1}), db) as http:
        for query in (first, second):
            body = {"query": query, "extensions": apq(query)}
            await http.post("/graphql", json=body, headers=platform.headers)
        forgotten, kept = [
            await http.post("/graphql", json={"extensions": apq(q)}, headers=platform.headers)
            for q in (first, second)
        ]
    assert codes(forgotten) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "errors" not in kept.json()


async def test_the_memory_store_forgets_the_least_recently_used() -> None:
    store = MemoryDocuments(size_max=2)
    await store.put("a", "A")
    await store.put("b", "B")
    assert await store.get("a") == "A"  # a is now the most recently used
    await store.put("c", "C")
    assert [await store.get(key) for key in "abc"] == ["A", None, "C"]


@pytest.mark.parametrize("size_max", [1, 3])
async def test_the_redis_store_keeps_the_newest_size_max_documents(size_max: int) -> None:
    prefix = f"mps-gateway-test:{uuid.uuid4().hex}"
    store = RedisDocuments(REDIS_URL, size_max=size_max, ttl_s=60, key_prefix=prefix)
    try:
        for n in range(5):
            await store.put(f"hash{n}", f"document {n}")
        found = [await store.get(f"hash{n}") for n in range(5)]
        ttl = await store.client.ttl(f"{prefix}:hash4")
        keys = await store.client.keys(f"{prefix}:hash*")
    finally:
        await store.client.delete(f"{prefix}:index", *(f"{prefix}:hash{n}" for n in range(5)))
        await store.aclose()
    assert found == [None] * (5 - size_max) + [f"document {n}" for n in range(5 - size_max, 5)]
    assert 0 < ttl <= 60
    assert len(keys) == size_max
