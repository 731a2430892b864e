"""Outbound webhook delivery: the dispatcher that turns the event log into signed POSTs.

A pass of the dispatcher does two things, each in short transactions of its own:

- Enqueue. Each enabled endpoint remembers the platform event sequence it has enqueued
  through (set at creation to the platform's last one, so it receives later events only). With
  the endpoint row locked, a pass reads the next events of its platform (at most
  `enqueue_span_max` sequence numbers), inserts a PENDING delivery for each one of the
  endpoint's types, and moves the mark. A delivery is unique per (endpoint, event).
- Send. Due deliveries (PENDING, `next_attempt_at` passed, endpoint enabled) are claimed in
  one transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has a single writer), a
  fresh `claim_id`, and `next_attempt_at` moved a lease ahead. So no other gateway instance
  sends a claimed delivery at the same moment, and one that dies mid-send leaves it due again
  once the lease ends. The result is recorded only while the claim is still ours.

A request is a POST of the event as JSON in the Standard Webhooks shape, signed with the
endpoint's secret (`webhook-id` is the event id, the same on every attempt, so receivers
deduplicate; `webhook-timestamp` is the attempt's time). No redirect is followed, only a 2xx
answer is a success, and at most `response_bytes_max` of the answer are read (then dropped).
Unless private targets are allowed, the URL is checked again and its host resolved at send
time: every address must be public, and the request goes to that checked address (the name
kept in the Host header and for TLS), so a name rebound since the check cannot redirect it.

After failed attempt n the next one waits `RETRY_SCHEDULE_S[n - 1]`: 5 s, 30 s, 2 min,
10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h, 8 h: 12 attempts over about 31.7 hours, then the
delivery is FAILED. An endpoint whose last `DISABLE_AFTER_FAILURES` (50) attempts all failed,
over at least `DISABLE_AFTER_S` (24 h), is disabled with the reason recorded, and its pending
deliveries fail; a success resets the count. A deleted endpoint's pending deliveries fail too.

Delivery is at least once and unordered: a crash between an answer and its record sends the
event again, and a retried event may arrive after later ones. Every state lives in the
database, so a restarted dispatcher goes on where the last one stopped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import ipaddress
import json
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from gateway import __version__
from gateway.domain.enums import EventType
from gateway.domain.ids import new_id
from gateway.domain.pagination import encode_event_cursor
from gateway.domain.webhooks import url_problem
from gateway.store import deliveries, readers, webhooks
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import (
    ERROR_LENGTH_MAX,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
)
from gateway.store.engine import Database, Session
from gateway.store.journal_tables import Event, WebhookEndpoint

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
USER_AGENT = f"mps-gateway-webhooks/{__version__}"
PENDING, SUCCEEDED, FAILED = (
    WebhookDeliveryStatus.PENDING,
    WebhookDeliveryStatus.SUCCEEDED,
    WebhookDeliveryStatus.FAILED,
)

logger = logging.getLogger("gateway.webhooks")
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
    lease_s: float = 120.0  # a claim's hold: must outlast a batch of attempts and its records
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


# ---- the request ---------------------------------------------------------------------------


def rfc3339(moment: dt.datetime) -> str:
    """UTC with millisecond precision and a `Z`, as the graph writes DateTime."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def event_payload(event: Event) -> dict[str, Any]:
    """The Standard Webhooks payload of an event: its type in MPS's lower case, its data."""
    return {
        "type": event.type.value.lower(),
        "timestamp": rfc3339(event.occurred_at),
        "data": {
            "id": str(event.id),
            "cursor": encode_event_cursor(event.platform_id, event.sequence),
            "type": event.type.value,
            "objectId": str(event.object_id),
            "objectType": event.object_type,
            "previousStatus": event.previous_status,
            "status": event.status,
            "occurredAt": rfc3339(event.occurred_at),
        },
    }


def signed_request(event: Event, *, secret: str, now: dt.datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt, signed per Standard Webhooks."""
    body = json.dumps(event_payload(event), separators=(",", ":"))
    message_id = str(event.id)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }
    return body.encode(), headers


class Undeliverable(Exception):
    """The target may not or cannot be reached; the message is the attempt's error."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class Destination:
    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


async def destination(url: str, policy: DeliveryPolicy) -> Destination:
    """Where to send for `url`: as is when private targets are allowed, else pinned to an
    address of its host checked public now."""
    problem = url_problem(url, allow_private=policy.allow_private_urls)
    if problem:
        raise Undeliverable(f"Refused: {problem}")
    if policy.allow_private_urls:
        return Destination(url, {}, {})
    parts = urlsplit(url)
    host = parts.hostname
    assert host, "url_problem refuses a URL without a host"
    try:
        addresses = await policy.resolve(host, parts.port or 443)
    except OSError as error:
        raise Undeliverable(f"Could not resolve {host}: {error}") from None
    if not addresses or not all(is_public_address(address) for address in addresses):
        # Which address is not said: the log is shown to the platform, the network is ours.
        raise Undeliverable(f"Refused: {host} resolves to a non-public address.")
    address = addresses[0].split("%", 1)[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = urlunsplit(parts._replace(netloc=netloc))
    return Destination(pinned, {"host": parts.netloc}, {"sni_hostname": host})


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this pass holds: what it takes to send it, and the claim to record it."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    claim_id: uuid.UUID
    url: str
    secret: str
    event: Event


@dataclass(frozen=True, slots=True)
class AttemptResult:
    attempted_at: dt.datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _post(
    client: httpx.AsyncClient, item: Claimed, policy: DeliveryPolicy, now: dt.datetime
) -> int:
    target = await destination(item.url, policy)
    body, headers = signed_request(item.event, secret=item.secret, now=now)
    async with client.stream(
        "POST",
        target.url,
        content=body,
        headers=headers | target.headers,
        extensions=target.extensions,
    ) as response:
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received >= policy.response_bytes_max:
                break
        return response.status_code


async def attempt(
    client: httpx.AsyncClient, item: Claimed, policy: DeliveryPolicy
) -> AttemptResult:
    """Send one claimed delivery once; every failure becomes the result's error."""
    attempted_at, started = utcnow(), time.monotonic()
    status_code: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(policy.timeout_s):
            status_code = await _post(client, item, policy, attempted_at)
    except Undeliverable as refusal:
        error = str(refusal)
    except TimeoutError:
        error = f"No answer within {policy.timeout_s:g} s."
    except Exception as failure:  # whatever it was, it is this attempt's error
        error = f"{type(failure).__name__}: {failure}".rstrip(": ")
    duration_ms = round((time.monotonic() - started) * 1000)
    return AttemptResult(
        attempted_at, duration_ms, status_code, None if error is None else error[:ERROR_LENGTH_MAX]
    )


# ---- the database side ---------------------------------------------------------------------


async def enqueue(db: Database, *, policy: DeliveryPolicy) -> int:
    """Enqueue what endpoints behind their platform's log are owed; the number enqueued."""
    async with db.session() as session:
        endpoint_ids = await deliveries.endpoints_behind(
            session, limit=policy.endpoints_per_pass_max
        )
    enqueued = 0
    for endpoint_id in endpoint_ids:
        enqueued += await db.write(
            functools.partial(_enqueue, endpoint_id=endpoint_id, policy=policy)
        )
    return enqueued


async def _enqueue(session: Session, *, endpoint_id: uuid.UUID, policy: DeliveryPolicy) -> int:
    endpoint = await deliveries.lock_endpoint_to_enqueue(session, endpoint_id=endpoint_id)
    if endpoint is None:  # gone, or another instance is enqueueing for it
        return 0
    last = await readers.last_event_sequence(session, platform_id=endpoint.platform_id)
    through = endpoint.enqueued_through
    upper = min(last, through + policy.enqueue_span_max)
    if upper <= through:
        return 0
    types: list[EventType] | None = None
    if endpoint.event_types:
        known = EventType.__members__
        types = [known[name] for name in endpoint.event_types if name in known]
    event_ids = await deliveries.events_to_enqueue(
        session, platform_id=endpoint.platform_id, after=through, through=upper, types=types
    )
    await deliveries.add_pending(
        session,
        platform_id=endpoint.platform_id,
        endpoint_id=endpoint.id,
        event_ids=event_ids,
        now=utcnow(),
    )
    endpoint.enqueued_through = upper
    await session.flush()
    return len(event_ids)


async def claim_due(db: Database, *, policy: DeliveryPolicy) -> list[Claimed]:
    """Claim up to `claim_batch_max` due deliveries for `lease_s`, oldest due first."""
    now = utcnow()
    async with db.session() as session:  # a read first: an idle pass takes no write lock
        if not await deliveries.any_due(session, now=now):
            return []
    return await db.write(functools.partial(_claim, now=now, policy=policy))


async def _claim(session: Session, *, now: dt.datetime, policy: DeliveryPolicy) -> list[Claimed]:
    ids = await deliveries.lock_due(session, now=now, limit=policy.claim_batch_max)
    if not ids:
        return []
    claim_id = new_id()
    until = now + dt.timedelta(seconds=policy.lease_s)
    await deliveries.lease(session, delivery_ids=ids, claim_id=claim_id, until=until)
    rows = await deliveries.claimed(session, delivery_ids=ids)
    return [Claimed(row[0], row[1], claim_id, row[2], row[3], row[4]) for row in rows]


async def record(
    db: Database, item: Claimed, result: AttemptResult, *, policy: DeliveryPolicy
) -> bool:
    """Log an attempt and move its delivery on; False when the claim was lost meanwhile."""
    return await db.write(functools.partial(_record, item=item, result=result, policy=policy))


async def _record(
    session: Session, *, item: Claimed, result: AttemptResult, policy: DeliveryPolicy
) -> bool:
    # The endpoint first, then the delivery: the order every writer of both takes.
    endpoint = await webhooks.lock_endpoint(session, endpoint_id=item.endpoint_id)
    delivery = await deliveries.lock_claimed(
        session, delivery_id=item.delivery_id, claim_id=item.claim_id
    )
    if endpoint is None or delivery is None:
        return False
    delivery.attempt_count += 1
    session.add(
        WebhookAttempt(
            id=new_id(),
            platform_id=delivery.platform_id,
            delivery_id=delivery.id,
            attempt=delivery.attempt_count,
            attempted_at=result.attempted_at,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
    )
    delivery.claim_id, delivery.last_status_code = None, result.status_code
    delivery.last_error = result.error
    if result.succeeded:
        delivery.status, delivery.next_attempt_at = SUCCEEDED, None
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
    else:
        _schedule_retry(delivery, policy)
        await _count_failure(session, endpoint, result, policy)
    await session.flush()
    return True


def _schedule_retry(delivery: WebhookDelivery, policy: DeliveryPolicy) -> None:
    if delivery.status is not PENDING:  # given up meanwhile (endpoint disabled or deleted)
        return
    delay_s = policy.retry_delay_s(delivery.attempt_count)
    if delay_s is None:
        delivery.status, delivery.next_attempt_at = FAILED, None
    else:
        delivery.next_attempt_at = utcnow() + dt.timedelta(seconds=delay_s)


async def _count_failure(
    session: Session, endpoint: WebhookEndpoint, result: AttemptResult, policy: DeliveryPolicy
) -> None:
    endpoint.consecutive_failures += 1
    since = endpoint.failing_since = endpoint.failing_since or result.attempted_at
    now = utcnow()
    if (
        not endpoint.enabled
        or endpoint.consecutive_failures < policy.disable_after_failures
        or now - since < dt.timedelta(seconds=policy.disable_after_s)
    ):
        return
    last = f"HTTP {result.status_code}" if result.error is None else result.error
    endpoint.enabled, endpoint.disabled_at = False, now
    endpoint.disabled_reason = (
        f"Disabled after {endpoint.consecutive_failures} consecutive failed attempts since"
        f" {rfc3339(since)}; the last: {last}"
    )[:ERROR_LENGTH_MAX]
    logger.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
    await deliveries.fail_pending(
        session,
        platform_id=endpoint.platform_id,
        endpoint_id=endpoint.id,
        reason="The endpoint was disabled after repeated failures.",
    )


# ---- the loop ------------------------------------------------------------------------------


@dataclass
class PassReport:
    enqueued: int = 0
    attempted: int = 0
    succeeded: int = 0


async def _deliver(
    db: Database, client: httpx.AsyncClient, item: Claimed, policy: DeliveryPolicy
) -> bool:
    result = await attempt(client, item, policy)
    if not await record(db, item, result, policy=policy):
        logger.warning(
            "webhook delivery %s: claim lost before its result was recorded", item.delivery_id
        )
    elif not result.succeeded:
        logger.info(
            "webhook delivery %s failed: %s",
            item.delivery_id,
            result.error or f"HTTP {result.status_code}",
        )
    return result.succeeded


async def dispatch_once(
    db: Database, *, client: httpx.AsyncClient, policy: DeliveryPolicy
) -> PassReport:
    """One pass: enqueue what endpoints are owed, then send what is due, batch by batch."""
    report = PassReport(enqueued=await enqueue(db, policy=policy))
    for _ in range(policy.batches_per_pass_max):
        claimed = await claim_due(db, policy=policy)
        outcomes = await asyncio.gather(
            *(_deliver(db, client, item, policy) for item in claimed), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                logger.error("webhook delivery failed to record", exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                report.attempted += 1
                report.succeeded += outcome
        if len(claimed) < policy.claim_batch_max:
            break
    return report


def new_client(policy: DeliveryPolicy) -> httpx.AsyncClient:
    """An HTTP client that follows no redirect, ignores the environment's proxy settings, and
    keeps no connection open: connections are keyed by address, and a TLS session verified for
    one name must not carry a request for another name served at the same address."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(policy.timeout_s),
        limits=httpx.Limits(max_connections=policy.claim_batch_max, max_keepalive_connections=0),
    )


async def run_dispatcher(db: Database, *, policy: DeliveryPolicy) -> None:
    """Deliver until cancelled; a failed pass is logged and the next one runs.

    The dispatcher opens a connection pool of its own on `db`'s database, so deliveries never
    wait for connections behind requests (nor requests behind deliveries). Its first pass comes
    one interval after the start, so a process that lives less than that opens nothing.
    """
    await asyncio.sleep(policy.interval_s)
    own = db.with_own_pools()
    try:
        async with new_client(policy) as client:
            while True:
                try:
                    await dispatch_once(own, client=client, policy=policy)
                except Exception:
                    logger.exception("webhook dispatch pass failed")
                await asyncio.sleep(policy.interval_s)
    finally:
        if own is not db:
            await own.dispose()
