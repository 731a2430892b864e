"""One attempt to deliver an event: a signed POST to the endpoint, and its outcome.

A request is a POST of the event as JSON in the Standard Webhooks shape, signed with the
endpoint's secret, and also with the one it replaced while a rotation's overlap lasts
(`webhook-id` is the event id, the same on every attempt, so receivers deduplicate;
`webhook-timestamp` is the attempt's time). No redirect is followed, only a 2xx
answer is a success, and at most `response_bytes_max` of the answer are read (then dropped).
Unless private targets are allowed, the URL is checked again and its host resolved at send
time: every address must be public, and the request goes to that checked address (the name
kept in the Host header and for TLS), so a name rebound since the check cannot redirect it.

An attempt never raises for what happens on the wire: a refusal, a timeout or any failure of
the request becomes the error of its `AttemptResult` (cut to the length the log keeps), an
answer its status code. Nothing here touches the database; the queue records the result.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from gateway import __version__
from gateway.domain.pagination import encode_event_cursor
from gateway.domain.webhooks import url_problem
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import ERROR_LENGTH_MAX
from gateway.store.journal_tables import Event

USER_AGENT = f"mps-gateway-webhooks/{__version__}"


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
            "changedFields": event.changed_fields,
            "reasons": event.reasons,
            "message": event.message,
            "occurredAt": rfc3339(event.occurred_at),
        },
    }


def signed_request(
    event: Event, *, secret: str, now: dt.datetime, previous_secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt, signed per Standard Webhooks: with `secret`, and
    with `previous_secret` too while a rotation's overlap lasts (the specification's
    space-separated list of signatures: a receiver accepts a request when one of them
    verifies with its secret)."""
    body = json.dumps(event_payload(event), separators=(",", ":"))
    message_id = str(event.id)
    signers = (secret,) if previous_secret is None else (secret, previous_secret)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(Webhook(key).sign(message_id, now, body) for key in signers),
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


class Outbound(Protocol):
    """What an attempt sends: the endpoint's URL and secret, and the event. The queue's claimed
    delivery is one; a request needs nothing of its claim."""

    @property
    def url(self) -> str: ...

    @property
    def secret(self) -> str: ...

    @property
    def previous_secret(self) -> str | None:
        """The secret a rotation replaced, while its overlap lasts."""

    @property
    def event(self) -> Event: ...


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
    client: httpx.AsyncClient,
    item: Outbound,
    policy: DeliveryPolicy,
    now: dt.datetime,
    extra_headers: Mapping[str, str],
) -> int:
    target = await destination(item.url, policy)
    body, headers = signed_request(
        item.event, secret=item.secret, now=now, previous_secret=item.previous_secret
    )
    async with client.stream(
        "POST",
        target.url,
        content=body,
        headers={**extra_headers, **headers, **target.headers},
        extensions=target.extensions,
    ) as response:
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received >= policy.response_bytes_max:
                break
        return response.status_code


async def attempt(
    client: httpx.AsyncClient,
    item: Outbound,
    policy: DeliveryPolicy,
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> AttemptResult:
    """Send one claimed delivery once; every failure becomes the result's error.
    `extra_headers` (a trace's `traceparent`) go along, beneath the signed ones."""
    attempted_at, started = utcnow(), time.monotonic()
    status_code: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(policy.timeout_s):
            status_code = await _post(client, item, policy, attempted_at, extra_headers or {})
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
