"""The unit of work every mutation runs in: one write transaction, its events, its key.

`perform` runs a use case's `work` in a write transaction (again from the start after a
transient database failure), appends the events the work recorded with the platform's next
sequence numbers, and honours the client's idempotency key:

- a new key is claimed in the same transaction, and settled with the outcome: the id of the
  object created, or the business rejection met (kept, so a replay meets it again). The claim
  names `Tx.object_id` already: a work that gives that id to the object it creates needs no
  settling when it succeeds;
- a known key with the same input replays: the object as it is now, `replay=True`, no effect;
- a known key with another input is an `IdempotencyConflict`;
- a `ValidationFailed` rejection keeps nothing, not even the key, so a corrected request can
  use it again (the request never started executing).
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opentelemetry.trace import get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.domain.credentials import Actor
from gateway.domain.enums import EntryKind, EventType
from gateway.domain.errors import IdempotencyConflict, Rejected, ValidationFailed
from gateway.domain.fingerprint import fingerprint
from gateway.domain.ids import new_id
from gateway.services.acting import actor_columns, current_actor
from gateway.store import events as event_log
from gateway.store import idempotency
from gateway.store.column_types import utcnow
from gateway.store.engine import Database, Session
from gateway.store.journal_tables import IDEMPOTENCY_KEY_LENGTH_MAX, Event
from gateway.store.ledger_tables import LedgerEntry
from gateway.store.tables import Model

M = TypeVar("M", bound=Model)
W3C = TraceContextTextMapPropagator()


def current_trace_parent() -> str | None:
    """The W3C traceparent of the current span, if it is a sampled one (tracing on)."""
    if not get_current_span().get_span_context().trace_flags.sampled:
        return None
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return carrier.get("traceparent")


@dataclass
class Tx:
    """A write transaction of one platform, collecting the events of its changes."""

    session: Session
    platform_id: uuid.UUID
    events: list[Event] = field(default_factory=list)
    actor: Actor = field(default_factory=current_actor)  # who the changes are recorded under
    # The traced operation the changes are made in (None when not traced): stored with the
    # events, so that their webhook attempts are spans of that trace.
    trace_parent: str | None = field(default_factory=current_trace_parent)
    # The id for the object the work creates, if it creates one: the idempotency key is claimed
    # naming it already, so a work that uses it leaves nothing to settle when it succeeds.
    object_id: uuid.UUID = field(default_factory=new_id)

    @property
    def actor_columns(self) -> dict[str, Any]:
        """The `actor_*` columns of a row this transaction writes (events, ledger entries)."""
        return actor_columns(self.actor)

    def emit(
        self,
        event_type: EventType,
        obj: Any,
        *,
        user_id: uuid.UUID | None,
        counterpart_user_id: uuid.UUID | None = None,
        previous: Any = None,
        status: Any = None,
        changed_fields: list[str] | None = None,
        reasons: list[str] | None = None,
        message: str | None = None,
    ) -> None:
        """Record a state change of `obj` (a table row) to append when the work succeeds;
        a decision's refusal reasons and free message go with it."""
        self.events.append(
            Event(
                id=new_id(),
                platform_id=self.platform_id,
                sequence=0,
                type=event_type,
                object_type=type(obj).__name__,
                object_id=obj.id,
                user_id=user_id,
                counterpart_user_id=counterpart_user_id,
                previous_status=_status_text(previous),
                status=_status_text(status),
                changed_fields=changed_fields,
                occurred_at=utcnow(),
                reasons=reasons,
                message=message,
                trace_parent=self.trace_parent,
                **self.actor_columns,
            )
        )

    def move(
        self,
        row: Any,
        target: Any,
        event_type: EventType,
        *,
        user_id: uuid.UUID | None,
        **event_details: Any,
    ) -> Any:
        """Move a row's `status` to `target` (the caller checked the transition), stamp its
        `updated_at`, and record the event of the change; returns the previous status.
        `event_details`: what `emit` takes besides (reasons, message, changed fields)."""
        previous = row.status
        row.status = target
        row.updated_at = utcnow()
        self.emit(
            event_type, row, user_id=user_id, previous=previous, status=target, **event_details
        )
        return previous

    def add_entry(
        self,
        *,
        where: dict[str, Any],
        currency: str,
        kind: EntryKind,
        delta: int,
        balance_after: int,
        operation: Any,
    ) -> LedgerEntry:
        """One immutable ledger entry of `operation` (a table row), by this actor: `where` names
        its account (`account_id`, `settlement_account_id` or `fee_account_id`)."""
        entry = LedgerEntry(
            id=new_id(),
            platform_id=self.platform_id,
            **where,
            currency=currency,
            kind=kind,
            amount=delta,
            balance_after=balance_after,
            operation_type=type(operation).__name__,
            operation_id=operation.id,
            **self.actor_columns,
        )
        self.session.add(entry)
        return entry

    async def flush_events(self) -> None:
        """Write the work's changes, then number the events and insert them; the numbering
        statement also queues the log's NOTIFY on PostgreSQL (gateway.store.events)."""
        if not self.events:
            return
        await self.session.flush()  # a no-op for work done in statements (no objects added)
        first = await event_log.reserve_event_sequences(
            self.session, platform_id=self.platform_id, count=len(self.events)
        )
        for offset, event in enumerate(self.events):
            event.sequence = first + offset
        await event_log.add_events(self.session, self.events)


def input_payload(value: Any) -> dict[str, Any]:
    """A use case's input as the idempotency fingerprint sees it: without the key itself."""
    payload = dataclasses.asdict(value)
    payload.pop("idempotency_key", None)
    return payload


def _status_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


@dataclass(frozen=True, slots=True)
class Outcome(Generic[M]):
    value: M
    replay: bool


def check_idempotency_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= IDEMPOTENCY_KEY_LENGTH_MAX:
        raise ValidationFailed.one(
            "idempotencyKey", f"Must have 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} characters."
        )


@dataclass
class _Deferred:
    rejection: Rejected


async def perform(
    db: Database,
    *,
    platform_id: uuid.UUID,
    operation: str,
    key: str | None,
    payload: dict[str, Any],
    model: type[M],
    work: Callable[[Tx], Awaitable[M]],
    checks_first: bool = False,
) -> Outcome[M]:
    """Run `work` once per idempotency key; see the module docstring.

    `checks_first`: the work raises every business rejection before its first write, so a
    rejection has nothing to undo and the work runs without a savepoint (two statements fewer).
    """
    check_idempotency_key(key)
    digest = fingerprint(operation, payload)

    async def attempt(session: Session, events: list[Event]) -> Outcome[M] | _Deferred:
        tx = Tx(session=session, platform_id=platform_id)
        if key is not None:
            known = await idempotency.claim_idempotency_key(
                session,
                platform_id=platform_id,
                key=key,
                operation=operation,
                fingerprint=digest,
                actor=tx.actor_columns,
                object_id=tx.object_id,
            )
            if known is not None:
                return await _replay(session, known.fingerprint, digest, known, model)
        try:
            async with _savepoint(session, wanted=not checks_first):
                value = await work(tx)
                if key is not None and value.id != tx.object_id:  # type: ignore[attr-defined]
                    await idempotency.settle_idempotency_key(
                        session,
                        platform_id=platform_id,
                        key=key,
                        object_id=value.id,  # type: ignore[attr-defined]
                        rejection=None,
                    )
        except ValidationFailed:
            raise
        except Rejected as rejection:
            if key is None:
                raise
            await idempotency.settle_idempotency_key(
                session,
                platform_id=platform_id,
                key=key,
                object_id=None,
                rejection=rejection.to_record(),
            )
            return _Deferred(rejection)
        # Numbered and written when the batch ends: the platform's row lock that numbers the
        # events is held from there to commit, once for every command of the batch.
        events.extend(tx.events)
        return Outcome(value, replay=False)

    result = await db.write_grouped(attempt)
    if isinstance(result, _Deferred):
        raise result.rejection
    return result


def _savepoint(session: Session, *, wanted: bool) -> AbstractAsyncContextManager[Any]:
    """A savepoint around the work, so a rejection undoes what it wrote; or nothing."""
    return session.begin_nested() if wanted else contextlib.nullcontext()


async def _replay(
    session: Session, stored: str, digest: str, known: Any, model: type[M]
) -> Outcome[M] | _Deferred:
    if stored != digest:
        raise IdempotencyConflict("This idempotency key was already used with a different request.")
    if known.rejection is not None:
        return _Deferred(Rejected.from_record(known.rejection))
    value = await session.get(model, known.object_id, populate_existing=True)
    assert value is not None, "an idempotency record names a missing object"
    return Outcome(value, replay=True)
