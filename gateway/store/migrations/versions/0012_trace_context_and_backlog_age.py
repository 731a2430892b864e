"""event trace context, and the age of the webhook backlog

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00.000000

- `events.trace_parent`, the W3C traceparent of the operation that wrote an event: set when
  tracing was on and the writing operation's trace sampled (gateway/services/unit_of_work.py),
  so that each webhook attempt of the event is a span of that trace
  (gateway/services/webhook_traces.py). Null otherwise, and for the events already written.
- `ix_webhook_deliveries_status_created` on (status, created_at): /metrics reads the oldest
  pending delivery's age on each dispatcher pass, the first entry under PENDING, however many
  finished deliveries the table keeps (a partial index would not serve the statement's bound
  status on SQLite nor in PostgreSQL's generic plans).

A plain ADD COLUMN and CREATE INDEX: SQLite makes both in place, no table is rebuilt.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("trace_parent", sa.String(length=55), nullable=True))
    op.create_index(
        "ix_webhook_deliveries_status_created", "webhook_deliveries", ["status", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_status_created", table_name="webhook_deliveries")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("trace_parent")
