"""Group commit: the writes that arrive together share one database transaction.

A mutation hands its unit of work to `GroupCommit.run`. Commands that are queued when the
writer of this process (and event loop) is free run together, in arrival order, in ONE write
transaction, each in a savepoint of its own:

- a command that fails (a rejection its work turns into an exception, a bug) rolls back to its
  savepoint and gets its own exception; the others go on, untouched by it;
- idempotency claims are rows written inside the command's savepoint, so a second command with
  the same key in the same batch sees the first one's claim and replays it;
- the events of the commands whose savepoints were released are numbered once per platform at
  the end of the batch (one reservation of the platform's sequence numbers: its row lock is held
  only from there to the commit) and written in one go, with one NOTIFY per platform;
- the batch commits once (one log flush for all its commands), and only then does any command
  get its answer; the notification to other instances goes out once per platform afterwards.

A crash mid-batch (the process killed, the connection lost, the commit refused) leaves NOTHING
of the batch visible: it is one transaction. Every command of a batch whose commit failed gets
the failure, and since the commit may have happened before the connection died, a client is told
to retry with the same idempotency key, which is safe either way. A transient failure
(PostgreSQL deadlock or serialisation failure, SQLite busy) runs the whole batch again from the
start, as `Database.write` runs a single transaction again.

Batches form by themselves under load: one batch at a time per process, and what arrives while
it runs makes the next one. After a batch of more than one command (a sign of company) the next
waits at most `wait_s` for more; a lone command is never delayed. Each command runs in a task of
its own, in the context (actor, request id) of the request that sent it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.store import events as event_log
from gateway.store.availability import WriterStopped, unavailable
from gateway.store.journal_tables import Event
from gateway.store.notify import Notifications

T = TypeVar("T")
# A command's work: its statements on the batch's session, its events appended to the list
# (numbered and written when the batch ends, if the command's savepoint was released).
Work = Callable[[AsyncSession, list[Event]], Awaitable[T]]
# `Database.write`: runs a unit of work in a write transaction, again on transient failures.
Write = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]

WAIT_S = 0.001
SIZE_MAX = 32
logger = logging.getLogger("gateway.store")


class _Undo(Exception):
    """Rolls back the transaction of a lone command that failed."""


class BatchFailed(Exception):
    """The batch's transaction failed as a whole (its connection, its commit): every command
    of it gets the failure, which is the database's error as `__cause__`."""


@dataclass
class _Command(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    context: contextvars.Context
    events: list[Event] = field(default_factory=list)
    value: Any = None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class GroupCommitPolicy:
    wait_s: float = WAIT_S  # how long a batch waits for company, after a batch with company
    size_max: int = SIZE_MAX  # commands per batch


class GroupCommit:
    """The batches of one database handle in one event loop."""

    def __init__(
        self,
        write: Write,
        notifications: Callable[[], Notifications],
        *,
        is_transient: Callable[[DBAPIError], bool],
        policy: GroupCommitPolicy = GroupCommitPolicy(),
        before_commit: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._write = write
        self._notifications = notifications
        self._is_transient = is_transient
        self.policy = policy
        self.before_commit = before_commit  # a hook (tests): the batch's size, before COMMIT
        self._queue: deque[_Command[Any]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self.batches = 0  # batches committed or failed, and the commands in them
        self.commands = 0

    async def run(self, work: Work[T]) -> T:
        """Run `work` in the next batch; its value once the batch has committed."""
        loop = asyncio.get_running_loop()
        command: _Command[T] = _Command(work, loop.create_future(), contextvars.copy_context())
        self._queue.append(command)
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        # A request cancelled while its command waits does not cancel the command: it may be
        # in a batch already, and the batch decides for all its commands.
        return await asyncio.shield(command.future)

    async def stop(self) -> None:
        """Stop the writer now: the batch in flight is rolled back, and its commands and those
        still queued fail with `WriterStopped` (the database is unavailable, to a client). A
        later `run` starts a writer again."""
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            drainer.cancel()
            await asyncio.gather(drainer, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            await self._drain_batches()
        finally:  # cancelled (the loop stops): what is still queued never ran
            while self._queue:
                _settle(self._queue.popleft().future, error=WriterStopped())

    async def _drain_batches(self) -> None:
        company = False
        while self._queue:
            await asyncio.sleep(0)  # the commands sent in this same tick join
            if company and len(self._queue) < self.policy.size_max and self.policy.wait_s > 0:
                await asyncio.sleep(self.policy.wait_s)
            size = min(len(self._queue), self.policy.size_max)
            batch = [self._queue.popleft() for _ in range(size)]
            company = size > 1
            await self._run_batch(batch)

    async def _run_batch(self, batch: list[_Command[Any]]) -> None:
        self.batches += 1
        self.commands += len(batch)
        try:
            announce = await self._commit(batch)
        except BaseException as error:  # every command gets the batch's failure
            failure = (
                WriterStopped() if isinstance(error, asyncio.CancelledError) else BatchFailed()
            )
            failure.__cause__ = error
            for command in batch:
                _settle(command.future, error=error if _is_plain(error) else failure)
            if not isinstance(error, Exception):
                raise
            return
        for command in batch:
            _settle(command.future, value=command.value, error=command.error)
        await self._announce(announce)

    async def _commit(self, batch: list[_Command[Any]]) -> dict[uuid.UUID, int]:
        """The batch in one write transaction (`Database.write`: again from the start on a
        transient failure); the last event number of each platform it wrote events for."""
        # A lone command needs no savepoint (two statements fewer): when it fails, the whole
        # transaction, which holds nothing else, is rolled back instead.
        savepoints = len(batch) > 1

        async def work(session: AsyncSession) -> dict[uuid.UUID, int]:
            for command in batch:
                await asyncio.get_running_loop().create_task(
                    _run_command(session, command, self._is_transient, savepoint=savepoints),
                    context=command.context,
                )
            if not savepoints and batch[0].error is not None:
                raise _Undo
            last = await _write_events(session, [c for c in batch if c.error is None])
            if self.before_commit is not None:
                await self.before_commit(len(batch))
            return last

        try:
            last: dict[uuid.UUID, int] = await self._write(work)
        except _Undo:
            return {}
        return last

    async def _announce(self, last: dict[uuid.UUID, int]) -> None:
        """Tell subscribers here and on other instances that logs grew; best effort only."""
        for platform_id, sequence in last.items():
            try:
                await self._notifications().publish(platform_id, sequence)
            except Exception:  # a lost notification delays an event, never drops it
                logger.warning(
                    "could not announce events of platform %s", platform_id, exc_info=True
                )


async def _run_command(
    session: AsyncSession,
    command: _Command[Any],
    is_transient: Callable[[DBAPIError], bool],
    *,
    savepoint: bool,
) -> None:
    command.events, command.value, command.error = [], None, None
    try:
        async with session.begin_nested() if savepoint else contextlib.nullcontext():
            command.value = await command.work(session, command.events)
    except DBAPIError as error:
        if is_transient(error) or unavailable(error):
            raise  # the batch as a whole: run again, or fail every command
        command.error = error
    except Exception as error:  # the command's own failure, for it alone
        command.error = error


async def _write_events(session: AsyncSession, done: list[_Command[Any]]) -> dict[uuid.UUID, int]:
    """Number the events of the batch's released commands, once per platform (in id order, the
    order every batch locks platform rows in; on PostgreSQL the reservation also queues the
    platform's one NOTIFY), and write them; the last sequence number of each platform."""
    by_platform: dict[uuid.UUID, list[Event]] = {}
    for command in done:
        for event in command.events:
            by_platform.setdefault(event.platform_id, []).append(event)
    if not by_platform:
        return {}
    last: dict[uuid.UUID, int] = {}
    for platform_id in sorted(by_platform):
        events = by_platform[platform_id]
        first = await event_log.reserve_event_sequences(
            session, platform_id=platform_id, count=len(events)
        )
        for offset, event in enumerate(events):
            event.sequence = first + offset
        last[platform_id] = events[-1].sequence
    await event_log.add_events(session, [event for c in done for event in c.events])
    return last


def _is_plain(error: BaseException) -> bool:
    """A database error reaches each command as itself (so the transport can classify it)."""
    return isinstance(error, DBAPIError)


def _settle(
    future: asyncio.Future[Any], *, value: Any = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
