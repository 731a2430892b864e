"""decisions: refusal reasons and messages, recorded wires, returned pay-outs, charge-backs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:50:00.000000

- users: the last validation decision's reasons and message;
- kyc_documents: a refusal's reason (CHECKed enum) and message;
- pay_ins: the amount a recorded wire brought, its value date and the bank's reference;
  status CHARGED_BACK;
- pay_outs: status RETURNED; mandates: a failure reason;
- ledger_entries: entry kind CHARGEBACK. Changing its CHECK rebuilds the table on SQLite,
  which drops the append-only triggers: they are created again right after;
- events: reasons and message, plain ADD COLUMNs (no rebuild, the triggers stay).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL_REASONS = (
    "COMPLIANCE_REASON",
    "DOCUMENT_UNREADABLE",
    "DOCUMENT_EXPIRED",
    "DOCUMENT_INCOMPLETE",
    "DOCUMENT_NOT_MATCHING_USER_DATA",
    "DOCUMENT_MISSING",
    "DOCUMENT_NOT_ACCEPTED",
    "UNDERAGE_PERSON",
    "SPECIFIC_CASE",
    "OTHER",
)
ENTRY_KINDS = ("TRANSFER_IN", "TRANSFER_OUT", "PAY_IN", "PAY_OUT", "PAY_OUT_RETURN")
PAY_IN_STATUSES = ("CREATED", "PENDING", "SUCCEEDED", "FAILED")
PAY_OUT_STATUSES = ("CREATED", "PENDING", "SUCCEEDED", "FAILED")
IMMUTABLE_MESSAGE = "rows of %s are immutable: write a new row instead"


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _is_sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _replace_check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(name), type_="check")
        batch.create_check_constraint(op.f(name), condition)


def _entry_kinds(values: Sequence[str]) -> None:
    """The ledger's CHECK on `kind`; on SQLite through a table rebuild, triggers restored."""
    name, condition = "ck_ledger_entries_entrykind", _one_of("kind", values)
    if not _is_sqlite():
        op.drop_constraint(op.f(name), "ledger_entries", type_="check")
        op.create_check_constraint(op.f(name), "ledger_entries", condition)
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER ledger_entries_no_{action}")
    with op.batch_alter_table("ledger_entries", recreate="always") as batch:
        batch.drop_constraint(op.f(name), type_="check")
        batch.create_check_constraint(op.f(name), condition)
    _refuse_changes_on_sqlite("ledger_entries")


def upgrade() -> None:
    op.add_column("users", sa.Column("validation_reasons", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("validation_message", sa.String(length=500), nullable=True))
    with op.batch_alter_table("kyc_documents") as batch:
        batch.add_column(sa.Column("refusal_reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("refusal_message", sa.String(length=500), nullable=True))
        batch.create_check_constraint(
            op.f("ck_kyc_documents_refusalreason"), _one_of("refusal_reason", REFUSAL_REASONS)
        )
    op.add_column("mandates", sa.Column("failure_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("pay_ins") as batch:
        batch.add_column(sa.Column("amount_received", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("value_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("bank_reference", sa.String(length=100), nullable=True))
        batch.create_check_constraint(
            op.f("ck_pay_ins_amount_received_positive"),
            "amount_received IS NULL OR amount_received > 0",
        )
    _replace_check(
        "pay_ins", "ck_pay_ins_payinstatus", _one_of("status", (*PAY_IN_STATUSES, "CHARGED_BACK"))
    )
    _replace_check(
        "pay_outs", "ck_pay_outs_payoutstatus", _one_of("status", (*PAY_OUT_STATUSES, "RETURNED"))
    )
    _entry_kinds((*ENTRY_KINDS, "CHARGEBACK"))
    op.add_column("events", sa.Column("reasons", sa.JSON(), nullable=True))
    op.add_column("events", sa.Column("message", sa.String(length=500), nullable=True))


def _refuse_changes_on_sqlite(table: str) -> None:
    message = IMMUTABLE_MESSAGE % table
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    """Refused (by the CHECKs) while rows use a status or entry kind this revision added."""
    with op.batch_alter_table("events") as batch:  # SQLite: a rebuild, without the triggers
        batch.drop_column("message")
        batch.drop_column("reasons")
    if _is_sqlite():
        _refuse_changes_on_sqlite("events")
    _entry_kinds(ENTRY_KINDS)
    _replace_check("pay_outs", "ck_pay_outs_payoutstatus", _one_of("status", PAY_OUT_STATUSES))
    _replace_check("pay_ins", "ck_pay_ins_payinstatus", _one_of("status", PAY_IN_STATUSES))
    with op.batch_alter_table("pay_ins") as batch:
        batch.drop_constraint(op.f("ck_pay_ins_amount_received_positive"), type_="check")
        batch.drop_column("bank_reference")
        batch.drop_column("value_date")
        batch.drop_column("amount_received")
    with op.batch_alter_table("mandates") as batch:
        batch.drop_column("failure_reason")
    with op.batch_alter_table("kyc_documents") as batch:
        batch.drop_constraint(op.f("ck_kyc_documents_refusalreason"), type_="check")
        batch.drop_column("refusal_message")
        batch.drop_column("refusal_reason")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("validation_message")
        batch.drop_column("validation_reasons")
