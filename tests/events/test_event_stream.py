"""The hub and the stream, directly: slow consumers, lost notifications, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from gateway.domain.inputs import AddressData, NaturalPersonData
from gateway.services import users
from gateway.services.event_stream import EventHub, SubscriberTooSlow, stream_events
from gateway.store.engine import Database
from gateway.store.journal_tables import Event
from gateway.store.notify import LocalNotifications
from tests.conftest import make_platform


async def _create_user(db: Database, platform_id: uuid.UUID) -> uuid.UUID:
    address = AddressData(line1="1 rue", postal_code="75001", city="Paris", country="FR")
    person = NaturalPersonData("Ada", "Byron", dt.date(1990, 1, 1), "FR", address)
    login = f"u{uuid.uuid4().hex[:10]}"
    new = users.NewUser(email=f"{login}@example.com", login=login, person=person)
    return (await users.create_user(db, platform_id=platform_id, new=new)).value.id


class Silent(LocalNotifications):
    """A carrier that loses every notification."""

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        return None


async def test_a_lost_notification_delays_an_event_but_never_drops_it(db: Database) -> None:
    platform = await make_platform(db)
    db.notifications = Silent()
    hub = EventHub(db, queue_max=100, poll_interval_s=0.1)
    await hub.start()
    try:
        stream = stream_events(hub, platform_id=platform.id, after=None)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.1)
        user_id = await _create_user(db, platform.id)
        event = await asyncio.wait_for(first, 5)
        assert event.object_id == user_id
        await stream.aclose()
    finally:
        await hub.stop()
        db.notifications = LocalNotifications()


async def test_a_consumer_that_falls_behind_is_cut_off_and_resumes_without_loss(
    db: Database,
) -> None:
    platform = await make_platform(db)
    db.notifications = LocalNotifications()
    hub = EventHub(db, queue_max=4, poll_interval_s=0.1)
    await hub.start()
    try:
        stream = stream_events(hub, platform_id=platform.id, after=None)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.1)
        created = [await _create_user(db, platform.id) for _ in range(6)]  # 12 events
        await asyncio.sleep(0.3)
        seen = [await asyncio.wait_for(first, 5)]

        async def drain() -> None:
            async for event in stream:
                seen.append(event)

        with pytest.raises(SubscriberTooSlow):
            await asyncio.wait_for(drain(), 5)
        resumed = stream_events(hub, platform_id=platform.id, after=seen[-1].sequence)
        while len(seen) < 12:
            seen.append(await asyncio.wait_for(anext(resumed), 5))
        await resumed.aclose()
    finally:
        await hub.stop()
    sequences = [event.sequence for event in seen]
    assert sequences == list(range(sequences[0], sequences[0] + 12))
    assert [e.object_id for e in seen if e.type.value == "USER_CREATED"] == created


async def test_events_committed_while_a_long_replay_runs_follow_it_without_gap_or_duplicate(
    db: Database,
) -> None:
    platform = await make_platform(db)
    for _ in range(110):  # 220 events: more than one replay batch
        await _create_user(db, platform.id)
    db.notifications = LocalNotifications()
    hub = EventHub(db, queue_max=100, poll_interval_s=0.1)
    await hub.start()
    try:
        stream = stream_events(hub, platform_id=platform.id, after=0)
        seen: list[Event] = []
        writers: list[asyncio.Task[uuid.UUID]] = []
        while len(seen) < 230:
            seen.append(await asyncio.wait_for(anext(stream), 5))
            if len(seen) == 50:  # mid-replay: commit five more users (ten events)
                writers += [asyncio.create_task(_create_user(db, platform.id)) for _ in range(5)]
        await asyncio.gather(*writers)
        await stream.aclose()
    finally:
        await hub.stop()
    sequences = [event.sequence for event in seen]
    assert sequences == list(range(1, 231))


async def test_notifications_for_other_platforms_never_hold_back_the_poll(db: Database) -> None:
    """Notifications for a busy platform wake the hub far more often than its poll interval;
    a quiet platform whose notification was lost is still polled every interval."""
    busy, quiet = await make_platform(db), await make_platform(db)
    db.notifications = Silent()
    hub = EventHub(db, queue_max=100, poll_interval_s=0.1)
    await hub.start()

    async def chatter() -> None:
        while True:
            hub.notice(busy.id, 10**9)  # past the busy feed's last sequence: wakes the hub
            await asyncio.sleep(0.01)

    busy_stream = stream_events(hub, platform_id=busy.id, after=None)
    quiet_stream = stream_events(hub, platform_id=quiet.id, after=None)
    busy_first = asyncio.ensure_future(anext(busy_stream))
    quiet_first = asyncio.ensure_future(anext(quiet_stream))
    noise = asyncio.create_task(chatter())
    try:
        for _ in range(500):  # bounded: both streams subscribed
            if busy.id in hub.feeds and quiet.id in hub.feeds:
                break
            await asyncio.sleep(0.01)
        user_id = await _create_user(db, quiet.id)  # its notification is lost
        event = await asyncio.wait_for(quiet_first, 5)
        assert event.object_id == user_id
    finally:
        noise.cancel()
        busy_first.cancel()
        await asyncio.gather(noise, busy_first, return_exceptions=True)
        await busy_stream.aclose()
        await quiet_stream.aclose()
        await hub.stop()
        db.notifications = LocalNotifications()
