"""filters and ordering: indexes on (scope, creation time, id) for the filtered connections

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:20:00.000000

A connection read with `filter` or `orderBy` is ordered by (created_at, id) within its scope
(gateway/store/filters.py). These indexes serve that order and the `createdAt` range of the
filter as one index condition: an account's ledger entries, and the platform's transfers,
pay-ins, pay-outs and events. Plain CREATE INDEX (the migration runs in a transaction).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_ledger_entries_account_created", "ledger_entries", ["account_id", "created_at", "id"]),
    ("ix_transfers_platform_created", "transfers", ["platform_id", "created_at", "id"]),
    ("ix_pay_ins_platform_created", "pay_ins", ["platform_id", "created_at", "id"]),
    ("ix_pay_outs_platform_created", "pay_outs", ["platform_id", "created_at", "id"]),
    ("ix_events_platform_occurred", "events", ["platform_id", "occurred_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
