"""credential roles, and the actor of every event, ledger entry and idempotency record

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR_TABLES = ("events", "ledger_entries", "idempotency_records")
ROLES = ("BACKEND", "OPERATOR", "READONLY")


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=32), nullable=False, server_default="BACKEND")
        )
        batch.create_check_constraint(
            "apikeyrole", "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")"
        )
    # Plain ADD COLUMNs (no CHECK): SQLite adds them in place, the append-only triggers stay.
    for table in ACTOR_TABLES:
        op.add_column(
            table,
            sa.Column("actor_kind", sa.String(length=16), nullable=False, server_default="SYSTEM"),
        )
        op.add_column(table, sa.Column("actor_key_id", sa.Uuid(), nullable=True))
        op.add_column(table, sa.Column("actor_role", sa.String(length=16), nullable=True))
        op.add_column(table, sa.Column("actor_user_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    for table in ACTOR_TABLES:
        with op.batch_alter_table(table) as batch:
            for column in ("actor_user_id", "actor_role", "actor_key_id", "actor_kind"):
                batch.drop_column(column)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("ck_api_keys_apikeyrole", type_="check")
        batch.drop_column("role")
