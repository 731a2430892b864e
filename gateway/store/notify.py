"""Notifications carried between gateway instances: a platform's event log has grown, and
credentials have changed.

An event notification says only "platform P has events up to sequence S": subscribers then
read the events themselves from the log, which stays the source of truth, so a lost
notification delays an event (until the next poll) and never drops it.

An invalidation (its own channel, `mps_credentials`) says "drop what you cached about this API
key (and the user tokens it issued)" or "about this user's tokens"; each instance's credential
cache (gateway/store/credential_cache.py) then reads the database again. A lost invalidation
leaves a revoked credential usable until its cache entry expires (`MPS_CREDENTIAL_CACHE_TTL_S`);
so that no invalidation is lost unseen, a listener that (re)connects delivers `EVERYTHING`
(drop all) once it listens again: what was cached before may have missed a message.

Carriers:

- Redis pub/sub (`MPS_REDIS_URL`), for several instances on any database;
- PostgreSQL LISTEN/NOTIFY, for several instances on one PostgreSQL without Redis;
- in-process, for SQLite (one instance).

Listeners reconnect on their own after a failure, with a bounded backoff. A Redis listener
pings a silent subscription and gives it up when Redis does not answer: a Redis that hangs is
then a carrier that is down (`is_listening()` false, polling delivers), and stopping never
waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "mps_events"
CREDENTIALS_CHANNEL = "mps_credentials"
RECONNECT_DELAY_MAX_S = 10.0
logger = logging.getLogger("gateway.notify")
PUBLISH_TIMEOUT_S = 0.5  # a Redis publish not sent by then is given up (see RedisNotifications)
HEARTBEAT_S = 5.0  # a Redis subscription silent this long is pinged...
PONG_WAIT_S = 2.0  # ...and given up when it does not answer within this
STOP_WAIT_S = 2.0  # how long stopping waits for a listener to end once cancelled
SENDING_MAX = 1_000

Listener = Callable[[uuid.UUID, int], None]


class InvalidationScope(enum.StrEnum):
    API_KEY = "api_key"  # the key and every user token it issued
    USER = "user"  # the user's tokens
    ALL = "all"  # everything (a listener reconnected); never sent between instances


@dataclass(frozen=True, slots=True)
class Invalidation:
    """What a credential cache must forget: the credentials of one API key or of one user."""

    scope: InvalidationScope
    id: uuid.UUID | None = None

    @classmethod
    def api_key(cls, api_key_id: uuid.UUID) -> Invalidation:
        return cls(InvalidationScope.API_KEY, api_key_id)

    @classmethod
    def user(cls, user_id: uuid.UUID) -> Invalidation:
        return cls(InvalidationScope.USER, user_id)

    def encode(self) -> str:
        return f"{self.scope.value}:{self.id}"

    @classmethod
    def decode(cls, payload: str | bytes) -> Invalidation | None:
        text = payload.decode() if isinstance(payload, bytes) else payload
        scope, _, identifier = text.partition(":")
        if scope not in (InvalidationScope.API_KEY, InvalidationScope.USER):
            return None
        try:
            return cls(InvalidationScope(scope), uuid.UUID(identifier))
        except ValueError:
            return None


EVERYTHING = Invalidation(InvalidationScope.ALL)
InvalidationListener = Callable[[Invalidation], None]


def encode(platform_id: uuid.UUID, sequence: int) -> str:
    return f"{platform_id}:{sequence}"


def decode(payload: str | bytes) -> tuple[uuid.UUID, int] | None:
    text = payload.decode() if isinstance(payload, bytes) else payload
    platform, _, sequence = text.partition(":")
    try:
        return uuid.UUID(platform), int(sequence)
    except ValueError:
        return None


class Notifications(Protocol):
    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None: ...

    async def publish_invalidation(self, invalidation: Invalidation) -> None:
        """After the change committed: this instance's listeners at once, the others' through
        the carrier (on PostgreSQL, `invalidate_in_transaction` sent it at commit)."""
        ...

    def listen_invalidations(self, listener: InvalidationListener) -> None:
        """Call `listener` with every invalidation heard, from `start` on."""
        ...

    def is_listening(self) -> bool:
        """Whether what other instances publish reaches this one now (a carrier connects in the
        background after `start`, and again after a failure)."""
        ...

    async def start(self, listener: Listener) -> None: ...

    async def stop(self) -> None: ...


class LocalNotifications:
    """In-process only: what this instance commits, this instance hears."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.invalidation_listeners: list[InvalidationListener] = []

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        for listener in list(self.listeners):
            listener(platform_id, sequence)

    async def publish_invalidation(self, invalidation: Invalidation) -> None:
        self.deliver_invalidation(invalidation)

    def deliver_invalidation(self, invalidation: Invalidation) -> None:
        for listener in list(self.invalidation_listeners):
            listener(invalidation)

    def listen_invalidations(self, listener: InvalidationListener) -> None:
        self.invalidation_listeners.append(listener)

    def is_listening(self) -> bool:
        return True  # in-process: every publisher is this process

    async def start(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def stop(self) -> None:
        self.listeners.clear()
        self.invalidation_listeners.clear()


class _Reconnecting:
    """A background task that keeps a listening connection open, reconnecting after errors."""

    def __init__(self, local: LocalNotifications) -> None:
        self.local = local
        self.task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while the connection listens

    def listen_invalidations(self, listener: InvalidationListener) -> None:
        self.local.listen_invalidations(listener)

    def is_listening(self) -> bool:
        return self.listening.is_set()

    def _heard_invalidation(self, payload: str | bytes) -> None:
        invalidation = Invalidation.decode(payload)
        if invalidation is not None:
            self.local.deliver_invalidation(invalidation)

    def _listening(self) -> None:
        """Listening (again): what was cached meanwhile may have missed an invalidation."""
        self.local.deliver_invalidation(EVERYTHING)
        self.listening.set()

    async def _listen_once(self, listener: Listener) -> None:
        raise NotImplementedError

    async def _loop(self, listener: Listener) -> None:
        delay = 0.5
        while True:
            try:
                await self._listen_once(listener)
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: reconnect later
                logger.warning("event notifications lost (%s); reconnecting in %.1fs", error, delay)
            finally:
                self.listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_DELAY_MAX_S)

    async def start(self, listener: Listener) -> None:
        await self.local.start(listener)
        self.task = asyncio.create_task(self._loop(listener))

    async def stop(self) -> None:
        await self.local.stop()
        if self.task is not None:
            self.task.cancel()
            # A listener stuck in a client library that does not honour the cancellation at
            # once (a read on a connection to a Redis that hangs) is not waited for long.
            done, _pending = await asyncio.wait({self.task}, timeout=STOP_WAIT_S)
            if not done:
                logger.warning("event notification listener still stopping; left behind")


async def invalidate_in_transaction(session: AsyncSession, invalidation: Invalidation) -> None:
    """On PostgreSQL, queue the invalidation's NOTIFY, sent if and when the transaction commits
    (to every instance listening on the database, whatever process made the change)."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(
            sa.text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CREDENTIALS_CHANNEL, "payload": invalidation.encode()},
        )


class PostgresNotifications(_Reconnecting):
    """LISTEN/NOTIFY on the gateway's own PostgreSQL database."""

    def __init__(self, database_url: str) -> None:
        super().__init__(LocalNotifications())
        url = make_url(database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        # The NOTIFY itself was queued inside the committing transaction (by the statement that
        # numbers its events, gateway.store.events), so PostgreSQL delivers it on commit only;
        # this instance hears its own commit at once.
        await self.local.publish(platform_id, sequence)

    async def publish_invalidation(self, invalidation: Invalidation) -> None:
        # Sent to the others at commit (`invalidate_in_transaction`); this instance at once.
        self.local.deliver_invalidation(invalidation)

    async def _listen_once(self, listener: Listener) -> None:
        connection = await asyncpg.connect(self.dsn)
        closed = asyncio.Event()

        def on_notify(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            notice = decode(payload)
            if notice is not None:
                listener(*notice)

        def on_invalidation(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            self._heard_invalidation(payload)

        connection.add_termination_listener(lambda _connection: closed.set())
        try:
            await connection.add_listener(CHANNEL, on_notify)
            await connection.add_listener(CREDENTIALS_CHANNEL, on_invalidation)
            self._listening()
            await closed.wait()
            raise ConnectionError("the LISTEN connection closed")
        finally:
            with contextlib.suppress(Exception):
                await connection.close()


class RedisNotifications(_Reconnecting):
    """Redis pub/sub on one channel shared by every instance."""

    def __init__(
        self, redis_url: str, *, heartbeat_s: float = HEARTBEAT_S, pong_wait_s: float = PONG_WAIT_S
    ) -> None:
        super().__init__(LocalNotifications())
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(redis_url)
        self.heartbeat_s = heartbeat_s
        self.pong_wait_s = pong_wait_s
        self.sending: set[asyncio.Task[None]] = set()

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        await self.local.publish(platform_id, sequence)
        self._send(CHANNEL, encode(platform_id, sequence))

    async def publish_invalidation(self, invalidation: Invalidation) -> None:
        self.local.deliver_invalidation(invalidation)
        self._send(CREDENTIALS_CHANNEL, invalidation.encode())

    def _send(self, channel: str, payload: str) -> None:
        """Publish in the background: the request that committed does not wait on Redis (a
        frozen Redis would hold it). A message not sent within `PUBLISH_TIMEOUT_S` is given up
        and logged: the other instances' polling, and the credential cache's expiry, catch up."""
        if len(self.sending) >= SENDING_MAX:  # Redis is not keeping up: drop, never pile up
            logger.warning("redis publish backlog full: a notification on %s dropped", channel)
            return
        task = asyncio.create_task(self._publish(channel, payload))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _publish(self, channel: str, payload: str) -> None:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self.client.publish(channel, payload)
        except Exception as error:
            logger.warning("redis publish on %s failed: %r", channel, error)

    async def flush(self) -> None:
        """Until what was published has been sent or given up (tests, and stop)."""
        if self.sending:
            await asyncio.gather(*self.sending, return_exceptions=True)

    async def _listen_once(self, listener: Listener) -> None:
        # get_message, not the `listen()` async generator: a generator cancelled mid-read is
        # finalised later by the event loop, which then finds it still running. Subscribe
        # confirmations are read too: the credentials channel's says the listener now hears.
        # A Redis that hangs must not hold the listener for ever (nor the shutdown, which waits
        # for it): a silent connection is pinged every `heartbeat_s` and must answer within
        # `pong_wait_s`, else it is given up and the listener reconnects (polling covers).
        pubsub = self.client.pubsub()
        try:
            async with asyncio.timeout(self.pong_wait_s):
                await pubsub.subscribe(CHANNEL, CREDENTIALS_CHANNEL)
            pinged = False
            while True:
                wait_s = self.pong_wait_s if pinged else self.heartbeat_s
                message = await pubsub.get_message(timeout=wait_s)
                if message is None:
                    if pinged:
                        raise ConnectionError(f"Redis did not answer within {wait_s} s")
                    async with asyncio.timeout(self.pong_wait_s):
                        await pubsub.ping()
                    pinged = True
                    continue
                pinged = False
                self._dispatch(message, listener)
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.pong_wait_s):
                    await pubsub.aclose()

    def _dispatch(self, message: dict[str, Any], listener: Listener) -> None:
        channel = message.get("channel")
        channel = channel.decode() if isinstance(channel, bytes) else channel
        kind = message.get("type")
        if channel == CREDENTIALS_CHANNEL:
            if kind == "subscribe":
                self._listening()
            elif kind == "message":
                self._heard_invalidation(message["data"])
        elif channel == CHANNEL and kind == "message":
            notice = decode(message["data"])
            if notice is not None:
                listener(*notice)

    async def stop(self) -> None:
        await self.flush()  # what was committed is announced before the client closes
        await super().stop()
        await self.client.aclose()


def notifications_for(*, database_url: str, redis_url: str | None) -> Notifications:
    """Redis when configured; else LISTEN/NOTIFY on PostgreSQL; else in-process (SQLite)."""
    if redis_url:
        return RedisNotifications(redis_url)
    if database_url.startswith("postgresql"):
        return PostgresNotifications(database_url)
    return LocalNotifications()
