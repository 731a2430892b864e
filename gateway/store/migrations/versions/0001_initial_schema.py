"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:22:24.499201
"""

from collections.abc import Sequence

import sqlalchemy as sa
from gateway.store.column_types import UTCDateTime
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platforms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "environment",
            sa.Enum(
                "SANDBOX",
                "PRODUCTION",
                name="environment",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("allowed_currencies", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_api_keys_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "NATURAL",
                "LEGAL",
                name="userkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "BLOCKED",
                "CLOSED",
                name="userstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "validation_status",
            sa.Enum(
                "NOT_SUBMITTED",
                "PENDING",
                "WAITING_FOR_INFORMATION",
                "VALIDATED",
                "REFUSED",
                name="validationstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("qualified_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "email_key = lower(email)", name=op.f("ck_users_email_key_is_lower_email")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_users_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint(
            "platform_id", "email_key", name=op.f("uq_users_platform_id_email_key")
        ),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_users_platform_id_id")),
        sa.UniqueConstraint("platform_id", "login", name=op.f("uq_users_platform_id_login")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CREATED",
                "VALIDATED",
                "BLOCKED",
                "CLOSED",
                name="accountstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_accounts_balance_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_accounts_reserved_not_negative")),
        sa.CheckConstraint(
            "balance + reserved <= 9007199254740991",
            name=op.f("ck_accounts_balance_within_safe_range"),
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_accounts_currency_alpha_3")),
        sa.ForeignKeyConstraint(
            ["platform_id", "user_id"],
            ["users.platform_id", "users.id"],
            name=op.f("fk_accounts_platform_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_accounts_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_accounts_platform_id_id")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_platform_id", ["platform_id"], unique=False)
        batch_op.create_index("ix_accounts_user_id", ["user_id"], unique=False)

    op.create_table(
        "persons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "NATURAL",
                "LEGAL",
                name="personkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_holder", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("is_user_representative", sa.Boolean(), nullable=False),
        sa.Column("ownership_percentage", sa.Float(), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("legal_name", sa.String(length=300), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("registration_number", sa.String(length=100), nullable=True),
        sa.Column("nationality", sa.String(length=2), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=False),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("address_postal_code", sa.String(length=20), nullable=False),
        sa.Column("address_city", sa.String(length=100), nullable=False),
        sa.Column("address_region", sa.String(length=100), nullable=True),
        sa.Column("address_country", sa.String(length=2), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind <> 'LEGAL' OR (legal_name IS NOT NULL AND category IS NOT NULL AND is_holder AND parent_id IS NULL)",
            name=op.f("ck_persons_legal_person_is_a_holder"),
        ),
        sa.CheckConstraint(
            "kind <> 'NATURAL' OR (first_name IS NOT NULL AND last_name IS NOT NULL AND birth_date IS NOT NULL)",
            name=op.f("ck_persons_natural_person_has_names"),
        ),
        sa.CheckConstraint(
            "ownership_percentage IS NULL OR (ownership_percentage > 0 AND ownership_percentage <= 100)",
            name=op.f("ck_persons_ownership_percentage_range"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "parent_id"],
            ["persons.platform_id", "persons.id"],
            name=op.f("fk_persons_platform_id_parent_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id", "user_id"],
            ["users.platform_id", "users.id"],
            name=op.f("fk_persons_platform_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_persons_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("platform_id", "id", name=op.f("uq_persons_platform_id_id")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_user_id", ["user_id"], unique=False)
        batch_op.create_index(
            "uq_persons_one_holder_per_user",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("is_holder"),
            postgresql_where=sa.text("is_holder"),
        )


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_persons_one_holder_per_user",
            sqlite_where=sa.text("is_holder"),
            postgresql_where=sa.text("is_holder"),
        )
        batch_op.drop_index("ix_persons_user_id")

    op.drop_table("persons")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_user_id")
        batch_op.drop_index("ix_accounts_platform_id")

    op.drop_table("accounts")
    op.drop_table("users")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_platform_id"))

    op.drop_table("api_keys")
    op.drop_table("platforms")
