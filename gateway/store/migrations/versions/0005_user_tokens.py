"""user tokens: a signing secret per platform, a revocation instant per user

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

from gateway.store.column_types import UTCDateTime


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("platforms") as batch:
        batch.add_column(sa.Column("user_token_secret", sa.String(length=128), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("tokens_valid_after", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("tokens_valid_after")
    with op.batch_alter_table("platforms") as batch:
        batch.drop_column("user_token_secret")
