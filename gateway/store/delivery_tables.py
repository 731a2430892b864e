"""Outbound webhook deliveries and their attempt log.

A delivery is one event owed to one endpoint: unique per (endpoint, event), so an event is
enqueued for an endpoint at most once however many dispatchers run. It is PENDING with a
`next_attempt_at` until it ends SUCCEEDED or FAILED (then without one): the database checks
that pairing. `claim_id` names the dispatcher pass that holds the delivery while it sends it
(see `gateway.services.deliveries`). A replay makes a finished delivery PENDING again, its
retry schedule counted from the attempts made before it (`attempts_before_replay`); its
attempts keep their numbers. Every attempt leaves a row: its number (1, 2, ... unique
per delivery), when, how long, and either the HTTP status code answered or the error met.

Rows carry their platform, and both references name it too (composite foreign keys), so a
delivery can never join an endpoint and an event of two platforms.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.store.column_types import UTCDateTime
from gateway.store.tables import _created_at, _enum

ERROR_LENGTH_MAX = 500


class WebhookDeliveryStatus(enum.Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.UniqueConstraint("endpoint_id", "event_id"),
        sa.ForeignKeyConstraint(
            ["platform_id", "endpoint_id"],
            ["webhook_endpoints.platform_id", "webhook_endpoints.id"],
        ),
        sa.ForeignKeyConstraint(["platform_id", "event_id"], ["events.platform_id", "events.id"]),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        sa.Index("ix_webhook_deliveries_created_at", "created_at"),  # retention's scan
        # The backlog's age: the oldest pending delivery is the first entry under PENDING.
        sa.Index("ix_webhook_deliveries_status_created", "status", "created_at"),
        sa.CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        sa.CheckConstraint(
            "(status = 'PENDING' AND next_attempt_at IS NOT NULL)"
            " OR (status <> 'PENDING' AND next_attempt_at IS NULL)",
            name="pending_until_finished",
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    status: WebhookDeliveryStatus = Field(sa_type=_enum(WebhookDeliveryStatus))
    attempt_count: int = 0
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=ERROR_LENGTH_MAX)
    claim_id: uuid.UUID | None = None
    created_at: dt.datetime = _created_at()
    delivered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The attempts made before the last replay: the retry schedule counts from there.
    attempts_before_replay: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (
        sa.UniqueConstraint("delivery_id", "attempt"),
        sa.ForeignKeyConstraint(
            ["platform_id", "delivery_id"],
            ["webhook_deliveries.platform_id", "webhook_deliveries.id"],
        ),
        sa.CheckConstraint("attempt > 0", name="attempt_positive"),
        sa.CheckConstraint("duration_ms >= 0", name="duration_not_negative"),
        sa.CheckConstraint("(status_code IS NULL) <> (error IS NULL)", name="status_code_or_error"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    delivery_id: uuid.UUID
    attempt: int
    attempted_at: dt.datetime = _created_at()
    status_code: int | None = None  # the answer's, whatever it was
    error: str | None = Field(default=None, max_length=ERROR_LENGTH_MAX)  # when none came
    duration_ms: int = 0
