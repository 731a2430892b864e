"""Where automatic persisted queries are kept: hash -> document text, bounded.

`MemoryDocuments` is an LRU in the process. `RedisDocuments` shares the documents of every
instance that names the same Redis: each document a key (`<prefix>:<hash>`) with a TTL, and a
sorted set of the hashes by the time they were stored, trimmed to `size_max` (the oldest go).
A document is only ever stored under the sha256 of its own text (gateway.graphql.runtime
.persisted_queries checks it first), so any instance may trust what another stored.

Redis is a cache here, never a dependency: a failure (unreachable, slow, an error) is a miss
when reading and a document not kept when writing, logged, never a 500. Each call waits at
most 0.25 s, and after a failure the store leaves Redis alone for a while (a circuit breaker,
gateway.graphql.runtime.breaker): a Redis that hangs costs one short wait, not one per request.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Protocol

from gateway.domain.lru import Lru
from gateway.graphql.runtime.breaker import TIMEOUT_S, Breaker, Open

logger = logging.getLogger("gateway.persisted_queries")

KEY_PREFIX = "mps-gateway:apq"


class PersistedDocuments(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryDocuments:
    """The documents of this process, the `size_max` most recently used."""

    def __init__(self, size_max: int) -> None:
        self.entries: Lru[str, str] = Lru(size_max)

    async def get(self, sha256: str) -> str | None:
        return self.entries.get(sha256)

    async def put(self, sha256: str, document: str) -> None:
        self.entries.put(sha256, document)

    async def aclose(self) -> None:
        return None


class RedisDocuments:
    """The documents of every instance on one Redis, each kept `ttl_s`, at most `size_max`."""

    def __init__(
        self, redis_url: str, *, size_max: int, ttl_s: int, key_prefix: str = KEY_PREFIX
    ) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.client = redis.Redis.from_url(
            redis_url,
            socket_connect_timeout=TIMEOUT_S,
            socket_timeout=TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),  # one round trip per call: the breaker decides
        )
        self.breaker = Breaker("persisted query store (a miss, not kept)", logger)
        self.size_max = size_max
        self.ttl_s = ttl_s
        self.prefix = key_prefix
        self.index = f"{key_prefix}:index"

    async def get(self, sha256: str) -> str | None:
        try:  # any failure of the cache, or the breaker open, is a miss
            found = await self.breaker.call(lambda: self.client.get(f"{self.prefix}:{sha256}"))
        except Open:
            return None
        return found.decode() if isinstance(found, bytes) else None

    async def put(self, sha256: str, document: str) -> None:
        with contextlib.suppress(Open):  # not kept: the next request misses and sends it again
            count = await self.breaker.call(lambda: self._store(sha256, document))
            if count > self.size_max:
                await self.breaker.call(lambda: self._trim(count - self.size_max))

    async def _store(self, sha256: str, document: str) -> int:
        """Store the document; how many the index holds now."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(f"{self.prefix}:{sha256}", document.encode(), ex=self.ttl_s)
            pipe.zadd(self.index, {sha256: time.time()})
            pipe.expire(self.index, self.ttl_s)
            pipe.zcard(self.index)
            *_, count = await pipe.execute()
        return int(count)

    async def _trim(self, excess: int) -> None:
        oldest: Any = await self.client.zpopmin(self.index, excess)
        if oldest:
            await self.client.delete(*(f"{self.prefix}:{member.decode()}" for member, _ in oldest))

    async def aclose(self) -> None:
        await self.client.aclose()
