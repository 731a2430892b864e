"""The webhook dispatcher's schedule and limits, in one value the queue, the requests and the
loop all read.

After failed attempt n the next one waits `RETRY_SCHEDULE_S[n - 1]`: 5 s, 30 s, 2 min,
10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h, 8 h: 12 attempts over about 31.7 hours, then the
delivery is FAILED. An endpoint whose last `DISABLE_AFTER_FAILURES` (50) attempts all failed,
over at least `DISABLE_AFTER_S` (24 h), is disabled. Every interval, timeout and limit is
positive and no delay is negative (asserted when a policy is made); tests shrink the delays,
and swap the resolver to stand in for DNS.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

RETRY_SCHEDULE_S: tuple[float, ...] = (
    5,
    30,
    2 * 60,
    10 * 60,
    30 * 60,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    8 * 3600,
    8 * 3600,
)
DISABLE_AFTER_FAILURES = 50
DISABLE_AFTER_S = 24 * 3600.0
RESPONSE_BYTES_MAX = 64 * 1024

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as the operating system answers now."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The dispatcher's schedule and limits (tests shrink the delays)."""

    retry_schedule_s: tuple[float, ...] = RETRY_SCHEDULE_S
    interval_s: float = 1.0  # pause between passes
    timeout_s: float = 10.0  # one attempt: resolve, connect, send, read
    lease_s: float = 10.0  # a claim's hold, renewed every third of it while the batch is sent
    claim_batch_max: int = 20  # deliveries claimed, then sent concurrently
    batches_per_pass_max: int = 10
    enqueue_span_max: int = 500  # event sequence numbers one endpoint advances per pass
    endpoints_per_pass_max: int = 200
    disable_after_failures: int = DISABLE_AFTER_FAILURES
    disable_after_s: float = DISABLE_AFTER_S
    response_bytes_max: int = RESPONSE_BYTES_MAX
    allow_private_urls: bool = False
    resolve: Resolver = system_resolver

    def __post_init__(self) -> None:
        limits = (
            self.interval_s,
            self.timeout_s,
            self.claim_batch_max,
            self.batches_per_pass_max,
            self.enqueue_span_max,
            self.endpoints_per_pass_max,
            self.disable_after_failures,
        )
        assert min(limits) > 0, "intervals, timeouts and limits are positive"
        assert min(self.retry_schedule_s, default=-1) >= 0, "a schedule of delays, none negative"
        assert min(self.lease_s, self.disable_after_s) >= 0

    def retry_delay_s(self, attempts: int) -> float | None:
        """The wait after `attempts` failed attempts; None when no attempt is left."""
        if attempts > len(self.retry_schedule_s):
            return None
        return self.retry_schedule_s[attempts - 1]
