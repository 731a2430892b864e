"""money back and fees: transfer reversals, pay-in refunds, the platform's fee accounts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:50:00.000000

- `fee_accounts` (one per platform and currency, never below zero), `transfer_reversals` and
  `refunds`;
- a `fee` column (0: none) on transfers, pay-ins and pay-outs, checked 0 <= fee < amount;
- ledger entries may land on a fee account (`fee_account_id`; exactly one of the three
  places), and take the new entry kinds. On SQLite a CHECK changes only by rebuilding the
  table, which drops the append-only triggers: they are created again right after.

The entry kinds are written out (not read from the code, which grows): those of 0008
(0007 added CHARGEBACK) and this revision's.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from gateway.store.column_types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEE_TABLES = ("transfers", "pay_ins", "pay_outs")
KINDS_BEFORE = ("TRANSFER_IN", "TRANSFER_OUT", "PAY_IN", "PAY_OUT", "PAY_OUT_RETURN", "CHARGEBACK")
KINDS_AFTER = (
    *KINDS_BEFORE,
    "TRANSFER_REVERSAL_OUT",
    "TRANSFER_REVERSAL_IN",
    "REFUND",
    "REFUND_RETURN",
    "FEE",
    "FEE_REFUND",
)
ONE_OF_TWO = "(account_id IS NULL) <> (settlement_account_id IS NULL)"
ONE_OF_THREE = (
    " + ".join(
        f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
        for column in ("account_id", "settlement_account_id", "fee_account_id")
    )
    + " = 1"
)
IMMUTABLE_MESSAGE = "rows of %s are immutable: write a new row instead"


def _kinds(values: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    _create_fee_accounts()
    for table in FEE_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("fee", sa.BigInteger(), nullable=False, server_default="0")
            )
            batch.create_check_constraint("fee_within_amount", "fee >= 0 AND fee < amount")
    _create_transfer_reversals()
    _create_refunds()
    _alter_ledger_entries(ONE_OF_THREE, KINDS_AFTER, add=True)


def _create_fee_accounts() -> None:
    op.create_table(
        "fee_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_fee_accounts_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_fee_accounts_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_accounts")),
        sa.UniqueConstraint(
            "platform_id", "currency", name=op.f("uq_fee_accounts_platform_id_currency")
        ),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_fee_accounts_platform_id_id")),
    )


def _status(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _create_transfer_reversals() -> None:
    op.create_table(
        "transfer_reversals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_refunded", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("status", _status("transferstatus", ["SUCCEEDED"]), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfer_reversals_amount_positive")),
        sa.CheckConstraint(
            "fee_refunded >= 0", name=op.f("ck_transfer_reversals_fee_refunded_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "transfer_id"],
            ["transfers.platform_id", "transfers.id"],
            name=op.f("fk_transfer_reversals_platform_id_transfer_id_transfers"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_transfer_reversals_platform_id_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_reversals")),
        sa.UniqueConstraint(
            "platform_id", "id", name=op.f("uq_transfer_reversals_platform_id_id")
        ),
    )
    with op.batch_alter_table("transfer_reversals") as batch:
        batch.create_index("ix_transfer_reversals_transfer_id", ["transfer_id", "id"])
        batch.create_index("ix_transfer_reversals_platform_id", ["platform_id", "id"])


def _create_refunds() -> None:
    statuses = ["CREATED", "PENDING", "SUCCEEDED", "FAILED"]
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("pay_in_id", sa.Uuid(), nullable=False),
        sa.Column("debited_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_refunded", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", _status("refundstatus", statuses), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.CheckConstraint(
            "fee_refunded >= 0", name=op.f("ck_refunds_fee_refunded_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "pay_in_id"],
            ["pay_ins.platform_id", "pay_ins.id"],
            name=op.f("fk_refunds_platform_id_pay_in_id_pay_ins"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "debited_account_id"],
            ["accounts.platform_id", "accounts.id"],
            name=op.f("fk_refunds_platform_id_debited_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_refunds_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_refunds_platform_id_id")),
    )
    with op.batch_alter_table("refunds") as batch:
        batch.create_index("ix_refunds_pay_in_id", ["pay_in_id", "id"])
        batch.create_index("ix_refunds_platform_id", ["platform_id", "id"])
        batch.create_index("ix_refunds_status", ["status"])


def _alter_ledger_entries(one_account: str, kinds: Sequence[str], *, add: bool) -> None:
    """Swap the two CHECKs (and add or drop `fee_account_id` with its foreign key)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("ledger_entries", recreate="always" if sqlite else "auto") as batch:
        if add:
            batch.add_column(sa.Column("fee_account_id", sa.Uuid(), nullable=True))
            batch.create_foreign_key(
                op.f("fk_ledger_entries_platform_id_fee_account_id_fee_accounts"),
                "fee_accounts",
                ["platform_id", "fee_account_id"],
                ["platform_id", "id"],
            )
        else:
            batch.drop_constraint(
                op.f("fk_ledger_entries_platform_id_fee_account_id_fee_accounts"),
                type_="foreignkey",
            )
        batch.drop_constraint(op.f("ck_ledger_entries_one_account"), type_="check")
        batch.drop_constraint(op.f("ck_ledger_entries_entrykind"), type_="check")
        if not add:
            batch.drop_column("fee_account_id")
        batch.create_check_constraint("one_account", one_account)
        batch.create_check_constraint("entrykind", _kinds(kinds))
    if sqlite:  # the rebuilt table lost its triggers
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_entries_no_{action.lower()} BEFORE {action}"
                " ON ledger_entries BEGIN SELECT RAISE(ABORT,"
                f" '{IMMUTABLE_MESSAGE % 'ledger_entries'}'); END"
            )


def downgrade() -> None:
    _alter_ledger_entries(ONE_OF_TWO, KINDS_BEFORE, add=False)
    op.drop_table("refunds")
    op.drop_table("transfer_reversals")
    for table in FEE_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_fee_within_amount"), type_="check")
            batch.drop_column("fee")
    op.drop_table("fee_accounts")
