"""the user lifecycle: block reasons, expiring documents (OUT_OF_DATE), changed fields of events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT_STATUSES = ("CREATED", "VALIDATION_ASKED", "VALIDATED", "REFUSED")


def _document_status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    op.add_column("users", sa.Column("blocked_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("kyc_documents") as batch:
        batch.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
        batch.drop_constraint(op.f("ck_kyc_documents_documentstatus"), type_="check")
        batch.create_check_constraint(
            "documentstatus", _document_status_check((*DOCUMENT_STATUSES, "OUT_OF_DATE"))
        )
    # A plain ADD COLUMN (no CHECK): SQLite adds it in place, the append-only triggers stay.
    op.add_column("events", sa.Column("changed_fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("changed_fields")
    with op.batch_alter_table("kyc_documents") as batch:
        batch.drop_constraint(op.f("ck_kyc_documents_documentstatus"), type_="check")
        batch.create_check_constraint("documentstatus", _document_status_check(DOCUMENT_STATUSES))
        batch.drop_column("expires_on")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("blocked_reason")
