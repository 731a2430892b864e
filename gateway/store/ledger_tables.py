"""Money tables: the double-entry ledger and the operations it records.

Invariants, checked here by the database and again by the services and the tests:

- every movement writes entries whose signed amounts sum to zero per currency (a transfer:
  -x on the debited account, +x on the credited one; pay-ins and pay-outs balance against the
  platform's settlement account for that currency, which may go negative);
- an entry is never zero, never updated and never deleted (triggers refuse both; a correction
  is a new movement);
- a user account's stored balance equals the sum of its entries and never goes below zero;
- amounts of operations are strictly positive, and a transfer names two different accounts;
- a fee is taken out of its operation's amount (0 <= fee < amount) and credited to the
  platform's fee account for the currency, which never goes below zero;
- an entry lands on exactly one of a user account, a settlement account or a fee account;
- a reversal takes back at most what its transfer credited, a refund at most what its pay-in
  credited (the services check the sums under a lock on the transfer or pay-in row).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from gateway.domain.enums import (
    EntryKind,
    MandateStatus,
    PayInMethod,
    PayInStatus,
    PayOutStatus,
    RefundStatus,
    TransferStatus,
)
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.tables import ActorColumns, _created_at, _enum


def _account_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["platform_id", column], ["accounts.platform_id", "accounts.id"])


class SettlementAccount(SQLModel, table=True):
    """The platform's counterpart of pay-ins and pay-outs in one currency; may go negative."""

    __tablename__ = "settlement_accounts"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "currency"),
        sa.UniqueConstraint("platform_id", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    currency: str = Field(max_length=3)
    balance: int = Field(sa_type=sa.BigInteger, default=0)
    created_at: dt.datetime = _created_at()


class FeeAccount(SQLModel, table=True):
    """The platform's fees in one currency, created on first use; never below zero."""

    __tablename__ = "fee_accounts"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "currency"),
        sa.UniqueConstraint("platform_id", "id"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    currency: str = Field(max_length=3)
    balance: int = Field(sa_type=sa.BigInteger, default=0)
    created_at: dt.datetime = _created_at()


def _fee() -> Any:
    """What the platform takes out of the operation's amount (0: no fee)."""
    return Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})


# Exactly one of the three places an entry may land (portable: no boolean arithmetic).
ONE_ACCOUNT = (
    " + ".join(
        f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
        for column in ("account_id", "settlement_account_id", "fee_account_id")
    )
    + " = 1"
)


class LedgerEntry(ActorColumns, table=True):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        _account_fk("account_id"),
        sa.ForeignKeyConstraint(
            ["platform_id", "settlement_account_id"],
            ["settlement_accounts.platform_id", "settlement_accounts.id"],
        ),
        sa.Index("ix_ledger_entries_account_id", "account_id", "id"),
        sa.Index("ix_ledger_entries_account_created", "account_id", "created_at", "id"),
        sa.Index("ix_ledger_entries_operation_id", "operation_id"),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.ForeignKeyConstraint(
            ["platform_id", "fee_account_id"], ["fee_accounts.platform_id", "fee_accounts.id"]
        ),
        sa.CheckConstraint(ONE_ACCOUNT, name="one_account"),
        sa.CheckConstraint(
            "account_id IS NULL OR balance_after >= 0", name="user_balance_not_negative"
        ),
        sa.CheckConstraint(
            f"account_id IS NULL OR balance_after <= {MINOR_UNITS_MAX}",
            name="user_balance_within_safe_range",
        ),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    account_id: uuid.UUID | None = None
    settlement_account_id: uuid.UUID | None = None
    fee_account_id: uuid.UUID | None = None
    currency: str = Field(max_length=3)
    kind: EntryKind = Field(sa_type=_enum(EntryKind))
    amount: int = Field(sa_type=sa.BigInteger)
    balance_after: int = Field(sa_type=sa.BigInteger)
    operation_type: str = Field(max_length=16)  # the operation's table (and node type) name
    operation_id: uuid.UUID
    created_at: dt.datetime = _created_at()


class Transfer(SQLModel, table=True):
    __tablename__ = "transfers"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        _account_fk("debited_account_id"),
        _account_fk("credited_account_id"),
        sa.Index("ix_transfers_platform_id", "platform_id", "id"),
        sa.Index("ix_transfers_platform_created", "platform_id", "created_at", "id"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("debited_account_id <> credited_account_id", name="two_accounts"),
        sa.CheckConstraint("fee >= 0 AND fee < amount", name="fee_within_amount"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    debited_account_id: uuid.UUID
    credited_account_id: uuid.UUID
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    fee: int = _fee()
    label: str | None = Field(default=None, max_length=200)
    status: TransferStatus = Field(sa_type=_enum(TransferStatus))
    created_at: dt.datetime = _created_at()


class BankAccount(SQLModel, table=True):
    __tablename__ = "bank_accounts"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(["platform_id", "user_id"], ["users.platform_id", "users.id"]),
        sa.Index("ix_bank_accounts_user_id", "user_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    user_id: uuid.UUID
    owner_name: str = Field(max_length=200)
    iban: str = Field(max_length=34)
    bic: str | None = Field(default=None, max_length=11)
    created_at: dt.datetime = _created_at()


class DirectDebitMandate(SQLModel, table=True):
    __tablename__ = "mandates"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(["platform_id", "user_id"], ["users.platform_id", "users.id"]),
        sa.ForeignKeyConstraint(
            ["platform_id", "bank_account_id"], ["bank_accounts.platform_id", "bank_accounts.id"]
        ),
        sa.Index("ix_mandates_user_id", "user_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    user_id: uuid.UUID
    bank_account_id: uuid.UUID
    status: MandateStatus = Field(sa_type=_enum(MandateStatus))
    failure_reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()


class PayIn(SQLModel, table=True):
    __tablename__ = "pay_ins"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        _account_fk("credited_account_id"),
        sa.ForeignKeyConstraint(
            ["platform_id", "mandate_id"], ["mandates.platform_id", "mandates.id"]
        ),
        sa.Index("ix_pay_ins_platform_id", "platform_id", "id"),
        sa.Index("ix_pay_ins_platform_created", "platform_id", "created_at", "id"),
        sa.Index("ix_pay_ins_status", "status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "(method = 'DIRECT_DEBIT') = (mandate_id IS NOT NULL)", name="mandate_iff_direct_debit"
        ),
        sa.CheckConstraint(
            "amount_received IS NULL OR amount_received > 0", name="amount_received_positive"
        ),
        sa.CheckConstraint("fee >= 0 AND fee < amount", name="fee_within_amount"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    credited_account_id: uuid.UUID
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    fee: int = _fee()
    method: PayInMethod = Field(sa_type=_enum(PayInMethod))
    mandate_id: uuid.UUID | None = None
    wire_reference: str | None = Field(default=None, max_length=35)
    status: PayInStatus = Field(sa_type=_enum(PayInStatus))
    failure_reason: str | None = Field(default=None, max_length=500)
    # A recorded wire: what arrived (same currency; credited instead of `amount`), when the
    # bank booked it, and the bank's own reference of the transaction.
    amount_received: int | None = Field(default=None, sa_type=sa.BigInteger)
    value_date: dt.date | None = None
    bank_reference: str | None = Field(default=None, max_length=100)
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()


class PayOut(SQLModel, table=True):
    __tablename__ = "pay_outs"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        _account_fk("debited_account_id"),
        sa.ForeignKeyConstraint(
            ["platform_id", "bank_account_id"], ["bank_accounts.platform_id", "bank_accounts.id"]
        ),
        sa.Index("ix_pay_outs_platform_id", "platform_id", "id"),
        sa.Index("ix_pay_outs_platform_created", "platform_id", "created_at", "id"),
        sa.Index("ix_pay_outs_status", "status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("fee >= 0 AND fee < amount", name="fee_within_amount"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    debited_account_id: uuid.UUID
    bank_account_id: uuid.UUID
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    fee: int = _fee()
    label: str | None = Field(default=None, max_length=200)
    status: PayOutStatus = Field(sa_type=_enum(PayOutStatus))
    failure_reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()


class TransferReversal(SQLModel, table=True):
    """All or part of a transfer moved back: from its credited account to its debited one,
    with the transfer's fee when `fee_refunded` > 0. Immediate, like a transfer."""

    __tablename__ = "transfer_reversals"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(
            ["platform_id", "transfer_id"], ["transfers.platform_id", "transfers.id"]
        ),
        sa.Index("ix_transfer_reversals_transfer_id", "transfer_id", "id"),
        sa.Index("ix_transfer_reversals_platform_id", "platform_id", "id"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("fee_refunded >= 0", name="fee_refunded_not_negative"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    transfer_id: uuid.UUID
    amount: int = Field(sa_type=sa.BigInteger)
    fee_refunded: int = Field(default=0, sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    label: str | None = Field(default=None, max_length=200)
    status: TransferStatus = Field(sa_type=_enum(TransferStatus))
    created_at: dt.datetime = _created_at()


class Refund(SQLModel, table=True):
    """Funds of a SUCCEEDED pay-in sent back to the payer: a pay-out of its own, debited from
    the pay-in's account when created, given back if it fails."""

    __tablename__ = "refunds"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "id"),
        sa.ForeignKeyConstraint(
            ["platform_id", "pay_in_id"], ["pay_ins.platform_id", "pay_ins.id"]
        ),
        _account_fk("debited_account_id"),
        sa.Index("ix_refunds_pay_in_id", "pay_in_id", "id"),
        sa.Index("ix_refunds_platform_id", "platform_id", "id"),
        sa.Index("ix_refunds_status", "status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("fee_refunded >= 0", name="fee_refunded_not_negative"),
    )

    id: uuid.UUID = Field(primary_key=True)
    platform_id: uuid.UUID = Field(foreign_key="platforms.id")
    pay_in_id: uuid.UUID
    debited_account_id: uuid.UUID  # the pay-in's credited account
    amount: int = Field(sa_type=sa.BigInteger)
    fee_refunded: int = Field(default=0, sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    status: RefundStatus = Field(sa_type=_enum(RefundStatus))
    failure_reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = _created_at()
    updated_at: dt.datetime = _created_at()
