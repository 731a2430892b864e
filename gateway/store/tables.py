"""SQLModel tables of the MPS model.

Every row carries its platform id, and every reference to another row names the platform too
(composite foreign keys on `(platform_id, id)`), so the database itself refuses a row that would
link two platforms. Uniqueness rules of the model live here as constraints:

- a user's e-mail is unique within its platform, compared case-insensitively (`email_key`);
- a user's login is unique within its platform;
- a user has exactly one holder person (partial unique index);
- an API key's public prefix is unique, and only its SHA-256 digest is stored;
- an account balance never goes below zero, and with the pay-outs in flight that may come
  back (`reserved`) never above 2**53 - 1, the largest amount the API carries exactly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.domain.enums import (
    AccountStatus,
    ActorKind,
    ApiKeyRole,
    DocumentStatus,
    DocumentType,
    Environment,
    PersonKind,
    RefusalReason,
    UserKind,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.column_types import UTCDateTime, utcnow

Model = SQLModel  # the base of every table: what generic code over rows is bound to
metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(enum_type: type[Any]) -> Any:
    """Enums stored as their names in a plain string column (no native DB enum to migrate)."""
    return sa.Enum(enum_type, native_enum=False, create_constraint=True, length=32)


def _unchecked_enum(enum_type: type[Any]) -> Any:
    """An enum column without a CHECK: columns added to append-only tables (a CHECK would make
    SQLite rebuild the table, and its triggers with it); the values come from code only."""
    return sa.Enum(enum_type, native_enum=False, create_constraint=False, length=16)


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ActorColumns(SQLModel):
    """Who made a change (gateway.domain.credentials.Actor): on every event, ledger entry and
    idempotency record. `actor_key_id` is the API key that called (for a user, the key that
    issued its token), `actor_user_id` the user acting through a token."""

    actor_kind: ActorKind = Field(
        default=ActorKind.SYSTEM,
        sa_type=_unchecked_enum(ActorKind),
        sa_column_kwargs={"server_default": ActorKind.SYSTEM.value},
    )
    actor_key_id: uuid.UUID | None = None
    actor_role: ApiKeyRole | None = Field(default=None, sa_type=_unchecked_enum(ApiKeyRole))
    actor_user_id: uuid.UUID | None = None


class Platform(SQLModel, table=True):
    __tablename__ = "platforms"

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=200)
    environment: Environment = Field(sa_type=_enum(Environment))
    allowed_currencies: list[str] = Field(sa_type=sa.JSON, default_factory=lambda: ["EUR"])
    created_at: dt.datetime = _created_at()
    event_sequence: int = Field(sa_type=sa.BigInteger, default=0)  # last event's sequence
    # HMAC key signing the platform's user tokens, made on first use; never shown or logged.
    user_token_secret: str | None = Field(default=None, max_length=128)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id", index=True)
    prefix: str = Field(max_length=64, unique=True)
    digest: str = Field(max_length=64)
    label: str | None = Field(default=None, max_length=200)
    role: ApiKeyRole = Field(
        default=ApiKeyRole.BACKEND,
        sa_type=_enum(ApiKeyRole),
        sa_column_kwargs={"server_default": ApiKeyRole.BACKEND.value},
    )
    created_at: dt.datetime = _created_at()
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.UniqueConstraint("platform_id", "email_key"),
        sa.UniqueConstraint("platform_id", "login"),
        sa.CheckConstraint("email_key = lower(email)", name="email_key_is_lower_email"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254)
    login: str = Field(max_length=100)
    kind: UserKind = Field(sa_type=_enum(UserKind))
    status: UserStatus = Field(sa_type=_enum(UserStatus))
    validation_status: ValidationStatus = Field(sa_type=_enum(ValidationStatus))
    qualified_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()
    # User tokens issued at or before this instant are refused (revokeUserTokens).
    tokens_valid_after: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why an operator blocked the user (blockUser); cleared when it is unblocked.
    blocked_reason: str | None = Field(default=None, max_length=500)
    # The last validation decision's reasons (RefusalReason names) and free message.
    validation_reasons: list[str] | None = Field(default=None, sa_type=sa.JSON)
    validation_message: str | None = Field(default=None, max_length=500)


class Person(SQLModel, table=True):
    __tablename__ = "persons"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(["platform_id", "user_id"], ["users.platform_id", "users.id"]),
        sa.ForeignKeyConstraint(
            ["platform_id", "parent_id"], ["persons.platform_id", "persons.id"]
        ),
        sa.Index(
            "uq_persons_one_holder_per_user",
            "user_id",
            unique=True,
            sqlite_where=sa.text("is_holder"),
            postgresql_where=sa.text("is_holder"),
        ),
        sa.Index("ix_persons_user_id", "user_id"),
        sa.CheckConstraint(
            "kind <> 'NATURAL' OR (first_name IS NOT NULL AND last_name IS NOT NULL"
            " AND birth_date IS NOT NULL)",
            name="natural_person_has_names",
        ),
        sa.CheckConstraint(
            "kind <> 'LEGAL' OR (legal_name IS NOT NULL AND category IS NOT NULL"
            " AND is_holder AND parent_id IS NULL)",
            name="legal_person_is_a_holder",
        ),
        sa.CheckConstraint(
            "ownership_percentage IS NULL OR"
            " (ownership_percentage > 0 AND ownership_percentage <= 100)",
            name="ownership_percentage_range",
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    user_id: uuid.UUID
    kind: PersonKind = Field(sa_type=_enum(PersonKind))
    is_holder: bool
    parent_id: uuid.UUID | None = None
    roles: list[str] = Field(sa_type=sa.JSON, default_factory=list)
    is_user_representative: bool = False
    ownership_percentage: float | None = None
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    birth_date: dt.date | None = None
    legal_name: str | None = Field(default=None, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    registration_number: str | None = Field(default=None, max_length=100)
    nationality: str = Field(max_length=2)
    address_line1: str = Field(max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    address_postal_code: str = Field(max_length=20)
    address_city: str = Field(max_length=100)
    address_region: str | None = Field(default=None, max_length=100)
    address_country: str = Field(max_length=2)
    created_at: dt.datetime = _created_at()


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(["platform_id", "user_id"], ["users.platform_id", "users.id"]),
        sa.Index("ix_accounts_user_id", "user_id"),
        sa.Index("ix_accounts_platform_id", "platform_id"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint(
            f"balance + reserved <= {MINOR_UNITS_MAX}", name="balance_within_safe_range"
        ),
        sa.CheckConstraint("length(currency) = 3", name="currency_alpha_3"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    user_id: uuid.UUID
    currency: str = Field(max_length=3)
    label: str | None = Field(default=None, max_length=200)
    status: AccountStatus = Field(sa_type=_enum(AccountStatus))
    balance: int = Field(sa_type=sa.BigInteger, default=0)
    # Pay-outs in flight: they may come back, so credits leave room for them under the cap.
    reserved: int = Field(sa_type=sa.BigInteger, default=0)
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()


class KycDocument(SQLModel, table=True):
    """A KYC document's metadata; the file itself lives in the document store, named by id."""

    __tablename__ = "kyc_documents"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(["platform_id", "user_id"], ["users.platform_id", "users.id"]),
        sa.ForeignKeyConstraint(
            ["platform_id", "person_id"], ["persons.platform_id", "persons.id"]
        ),
        sa.Index("ix_kyc_documents_user_id", "user_id"),
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    user_id: uuid.UUID
    person_id: uuid.UUID | None = None
    type: DocumentType = Field(sa_type=_enum(DocumentType))
    status: DocumentStatus = Field(sa_type=_enum(DocumentStatus))
    file_name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    refused_reason: str | None = Field(default=None, max_length=500)  # text shown to people
    refusal_reason: RefusalReason | None = Field(default=None, sa_type=_enum(RefusalReason))
    refusal_message: str | None = Field(default=None, max_length=500)
    # The day the document stops being valid (an identity card's end date): from that day on
    # a VALIDATED document goes OUT_OF_DATE (services/document_expiry.py).
    expires_on: dt.date | None = None
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()
