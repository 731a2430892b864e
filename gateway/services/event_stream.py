"""Streaming a platform's event log to subscribers, live and resumable.

The log (the `events` table, numbered per platform in commit order) is the source of truth.
Notifications (in-process, PostgreSQL NOTIFY or Redis) only wake the hub up early; the hub
also polls the platforms that have subscribers, every interval whatever wakes it meanwhile, so
a lost notification delays an event by at most the interval and never drops it.

The hub reads each platform's new events once and hands them to every subscriber of the
platform, each through its own bounded queue. A subscriber that falls more than its queue
behind is cut off (`SubscriberTooSlow`) and resumes later with `after` its last cursor.

A subscription with `after` first replays the stored events after that cursor, then goes
live. It registers with the hub before the replay reads the log, so an event committed
during the replay is either read by the replay or queued live; the stream skips what it has
already delivered and fills any hole from the log, so there is no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field

from gateway.domain.enums import EventType
from gateway.services import instruments
from gateway.store import readers
from gateway.store.engine import Database
from gateway.store.journal_tables import Event
from gateway.store.notify import Notifications

READ_BATCH = 200
logger = logging.getLogger("gateway.events")


class SubscriberTooSlow(Exception):
    """The subscriber fell more than its queue behind the log and was cut off."""

    def __init__(self, last_sequence: int) -> None:
        super().__init__(f"fell behind after sequence {last_sequence}")
        self.last_sequence = last_sequence


@dataclass(eq=False)
class Subscriber:
    platform_id: uuid.UUID
    queue: asyncio.Queue[Event]
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True  # the stream ends once it has drained what it holds


@dataclass
class _PlatformFeed:
    last_sequence: int
    announced_sequence: int = 0  # the newest a carrier announced (for the lag gauge)
    subscribers: set[Subscriber] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class EventHub:
    """One per process: fans each platform's new events out to its subscribers."""

    def __init__(self, db: Database, *, queue_max: int, poll_interval_s: float) -> None:
        self.db = db
        self.queue_max = queue_max
        self.poll_interval_s = poll_interval_s
        self.feeds: dict[uuid.UUID, _PlatformFeed] = {}
        self.wake = asyncio.Event()
        self.pending: set[uuid.UUID] = set()
        self.task: asyncio.Task[None] | None = None
        self.notifications: Notifications | None = None

    async def start(self) -> None:
        # The carrier this hub started is the one it stops, even when another app sharing the
        # database has set its own since.
        self.notifications = self.db.notifications
        await self.notifications.start(self.notice)
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.notifications is not None:
            await self.notifications.stop()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def notice(self, platform_id: uuid.UUID, sequence: int) -> None:
        """A carrier says the platform's log reached `sequence`."""
        feed = self.feeds.get(platform_id)
        if feed is not None and sequence > feed.last_sequence:
            feed.announced_sequence = max(feed.announced_sequence, sequence)
            self.pending.add(platform_id)
            self.wake.set()
            self._measure_lag()

    def _measure_lag(self) -> None:
        lag = sum(max(0, f.announced_sequence - f.last_sequence) for f in self.feeds.values())
        instruments.HUB_LAG_EVENTS.set(lag)

    @contextlib.asynccontextmanager
    async def subscribe(self, platform_id: uuid.UUID) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(platform_id, asyncio.Queue(maxsize=self.queue_max))
        feed = self.feeds.get(platform_id)
        if feed is None:
            async with self.db.session() as session:
                last = await readers.last_event_sequence(session, platform_id=platform_id)
            feed = self.feeds.setdefault(platform_id, _PlatformFeed(last_sequence=last))
        feed.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            feed.subscribers.discard(subscriber)
            if not feed.subscribers and self.feeds.get(platform_id) is feed:
                del self.feeds[platform_id]
                self._measure_lag()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        polled_at = loop.time()
        while True:
            # Every platform is read once per interval however often notifications wake the
            # hub: a steady flow of notifications for some platforms (or a carrier that loses
            # only some) must not keep the others from being polled.
            until_poll_s = max(0.0, polled_at + self.poll_interval_s - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=until_poll_s)
            self.wake.clear()
            platforms = set(self.pending)
            self.pending.clear()
            if loop.time() >= polled_at + self.poll_interval_s:
                platforms |= set(self.feeds)
                polled_at = loop.time()
            for platform_id in platforms:
                try:
                    await self._fan_out(platform_id)
                except Exception:
                    logger.exception("reading events of platform %s failed", platform_id)

    async def _fan_out(self, platform_id: uuid.UUID) -> None:
        feed = self.feeds.get(platform_id)
        if feed is None:
            return
        async with feed.lock:
            while True:
                async with self.db.session() as session:
                    events = await readers.events_after(
                        session,
                        platform_id=platform_id,
                        after=feed.last_sequence,
                        limit=READ_BATCH,
                    )
                for event in events:
                    for subscriber in list(feed.subscribers):
                        subscriber.offer(event)
                    feed.last_sequence = event.sequence
                    instruments.event_fanned_out(event.occurred_at)
                if len(events) < READ_BATCH:
                    self._measure_lag()
                    return


async def _read_after(db: Database, platform_id: uuid.UUID, after: int) -> list[Event]:
    async with db.session() as session:
        return await readers.events_after(
            session, platform_id=platform_id, after=after, limit=READ_BATCH
        )


async def _read_between(
    db: Database, platform_id: uuid.UUID, after: int, before: int
) -> list[Event]:
    """Stored events strictly between two sequences, in order."""
    found: list[Event] = []
    while after + 1 < before:
        batch = [e for e in await _read_after(db, platform_id, after) if e.sequence < before]
        if not batch:
            break
        found += batch
        after = batch[-1].sequence
    return found


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber receives: its scope (a user token's user) and its arguments."""

    types: Sequence[EventType] | None = None
    object_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    def wants(self, event: Event) -> bool:
        return (
            (not self.types or event.type in self.types)
            and (self.object_id is None or event.object_id == self.object_id)
            and (self.user_id is None or self.user_id in (event.user_id, event.counterpart_user_id))
        )


async def head_sequence(hub: EventHub, *, platform_id: uuid.UUID) -> int:
    """The sequence of the platform's latest event (0 before any): where a stream that asks
    for events "from now on" starts."""
    async with hub.db.session() as session:
        return await readers.last_event_sequence(session, platform_id=platform_id)


async def stream_events(
    hub: EventHub,
    *,
    platform_id: uuid.UUID,
    after: int | None,
    wanted: EventFilter | None = None,
) -> AsyncGenerator[Event, None]:
    """The platform's events after `after` (stored first, then live), in order, filtered.

    Without `after`, only events committed from now on. Raises SubscriberTooSlow when the
    consumer falls too far behind (resume with the last event's cursor).
    """
    wanted = wanted or EventFilter()
    async with hub.subscribe(platform_id) as subscriber:
        if after is None:
            after = await head_sequence(hub, platform_id=platform_id)
        last = after
        while events := await _read_after(hub.db, platform_id, last):
            for event in events:
                last = event.sequence
                if wanted.wants(event):
                    yield event
        while True:
            if subscriber.overflowed and subscriber.queue.empty():
                raise SubscriberTooSlow(last)
            event = await subscriber.queue.get()
            if event.sequence <= last:
                continue
            for missed in await _read_between(hub.db, platform_id, last, event.sequence):
                last = missed.sequence  # a hole (should not happen): filled from the log
                if wanted.wants(missed):
                    yield missed
            last = event.sequence
            if wanted.wants(event):
                yield event
