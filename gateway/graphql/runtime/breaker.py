"""A circuit breaker for what the gateway asks of Redis on a request's path (rate limits, the
persisted query store), where Redis is an aid and never a dependency.

Each call waits at most `timeout_s`; one that fails or times out opens the breaker for
`break_s`, during which no call is made at all and the caller does without (lets the request
through, counts a cache miss). A Redis that hangs (a frozen process, a saturated network)
then costs one short wait every `break_s`, not one per request. The first call after the
break tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
TIMEOUT_S = 0.25  # a call is one round trip; a Redis slower than this is as good as down
BREAK_S = 5.0


class Open(Exception):
    """The call was not made (the breaker is open) or failed (and opened it)."""


class Breaker:
    """Guards the calls of one client; `calls` counts those actually made (tests count them)."""

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        *,
        timeout_s: float = TIMEOUT_S,
        break_s: float = BREAK_S,
    ) -> None:
        self.what = what
        self.logger = logger
        self.timeout_s = timeout_s
        self.break_s = break_s
        self.open_until = 0.0  # monotonic time until which no call is made
        self.calls = 0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    async def call(
        self, work: Callable[[], Awaitable[T]], failures: tuple[type[Exception], ...] = (Exception,)
    ) -> T:
        """`work()`'s result; `Open` when the breaker is open, or when `work` raised one of
        `failures` or took longer than the timeout (which opens it)."""
        if self.is_open:
            raise Open(self.what)
        self.calls += 1
        caught: tuple[type[Exception], ...] = (*failures, TimeoutError)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await work()
        except caught as error:
            self.open_until = time.monotonic() + self.break_s
            self.logger.warning(
                "%s unavailable, left alone for %.0f s: %r", self.what, self.break_s, error
            )
            raise Open(self.what) from error
