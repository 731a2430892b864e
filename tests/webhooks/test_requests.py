"""What one attempt sends, with no database: the signed Standard Webhooks request, the retry
schedule, and where a URL is allowed to lead."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.domain.enums import EventType
from gateway.domain.pagination import decode_event_cursor
from gateway.domain.webhooks import new_secret
from gateway.services.delivery_policy import RETRY_SCHEDULE_S, DeliveryPolicy
from gateway.services.webhook_requests import (
    Undeliverable,
    destination,
    is_public_address,
    signed_request,
)
from gateway.store.column_types import utcnow
from gateway.store.journal_tables import Event


def _event() -> Event:
    return Event(
        id=uuid.uuid4(),
        platform_id=uuid.uuid4(),
        sequence=42,
        type=EventType.PAY_IN_SUCCESSFUL,
        object_type="PayIn",
        object_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        previous_status="PENDING",
        status="SUCCEEDED",
        occurred_at=dt.datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=dt.UTC),
    )


def test_a_request_is_signed_so_that_a_standard_webhooks_receiver_accepts_it() -> None:
    event, secret = _event(), new_secret()
    body, headers = signed_request(event, secret=secret, now=utcnow())
    payload = Webhook(secret).verify(body, headers)
    assert headers["webhook-id"] == str(event.id)
    assert headers["webhook-signature"].startswith("v1,")
    assert payload == {
        "type": "pay_in_successful",
        "timestamp": "2026-11-28T12:00:00.123Z",
        "data": {
            "id": str(event.id),
            "cursor": payload["data"]["cursor"],
            "type": "PAY_IN_SUCCESSFUL",
            "objectId": str(event.object_id),
            "objectType": "PayIn",
            "previousStatus": "PENDING",
            "status": "SUCCEEDED",
            "changedFields": None,
            "reasons": None,
            "message": None,
            "occurredAt": "2026-11-28T12:00:00.123Z",
        },
    }
    cursor = payload["data"]["cursor"]
    assert decode_event_cursor(cursor, platform_id=event.platform_id, argument="after") == 42


def test_a_retry_carries_the_same_id_and_body_under_a_fresh_signature() -> None:
    event, secret = _event(), new_secret()
    first = signed_request(event, secret=secret, now=utcnow() - dt.timedelta(minutes=1))
    again = signed_request(event, secret=secret, now=utcnow())
    assert first[0] == again[0]
    assert first[1]["webhook-id"] == again[1]["webhook-id"]
    assert first[1]["webhook-signature"] != again[1]["webhook-signature"]
    assert json.loads(again[0])["data"]["id"] == str(event.id)


def test_another_secret_does_not_verify() -> None:
    body, headers = signed_request(_event(), secret=new_secret(), now=utcnow())
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(new_secret()).verify(body, headers)


def test_the_schedule_retries_for_more_than_a_day_in_twelve_attempts() -> None:
    policy = DeliveryPolicy()
    assert sum(RETRY_SCHEDULE_S) >= 24 * 3600
    assert [policy.retry_delay_s(n) for n in (1, 2, 3, 11)] == [5, 30, 120, 8 * 3600]
    assert policy.retry_delay_s(12) is None  # the 12th failure is the last
    assert list(RETRY_SCHEDULE_S) == sorted(RETRY_SCHEDULE_S)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False), ("10.0.0.7", False), ("172.16.0.1", False),
        ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to check, not one to bind
        ("::1", False), ("fe80::1%eth0", False), ("fc00::1", False),
        ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("224.0.0.1", False),
    ],
)  # fmt: skip
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def _resolving(*addresses: str) -> DeliveryPolicy:
    async def resolve(_host: str, _port: int) -> list[str]:
        return list(addresses)

    return DeliveryPolicy(resolve=resolve)


async def test_a_request_goes_to_the_checked_address_under_the_name_it_was_given() -> None:
    target = await destination("https://hooks.example.com/mps?x=1", _resolving("93.184.215.14"))
    assert target.url == "https://93.184.215.14/mps?x=1"
    assert target.headers == {"host": "hooks.example.com"}
    assert target.extensions == {"sni_hostname": "hooks.example.com"}
    v6 = await destination("https://hooks.example.com:8443/", _resolving("2606:2800::1"))
    assert v6.url == "https://[2606:2800::1]:8443/"
    assert v6.headers == {"host": "hooks.example.com:8443"}


@pytest.mark.parametrize(
    ("url", "addresses", "reason"),
    [
        ("https://hooks.example.com/", ("10.0.0.1",), "resolves to a non-public address"),
        ("https://hooks.example.com/", ("93.184.215.14", "::1"), "non-public address."),
        ("https://hooks.example.com/", (), "non-public address."),
        ("http://hooks.example.com/", ("93.184.215.14",), "Must be an https URL."),
        ("https://127.0.0.1/", ("127.0.0.1",), "The host must be public"),
    ],
)
async def test_a_target_that_is_or_resolves_private_is_refused(
    url: str, addresses: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(Undeliverable, match=re.escape(reason)):
        await destination(url, _resolving(*addresses))


async def test_an_unresolvable_name_is_an_error_of_the_attempt() -> None:
    async def resolve(host: str, _port: int) -> list[str]:
        raise OSError(f"no such host {host}")

    with pytest.raises(Undeliverable, match=re.escape("Could not resolve hooks.example.com")):
        await destination("https://hooks.example.com/", DeliveryPolicy(resolve=resolve))


async def test_private_targets_are_used_as_given_when_allowed() -> None:
    target = await destination("http://127.0.0.1:8080/x", DeliveryPolicy(allow_private_urls=True))
    assert (target.url, target.headers, target.extensions) == ("http://127.0.0.1:8080/x", {}, {})
