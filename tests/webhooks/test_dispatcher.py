"""The dispatcher against a live receiver, on each database: enqueue, sign, retry, restart,
disable, refuse, and stop for deleted endpoints. Waits are counted in passes, never in time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator

from gateway.domain.enums import EventType
from gateway.services import webhooks
from gateway.services.deliveries import claim_due, enqueue, record
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.webhook_dispatcher import run_dispatcher
from gateway.services.webhook_requests import AttemptResult, attempt, new_client, rfc3339
from gateway.store.column_types import utcnow
from gateway.store.delivery_tables import WebhookDeliveryStatus
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.webhooks.conftest import (
    FAST,
    Endpoints,
    add_users,
    attempts_of,
    deliveries_of,
    endpoint_row,
    events_of,
    eventually,
    last_sequence,
    passes,
    policy,
    run_passes,
)
from tests.webhooks.receiver import Receiver

SUCCEEDED, FAILED = WebhookDeliveryStatus.SUCCEEDED, WebhookDeliveryStatus.FAILED


async def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def dispatching(url: str, dispatch_policy: DeliveryPolicy) -> AsyncIterator[None]:
    """A dispatcher running on a database handle of its own, as another instance's would;
    stopped (cancelled, its handle closed) however the block ends, so that none outlives its
    test and takes the deliveries of the next ones."""
    own = Database.from_url(url)
    running = asyncio.create_task(run_dispatcher(own, policy=dispatch_policy))
    try:
        yield
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await own.dispose()


async def _all_succeeded(db: Database, endpoint_id: uuid.UUID) -> bool:
    return all(row.status is SUCCEEDED for row in await deliveries_of(db, endpoint_id))


async def test_every_event_of_its_types_reaches_the_endpoint_signed_once_after_two_failures(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db, natural_users=1)  # events before the endpoint
    before = await last_sequence(db, platform.id)
    types = [EventType.USER_CREATED, EventType.ACCOUNT_CREATED]
    endpoint = await endpoints.create(platform.id, receiver, types=types)
    receiver.fail_first = 2
    await add_users(db, platform.id, 3)
    expected = await events_of(db, platform.id, after=before, types=types)
    assert len(expected) == 6

    await run_passes(db, lambda: len(receiver.accepted) == len(expected))

    assert set(receiver.accepted) == {str(event.id) for event in expected}
    assert receiver.unverified == 0
    assert receiver.statuses() == Counter(
        {
            (str(event.id), status): count
            for event in expected
            for status, count in ((500, 2), (200, 1))
        }
    )
    deliveries = await deliveries_of(db, endpoint.id)
    assert [delivery.event_id for delivery in deliveries] == [event.id for event in expected]
    for delivery in deliveries:
        assert (delivery.status, delivery.attempt_count) == (SUCCEEDED, 3)
        assert (delivery.next_attempt_at, delivery.last_status_code) == (None, 200)
        log = await attempts_of(db, delivery.id)
        assert [(row.attempt, row.status_code, row.error) for row in log] == [
            (1, 500, None), (2, 500, None), (3, 200, None),
        ]  # fmt: skip
        assert all(row.duration_ms >= 0 for row in log)


async def test_a_payload_is_the_event_in_the_standard_webhooks_shape(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await add_users(db, platform.id, 1)
    [event] = await events_of(db, platform.id, after=0, types=[EventType.USER_CREATED])

    await run_passes(db, lambda: len(receiver.accepted) == 1)

    assert receiver.accepted[str(event.id)] == {
        "type": "user_created",
        "timestamp": rfc3339(event.occurred_at),
        "data": {
            "id": str(event.id),
            "cursor": receiver.accepted[str(event.id)]["data"]["cursor"],
            "type": "USER_CREATED",
            "objectId": str(event.object_id),
            "objectType": "User",
            "previousStatus": None,
            "status": event.status,
            "changedFields": None,
            "reasons": None,
            "message": None,
            "occurredAt": rfc3339(event.occurred_at),
        },
    }


async def test_an_endpoint_receives_only_events_appended_after_its_creation(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db, natural_users=2)
    endpoint = await endpoints.create(platform.id, receiver)
    assert endpoint.enqueued_through == await last_sequence(db, platform.id)
    await passes(db, 2)
    assert receiver.requests == []
    assert await deliveries_of(db, endpoint.id) == []


async def test_a_lost_claim_is_sent_again_and_the_receiver_keeps_one_copy(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await add_users(db, platform.id, 1)
    await enqueue(db, policy=FAST)
    # An instance claims the delivery, sends it, and dies before recording the answer; its
    # lease ends (zero here), so another instance sends the same event again. The batch is
    # large enough to reach this endpoint's delivery past any an earlier test left due.
    crashed = [
        item
        for item in await claim_due(db, policy=policy(lease_s=0.0, claim_batch_max=10_000))
        if item.endpoint_id == endpoint.id
    ]
    assert len(crashed) == 1
    async with new_client(FAST) as client:
        lost = await attempt(client, crashed[0], FAST)
    assert lost.status_code == 200

    await run_passes(db, lambda: len(receiver.requests) == 2)

    assert [request.webhook_id for request in receiver.requests] == [str(crashed[0].event.id)] * 2
    assert list(receiver.accepted) == [str(crashed[0].event.id)]
    late = AttemptResult(attempted_at=utcnow(), duration_ms=1, status_code=500)
    assert await record(db, crashed[0], late, policy=FAST) is False  # the claim was lost
    [delivery] = await deliveries_of(db, endpoint.id)
    assert (delivery.status, delivery.attempt_count) == (SUCCEEDED, 1)


async def test_a_restarted_dispatcher_goes_on_with_pending_deliveries(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    receiver.always_fail = True
    await add_users(db, platform.id, 2)
    events = await events_of(db, platform.id, after=0, types=[EventType.USER_CREATED])
    ids = {str(event.id) for event in events}
    quick = policy(lease_s=0.2)  # what a dispatcher stopped mid-send held is due again soon

    async with dispatching(await _url(db), quick):
        await eventually(lambda: all(receiver.seen(webhook_id) >= 2 for webhook_id in ids))
    failed_before = len(receiver.requests)
    receiver.always_fail = False

    async with dispatching(await _url(db), quick):
        await eventually(lambda: _all_succeeded(db, endpoint.id))

    assert failed_before >= 4
    assert set(receiver.accepted) == ids
    assert Counter(request.status for request in receiver.requests)[200] == 2
    for delivery in await deliveries_of(db, endpoint.id):
        assert delivery.status is SUCCEEDED
        log = [row.status_code for row in await attempts_of(db, delivery.id)]
        assert log[-1] == 200
        assert log[:-1] == [500] * (len(log) - 1)
        assert len(log) - 1 >= 1  # the failures the first dispatcher recorded


async def test_a_delivery_fails_once_its_schedule_is_spent(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    receiver.always_fail = True
    await add_users(db, platform.id, 1)
    three_attempts = policy(retry_schedule_s=(0.0, 0.0))

    await run_passes(db, lambda: len(receiver.requests) == 3, policy=three_attempts)
    await passes(db, 2, policy=three_attempts)

    assert len(receiver.requests) == 3
    [delivery] = await deliveries_of(db, endpoint.id)
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (FAILED, 3, None)
    assert (await endpoint_row(db, endpoint.id)).enabled  # 3 failures are not a long run


async def test_an_endpoint_failing_every_time_is_disabled_after_the_set_number_of_failures(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    receiver.always_fail = True
    strict = policy(disable_after_failures=3, disable_after_s=0.0)
    await add_users(db, platform.id, 1)

    await run_passes(db, lambda: len(receiver.requests) == 3, policy=strict)
    await add_users(db, platform.id, 1, seed=12)
    await passes(db, 3, policy=strict)

    assert len(receiver.requests) == 3
    disabled = await endpoint_row(db, endpoint.id)
    assert (disabled.enabled, disabled.consecutive_failures) == (False, 3)
    assert disabled.disabled_at is not None
    assert disabled.disabled_reason is not None
    assert disabled.disabled_reason.startswith("Disabled after 3 consecutive failed attempts")
    assert disabled.disabled_reason.endswith("the last: HTTP 500")
    [delivery] = await deliveries_of(db, endpoint.id)  # nothing enqueued once disabled
    assert (delivery.status, delivery.attempt_count) == (FAILED, 3)


async def test_a_success_resets_the_run_of_failures(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    receiver.fail_first = 2
    strict = policy(disable_after_failures=3, disable_after_s=0.0)
    await add_users(db, platform.id, 1)
    await run_passes(db, lambda: len(receiver.accepted) == 1, policy=strict)
    await add_users(db, platform.id, 1, seed=12)
    await run_passes(db, lambda: len(receiver.accepted) == 2, policy=strict)

    assert Counter(request.status for request in receiver.requests) == {500: 4, 200: 2}
    row = await endpoint_row(db, endpoint.id)
    assert (row.enabled, row.consecutive_failures, row.failing_since) == (True, 0, None)


async def test_a_private_address_is_refused_at_delivery_unless_allowed(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    loopback = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await add_users(db, platform.id, 1)

    await passes(db, 1, policy=policy(allow_private_urls=False))

    assert receiver.requests == []
    [delivery] = await deliveries_of(db, loopback.id)
    [logged] = await attempts_of(db, delivery.id)
    assert (logged.status_code, logged.error) == (None, "Refused: Must be an https URL.")
    assert delivery.last_error == logged.error


async def test_a_public_name_that_resolves_to_a_private_address_is_refused(
    db: Database, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    rebound = await endpoints.create(
        platform.id, url="https://hooks.example.com/mps", types=[EventType.USER_CREATED]
    )
    await add_users(db, platform.id, 1)

    async def resolve(host: str, port: int) -> list[str]:
        assert (host, port) == ("hooks.example.com", 443)
        return ["93.184.215.14", "127.0.0.1"]

    await passes(db, 1, policy=policy(allow_private_urls=False, resolve=resolve))

    [delivery] = await deliveries_of(db, rebound.id)
    [logged] = await attempts_of(db, delivery.id)
    assert logged.status_code is None
    assert logged.error == ("Refused: hooks.example.com resolves to a non-public address.")


async def test_a_deleted_endpoint_receives_nothing_more(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await add_users(db, platform.id, 1)
    await run_passes(db, lambda: len(receiver.accepted) == 1)
    receiver.always_fail = True
    await add_users(db, platform.id, 1, seed=12)
    await passes(db, 1)  # the second event fails once and stays pending
    assert len(receiver.requests) == 2

    await webhooks.delete_endpoint(db, platform_id=platform.id, endpoint_id=str(endpoint.id))
    await add_users(db, platform.id, 1, seed=13)
    await passes(db, 3)

    assert len(receiver.requests) == 2
    delivered, given_up = await deliveries_of(db, endpoint.id)
    assert delivered.status is SUCCEEDED
    assert (given_up.status, given_up.attempt_count) == (FAILED, 1)
    assert given_up.last_error == "The endpoint was deleted."


async def test_dispatchers_running_side_by_side_never_send_a_delivery_twice(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await add_users(db, platform.id, 12)
    await enqueue(db, policy=FAST)
    small_batches = policy(claim_batch_max=3, batches_per_pass_max=1)
    instances = [Database.from_url(await _url(db)) for _ in range(3)]
    try:
        for _ in range(10):
            await asyncio.gather(*(passes(other, 1, policy=small_batches) for other in instances))
            if len(receiver.accepted) == 12:
                break
    finally:
        for other in instances:
            await other.dispose()

    assert len(receiver.accepted) == 12
    assert len(receiver.requests) == 12  # each event POSTed once: no claim was shared
    assert all(row.attempt_count == 1 for row in await deliveries_of(db, endpoint.id))
