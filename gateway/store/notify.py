"""Notifications that a platform's event log has grown, carried between gateway instances.

A notification says only "platform P has events up to sequence S": subscribers then read the
events themselves from the log, which stays the source of truth, so a lost notification delays
an event (until the next poll) and never drops it. Carriers:

- Redis pub/sub (`MPS_REDIS_URL`), for several instances on any database;
- PostgreSQL LISTEN/NOTIFY, for several instances on one PostgreSQL without Redis;
- in-process, for SQLite (one instance).

Listeners reconnect on their own after a failure, with a bounded backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "mps_events"
RECONNECT_DELAY_MAX_S = 10.0
logger = logging.getLogger("gateway.notify")

Listener = Callable[[uuid.UUID, int], None]


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

    async def start(self, listener: Listener) -> None: ...

    async def stop(self) -> None: ...


class LocalNotifications:
    """In-process only: what this instance commits, this instance hears."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        for listener in list(self.listeners):
            listener(platform_id, sequence)

    async def start(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def stop(self) -> None:
        self.listeners.clear()


class _Reconnecting:
    """A background task that keeps a listening connection open, reconnecting after errors."""

    def __init__(self, local: LocalNotifications) -> None:
        self.local = local
        self.task: asyncio.Task[None] | None = None

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
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_DELAY_MAX_S)

    async def start(self, listener: Listener) -> None:
        await self.local.start(listener)
        self.task = asyncio.create_task(self._loop(listener))

    async def stop(self) -> None:
        await self.local.stop()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def notify_in_transaction(
    session: AsyncSession, platform_id: uuid.UUID, sequence: int
) -> None:
    """On PostgreSQL, queue a NOTIFY that is sent if and when the transaction commits."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(
            sa.text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": encode(platform_id, sequence)},
        )


class PostgresNotifications(_Reconnecting):
    """LISTEN/NOTIFY on the gateway's own PostgreSQL database."""

    def __init__(self, database_url: str) -> None:
        super().__init__(LocalNotifications())
        url = make_url(database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        # The NOTIFY itself was sent inside the committing transaction (`notify_in_transaction`),
        # so PostgreSQL delivers it on commit only; this instance hears its own commit at once.
        await self.local.publish(platform_id, sequence)

    async def _listen_once(self, listener: Listener) -> None:
        connection = await asyncpg.connect(self.dsn)
        closed = asyncio.Event()

        def on_notify(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            notice = decode(payload)
            if notice is not None:
                listener(*notice)

        connection.add_termination_listener(lambda _connection: closed.set())
        try:
            await connection.add_listener(CHANNEL, on_notify)
            await closed.wait()
            raise ConnectionError("the LISTEN connection closed")
        finally:
            with contextlib.suppress(Exception):
                await connection.close()


class RedisNotifications(_Reconnecting):
    """Redis pub/sub on one channel shared by every instance."""

    def __init__(self, redis_url: str) -> None:
        super().__init__(LocalNotifications())
        import redis.asyncio as redis

        self.client = redis.Redis.from_url(redis_url)

    async def publish(self, platform_id: uuid.UUID, sequence: int) -> None:
        await self.local.publish(platform_id, sequence)
        await self.client.publish(CHANNEL, encode(platform_id, sequence))

    async def _listen_once(self, listener: Listener) -> None:
        # get_message, not the `listen()` async generator: a generator cancelled mid-read is
        # finalised later by the event loop, which then finds it still running.
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None or message.get("type") != "message":
                    continue
                notice = decode(message["data"])
                if notice is not None:
                    listener(*notice)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def stop(self) -> None:
        await super().stop()
        await self.client.aclose()
