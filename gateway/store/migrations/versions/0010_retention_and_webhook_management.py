"""retention and webhook management: timestamp indexes for the purge, replay and rotation columns

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 00:00:00.000000

- `ix_idempotency_records_created_at` and `ix_webhook_deliveries_created_at`: the retention job
  reads its batches by age (gateway/services/retention.py);
- `webhook_deliveries.delivered_at` (when a 2xx answered; filled for the deliveries already
  SUCCEEDED from their last attempt) and `attempts_before_replay` (0);
- `webhook_endpoints.previous_secret` and `previous_secret_expires_at`: a rotated secret keeps
  signing, next to the new one, until then.

Plain ADD COLUMNs and CREATE INDEXes: SQLite adds them in place, no table is rebuilt.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from gateway.store.column_types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_idempotency_records_created_at", "idempotency_records", ["created_at"])
    op.create_index("ix_webhook_deliveries_created_at", "webhook_deliveries", ["created_at"])
    op.add_column("webhook_deliveries", sa.Column("delivered_at", UTCDateTime(), nullable=True))
    op.add_column(
        "webhook_deliveries",
        sa.Column("attempts_before_replay", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute(
        "UPDATE webhook_deliveries SET delivered_at = (SELECT max(a.attempted_at)"
        " FROM webhook_attempts a WHERE a.delivery_id = webhook_deliveries.id)"
        " WHERE status = 'SUCCEEDED'"
    )
    op.add_column(
        "webhook_endpoints", sa.Column("previous_secret", sa.String(length=100), nullable=True)
    )
    op.add_column(
        "webhook_endpoints",
        sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("attempts_before_replay")
        batch.drop_column("delivered_at")
    op.drop_index("ix_webhook_deliveries_created_at", table_name="webhook_deliveries")
    op.drop_index("ix_idempotency_records_created_at", table_name="idempotency_records")
