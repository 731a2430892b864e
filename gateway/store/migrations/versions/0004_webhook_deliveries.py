"""webhook deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:58:15.587666
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

from gateway.store.column_types import UTCDateTime


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING", "SUCCEEDED", "FAILED", name="webhookdeliverystatus",
                native_enum=False, create_constraint=True, length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("claim_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(status = 'PENDING' AND next_attempt_at IS NOT NULL)"
            " OR (status <> 'PENDING' AND next_attempt_at IS NULL)",
            name=op.f("ck_webhook_deliveries_pending_until_finished"),
        ),
        sa.CheckConstraint(
            "attempt_count >= 0", name=op.f("ck_webhook_deliveries_attempt_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "endpoint_id"],
            ["webhook_endpoints.platform_id", "webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_platform_id_endpoint_id_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "event_id"],
            ["events.platform_id", "events.id"],
            name=op.f("fk_webhook_deliveries_platform_id_event_id_events"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_webhook_deliveries_platform_id_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_deliveries_endpoint_id_event_id")
        ),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_webhook_deliveries_platform_id_id")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_due", ["status", "next_attempt_at"])
        batch_op.create_index("ix_webhook_deliveries_endpoint_id_id", ["endpoint_id", "id"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status_code IS NULL) <> (error IS NULL)",
            name=op.f("ck_webhook_attempts_status_code_or_error"),
        ),
        sa.CheckConstraint("attempt > 0", name=op.f("ck_webhook_attempts_attempt_positive")),
        sa.CheckConstraint(
            "duration_ms >= 0", name=op.f("ck_webhook_attempts_duration_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "delivery_id"],
            ["webhook_deliveries.platform_id", "webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_platform_id_delivery_id_webhook_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_webhook_attempts_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        sa.UniqueConstraint(
            "delivery_id", "attempt", name=op.f("uq_webhook_attempts_delivery_id_attempt")
        ),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enqueued_through", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("failing_since", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("disabled_reason", sa.String(length=500), nullable=True))
    # Endpoints made before deliveries existed start from now, not from the whole history.
    op.execute(
        "UPDATE webhook_endpoints SET enqueued_through = (SELECT platforms.event_sequence"
        " FROM platforms WHERE platforms.id = webhook_endpoints.platform_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("disabled_reason")
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("failing_since")
        batch_op.drop_column("consecutive_failures")
        batch_op.drop_column("enqueued_through")

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_endpoint_id_id")
        batch_op.drop_index("ix_webhook_deliveries_due")

    op.drop_table("webhook_deliveries")
