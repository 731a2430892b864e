"""ledger, payments, documents, events, idempotency

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:35:37.355822
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

from gateway.store.column_types import UTCDateTime  # noqa: F401


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(name="eventtype", native_enum=False, create_constraint=False, length=64),
            nullable=False,
        ),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("counterpart_user_id", sa.Uuid(), nullable=True),
        sa.Column("previous_status", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("sequence > 0", name=op.f("ck_events_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_events_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_events_platform_id_id")),
        sa.UniqueConstraint("platform_id", "sequence", name=op.f("uq_events_platform_id_sequence")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_object_id", ["object_id"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=True),
        sa.Column("rejection", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_idempotency_records_platform_id_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint(
            "platform_id", "key", name=op.f("uq_idempotency_records_platform_id_key")
        ),
    )
    op.create_table(
        "settlement_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_settlement_accounts_platform_id_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_accounts")),
        sa.UniqueConstraint(
            "platform_id", "currency", name=op.f("uq_settlement_accounts_platform_id_currency")
        ),
        sa.UniqueConstraint(
            "platform_id", "id", name=op.f("uq_settlement_accounts_platform_id_id")
        ),
    )
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id", "user_id"],
            ["users.platform_id", "users.id"],
            name=op.f("fk_bank_accounts_platform_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_bank_accounts_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_bank_accounts_platform_id_id")),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_bank_accounts_user_id", ["user_id"], unique=False)

    op.create_table(
        "kyc_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column(
            "type",
            sa.Enum(
                "IDENTITY_PROOF",
                "REGISTRATION_PROOF",
                "UBO_DECLARATION",
                "ARTICLES_OF_ASSOCIATION",
                "ADDRESS_PROOF",
                "PEP_DECLARATION",
                name="documenttype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "CREATED",
                "VALIDATION_ASKED",
                "VALIDATED",
                "REFUSED",
                name="documentstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("refused_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_kyc_documents_sha256_hex")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_kyc_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["platform_id", "person_id"],
            ["persons.platform_id", "persons.id"],
            name=op.f("fk_kyc_documents_platform_id_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "user_id"],
            ["users.platform_id", "users.id"],
            name=op.f("fk_kyc_documents_platform_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_kyc_documents_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_documents")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_kyc_documents_platform_id_id")),
    )
    with op.batch_alter_table("kyc_documents", schema=None) as batch_op:
        batch_op.create_index("ix_kyc_documents_user_id", ["user_id"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("settlement_account_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "TRANSFER_IN",
                "TRANSFER_OUT",
                "PAY_IN",
                "PAY_OUT",
                "PAY_OUT_RETURN",
                name="entrykind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("operation_type", sa.String(length=16), nullable=False),
        sa.Column("operation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(account_id IS NULL) <> (settlement_account_id IS NULL)",
            name=op.f("ck_ledger_entries_one_account"),
        ),
        sa.CheckConstraint(
            "account_id IS NULL OR balance_after >= 0",
            name=op.f("ck_ledger_entries_user_balance_not_negative"),
        ),
        sa.CheckConstraint(
            "account_id IS NULL OR balance_after <= 9007199254740991",
            name=op.f("ck_ledger_entries_user_balance_within_safe_range"),
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["platform_id", "account_id"],
            ["accounts.platform_id", "accounts.id"],
            name=op.f("fk_ledger_entries_platform_id_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "settlement_account_id"],
            ["settlement_accounts.platform_id", "settlement_accounts.id"],
            name=op.f("fk_ledger_entries_platform_id_settlement_account_id_settlement_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_ledger_entries_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_ledger_entries_platform_id_id")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_account_id", ["account_id", "id"], unique=False)
        batch_op.create_index("ix_ledger_entries_operation_id", ["operation_id"], unique=False)

    op.create_table(
        "mandates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("bank_account_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "CREATED",
                "ACTIVE",
                "FAILED",
                "CANCELED",
                name="mandatestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id", "bank_account_id"],
            ["bank_accounts.platform_id", "bank_accounts.id"],
            name=op.f("fk_mandates_platform_id_bank_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "user_id"],
            ["users.platform_id", "users.id"],
            name=op.f("fk_mandates_platform_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_mandates_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandates")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_mandates_platform_id_id")),
    )
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.create_index("ix_mandates_user_id", ["user_id"], unique=False)

    op.create_table(
        "pay_outs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("debited_account_id", sa.Uuid(), nullable=False),
        sa.Column("bank_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CREATED",
                "PENDING",
                "SUCCEEDED",
                "FAILED",
                name="payoutstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_pay_outs_amount_positive")),
        sa.ForeignKeyConstraint(
            ["platform_id", "bank_account_id"],
            ["bank_accounts.platform_id", "bank_accounts.id"],
            name=op.f("fk_pay_outs_platform_id_bank_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "debited_account_id"],
            ["accounts.platform_id", "accounts.id"],
            name=op.f("fk_pay_outs_platform_id_debited_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_pay_outs_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_outs")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_pay_outs_platform_id_id")),
    )
    with op.batch_alter_table("pay_outs", schema=None) as batch_op:
        batch_op.create_index("ix_pay_outs_platform_id", ["platform_id", "id"], unique=False)
        batch_op.create_index("ix_pay_outs_status", ["status"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("debited_account_id", sa.Uuid(), nullable=False),
        sa.Column("credited_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "SUCCEEDED",
                name="transferstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfers_amount_positive")),
        sa.CheckConstraint(
            "debited_account_id <> credited_account_id", name=op.f("ck_transfers_two_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "credited_account_id"],
            ["accounts.platform_id", "accounts.id"],
            name=op.f("fk_transfers_platform_id_credited_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "debited_account_id"],
            ["accounts.platform_id", "accounts.id"],
            name=op.f("fk_transfers_platform_id_debited_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_transfers_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_transfers_platform_id_id")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_platform_id", ["platform_id", "id"], unique=False)

    op.create_table(
        "pay_ins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("credited_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "BANK_WIRE",
                "DIRECT_DEBIT",
                name="payinmethod",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("mandate_id", sa.Uuid(), nullable=True),
        sa.Column("wire_reference", sa.String(length=35), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CREATED",
                "PENDING",
                "SUCCEEDED",
                "FAILED",
                name="payinstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(method = 'DIRECT_DEBIT') = (mandate_id IS NOT NULL)",
            name=op.f("ck_pay_ins_mandate_iff_direct_debit"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_pay_ins_amount_positive")),
        sa.ForeignKeyConstraint(
            ["platform_id", "credited_account_id"],
            ["accounts.platform_id", "accounts.id"],
            name=op.f("fk_pay_ins_platform_id_credited_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "mandate_id"],
            ["mandates.platform_id", "mandates.id"],
            name=op.f("fk_pay_ins_platform_id_mandate_id_mandates"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_pay_ins_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_ins")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_pay_ins_platform_id_id")),
    )
    with op.batch_alter_table("pay_ins", schema=None) as batch_op:
        batch_op.create_index("ix_pay_ins_platform_id", ["platform_id", "id"], unique=False)
        batch_op.create_index("ix_pay_ins_status", ["status"], unique=False)

    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("event_sequence", sa.BigInteger(), nullable=False, server_default="0")
        )
    _refuse_changes("ledger_entries")
    _refuse_changes("events")


IMMUTABLE_MESSAGE = "rows of %s are immutable: write a new row instead"


def _refuse_changes(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on an append-only table."""
    message = IMMUTABLE_MESSAGE % table
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION refuse_change_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION refuse_change_{table}()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION refuse_change_{table}()")
        return
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER {table}_no_{action}")


def downgrade() -> None:
    _allow_changes("events")
    _allow_changes("ledger_entries")
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.drop_column("event_sequence")

    with op.batch_alter_table("pay_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_pay_ins_status")
        batch_op.drop_index("ix_pay_ins_platform_id")

    op.drop_table("pay_ins")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_platform_id")

    op.drop_table("transfers")
    with op.batch_alter_table("pay_outs", schema=None) as batch_op:
        batch_op.drop_index("ix_pay_outs_status")
        batch_op.drop_index("ix_pay_outs_platform_id")

    op.drop_table("pay_outs")
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_index("ix_mandates_user_id")

    op.drop_table("mandates")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_operation_id")
        batch_op.drop_index("ix_ledger_entries_account_id")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("kyc_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_kyc_documents_user_id")

    op.drop_table("kyc_documents")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_accounts_user_id")

    op.drop_table("bank_accounts")
    op.drop_table("settlement_accounts")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_object_id")

    op.drop_table("events")
