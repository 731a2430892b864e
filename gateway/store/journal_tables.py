"""The outbox of events and the idempotency records.

Events are appended in the same transaction as the change they describe, numbered by a
per-platform sequence taken from `platforms.event_sequence` with a row lock held to commit, so
the sequence order is the commit order within a platform: a reader that has seen sequence n
will never later find a new event below n.

An idempotency record binds a client's key (unique per platform) to the fingerprint of the
first request that used it and to its outcome: the object it created or the rejection it got.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.domain.enums import EventType
from gateway.store.column_types import UTCDateTime
from gateway.store.tables import ActorColumns, _created_at

IDEMPOTENCY_KEY_LENGTH_MAX = 255


class Event(ActorColumns, table=True):
    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "sequence"),
        sa.UniqueConstraint("platform_id", "id"),
        sa.Index("ix_events_object_id", "object_id"),
        sa.Index("ix_events_platform_occurred", "platform_id", "occurred_at", "id"),
        sa.CheckConstraint("sequence > 0", name="sequence_positive"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    sequence: int = Field(sa_type=sa.BigInteger)
    # No CHECK on the type: the log grows new event types without a migration each time.
    type: EventType = Field(
        sa_type=sa.Enum(EventType, native_enum=False, create_constraint=False, length=64)
    )
    object_type: str = Field(max_length=32)
    object_id: uuid.UUID
    user_id: uuid.UUID | None = None  # the user whose subtree the object belongs to
    counterpart_user_id: uuid.UUID | None = None  # the other user of a transfer
    previous_status: str | None = Field(default=None, max_length=32)
    status: str | None = Field(default=None, max_length=32)
    # The input names of the fields an update changed (USER_UPDATED, PERSON_UPDATED).
    changed_fields: list[str] | None = Field(default=None, sa_type=sa.JSON)
    occurred_at: dt.datetime = _created_at()
    # A decision's refusal reasons (RefusalReason names) and free message, or a payment's
    # failure reason; plain nullable columns (added in place to this append-only table).
    reasons: list[str] | None = Field(default=None, sa_type=sa.JSON)
    message: str | None = Field(default=None, max_length=500)
    # The W3C traceparent of the operation that wrote the event, when it was traced: its
    # webhook attempts are spans of that trace (gateway/services/webhook_traces.py).
    trace_parent: str | None = Field(default=None, max_length=55)


class IdempotencyRecord(ActorColumns, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "key"),
        sa.Index("ix_idempotency_records_created_at", "created_at"),  # retention's scan
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    key: str = Field(max_length=IDEMPOTENCY_KEY_LENGTH_MAX)
    operation: str = Field(max_length=64)
    fingerprint: str = Field(max_length=64)
    object_id: uuid.UUID | None = None
    rejection: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_at: dt.datetime = _created_at()


class WebhookEndpoint(SQLModel, table=True):
    """Where the platform's events are delivered. Deleting one keeps the row (deleted_at) for
    the delivery log; the secret signs every delivery, so it is kept as given (shown once)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.Index("ix_webhook_endpoints_platform_id", "platform_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    url: str = Field(max_length=2048)
    event_types: list[str] = Field(sa_type=sa.JSON, default_factory=list)
    description: str | None = Field(default=None, max_length=200)
    secret: str = Field(max_length=100)
    enabled: bool = True
    created_at: dt.datetime = _created_at()
    deleted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Delivery state (gateway.services.deliveries): the platform's event sequence up to which
    # deliveries are enqueued (its last one at creation: an endpoint gets later events only),
    # the current run of failed attempts, and why the dispatcher disabled it, if it did.
    enqueued_through: int = Field(
        default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"}
    )
    consecutive_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    failing_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = Field(default=None, max_length=500)
    # Secret rotation: the secret replaced, which still signs (next to the new one) until then.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
