"""Rate limits: per credential for work, per client address for failed authentications.

Three budgets, each a moving window of `window_s` seconds (limits' `MovingWindowRateLimiter`):

- requests: every HTTP request of one credential (`Principal.credential`: an API key or a user
  token, never the platform, so one leaked or runaway key cannot starve the platform's others);
- subscriptions: every new subscription of one credential: an SSE request, or a `subscribe`
  message on a WebSocket (which counts there instead of as a request);
- failed authentications: per client address, counted when a presented credential fails to
  verify (a request without one is no guess: 401, not counted). The credential is verified
  first, so a valid one is never refused for its address's failures (a page that called
  without a key, a neighbour behind the same NAT), while a guessing address is refused (429)
  once over budget. A guess costs no database read unless it is shaped like an API key or a
  user token (gateway.domain), and then one indexed read: the price of never refusing the
  real key.

A moving window never lets twice the budget through around a window boundary, as a fixed
window does, and a refusal knows when its oldest hit leaves the window: that is the
`retry_after_s` the client is told (HTTP `Retry-After`), rounded up, at least 1.

Storage: with `redis_url`, limits' `RedisStorage` on the redis-py asyncio client (already a
dependency; its Lua scripts make each hit atomic), so every instance draws on one budget;
without it, `MemoryStorage`, per process. A budget of 0 or None is off. When the storage fails,
the request is let through and the failure logged: the limiter protects capacity and must not
become the outage. A Redis that hangs (a frozen process, a saturated network) costs at most
one short wait: after any failure the limiter lets requests through without asking Redis for
a while (gateway.graphql.runtime.breaker), then tries again.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLFormattedError
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from gateway.graphql.runtime import metrics
from gateway.graphql.runtime.breaker import TIMEOUT_S, Breaker, Open

logger = logging.getLogger("gateway.rate_limits")

KEY_PREFIX = "mps-gateway:rate"


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """Budgets per window; None or 0 switches one off."""

    window_s: int = 60
    requests: int | None = 600
    subscriptions: int | None = 60
    failed_authentications: int | None = 30

    @classmethod
    def off(cls) -> RateLimitPolicy:
        return cls(requests=None, subscriptions=None, failed_authentications=None)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Over budget: retry after this many seconds, when the oldest hit leaves the window."""

    retry_after_s: int


def _item(amount: int | None, window_s: int, namespace: str) -> RateLimitItem | None:
    return RateLimitItemPerSecond(amount, window_s, namespace=namespace) if amount else None


def _storage(redis_url: str | None, key_prefix: str) -> Storage:
    if redis_url is None:
        return MemoryStorage()
    options: dict[str, Any] = {
        "socket_connect_timeout": TIMEOUT_S,
        "socket_timeout": TIMEOUT_S,
    }
    return RedisStorage(
        f"async+{redis_url}",
        wrap_exceptions=True,
        implementation="redispy",
        key_prefix=key_prefix,
        **options,
    )


class RateLimits:
    """The gateway's budgets, over one storage shared by every instance that names it."""

    def __init__(
        self,
        policy: RateLimitPolicy | None = None,
        *,
        redis_url: str | None = None,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        policy = policy or RateLimitPolicy()
        self.storage = _storage(redis_url, key_prefix)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.requests = _item(policy.requests, policy.window_s, "requests")
        self.subscriptions = _item(policy.subscriptions, policy.window_s, "subscriptions")
        self.failed_authentications = _item(
            policy.failed_authentications, policy.window_s, "failed-authentications"
        )
        # Requests are let through, without asking, while the storage is out of order.
        self.breaker = Breaker("rate limit storage (requests let through)", logger)

    @property
    def storage_calls(self) -> int:
        """Hits asked of the storage (tests count them)."""
        return self.breaker.calls

    async def admit_request(self, credential: str, *, subscription: bool = False) -> Refusal | None:
        """Count one HTTP request of the credential (and a new subscription, for SSE)."""
        refusal = await self._hit(self.requests, credential)
        if refusal is None and subscription:
            refusal = await self._hit(self.subscriptions, credential)
        return refusal

    async def admit_subscription(self, credential: str) -> Refusal | None:
        """Count one new subscription of the credential (a WebSocket `subscribe`)."""
        return await self._hit(self.subscriptions, credential)

    async def authentication_failed(self, client: str) -> Refusal | None:
        """Count one failed authentication of the client address; the refusal once over budget."""
        return await self._hit(self.failed_authentications, client)

    async def aclose(self) -> None:
        """Close the Redis connections (limits has no close of its own)."""
        if isinstance(self.storage, RedisStorage):
            bridge: Any = self.storage.bridge  # RedispyBridge: `storage` is its redis client
            await bridge.storage.aclose()

    async def _hit(self, item: RateLimitItem | None, identity: str) -> Refusal | None:
        if item is None:
            return None

        async def ask() -> Refusal | None:
            if await self.limiter.hit(item, identity):
                return None
            return await self._refusal(item, identity)

        try:
            return await self.breaker.call(ask, (StorageError,))
        except Open:  # the storage failed, now or a moment ago: let through
            return None

    async def _refusal(self, item: RateLimitItem, identity: str) -> Refusal:
        metrics.rate_limited(item.namespace)
        stats = await self.limiter.get_window_stats(item, identity)
        return Refusal(retry_after_s=max(1, math.ceil(stats.reset_time - time.time())))


def rate_limited_error(refusal: Refusal) -> GraphQLFormattedError:
    """The GraphQL error of a refusal, for an HTTP body or a WebSocket `error` message."""
    seconds = refusal.retry_after_s
    return {
        "message": f"Too many requests: retry in {seconds} s.",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": seconds},
    }
