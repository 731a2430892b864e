"""The database refuses what the ledger services must never write (fees and reversals
included)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col

from gateway.domain.enums import EntryKind, TransferStatus
from gateway.domain.ids import new_id
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.accounts import BalanceGuardRefused
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.ledger_tables import FeeAccount, LedgerEntry, Transfer, TransferReversal
from gateway.store.tables import Account
from gateway.store.transfers import move_transfer_balances
from tests.conftest import make_platform


async def _account(db: Database) -> tuple[uuid.UUID, Account]:
    handle = await make_platform(db, natural_users=1, accounts_per_user=1)
    async with db.session() as session:
        account = (
            await session.scalars(sa.select(Account).where(col(Account.platform_id) == handle.id))
        ).one()
    return handle.id, account


def _entry(platform_id: uuid.UUID, account: Account, **changes: Any) -> LedgerEntry:
    fields: dict[str, Any] = {
        "id": new_id(),
        "platform_id": platform_id,
        "account_id": account.id,
        "currency": "EUR",
        "kind": EntryKind.PAY_IN,
        "amount": 5,
        "balance_after": 5,
        "operation_type": "PayIn",
        "operation_id": new_id(),
    }
    fields.update(changes)
    return LedgerEntry(**fields)


async def _insert(db: Database, row: Any) -> None:
    async with db.transaction() as session:
        session.add(row)


async def test_ledger_entries_can_be_neither_updated_nor_deleted(db: Database) -> None:
    _, account = await _account(db)
    async with db.session() as session:
        entry_id = (
            await session.scalars(
                sa.select(col(LedgerEntry.id)).where(col(LedgerEntry.account_id) == account.id)
            )
        ).first()
    assert entry_id is not None
    with pytest.raises(DBAPIError, match="immutable"):
        async with db.transaction() as session:
            await session.execute(
                sa.update(LedgerEntry).where(col(LedgerEntry.id) == entry_id).values(amount=1)
            )
    with pytest.raises(DBAPIError, match="immutable"):
        async with db.transaction() as session:
            await session.execute(sa.delete(LedgerEntry).where(col(LedgerEntry.id) == entry_id))


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 0},
        {"balance_after": -1},
        {"account_id": None},
        {"settlement_account_id": None, "account_id": None},
    ],
)
async def test_an_entry_is_non_zero_on_exactly_one_account_and_never_below_zero(
    db: Database, changes: dict[str, Any]
) -> None:
    platform_id, account = await _account(db)
    with pytest.raises(IntegrityError):
        await _insert(db, _entry(platform_id, account, **changes))


@pytest.mark.parametrize("changes", [{"amount": 0}, {"amount": -5}, {"same_account": True}])
async def test_a_transfer_moves_a_positive_amount_between_two_accounts(
    db: Database, changes: dict[str, Any]
) -> None:
    platform_id, account = await _account(db)
    other = Account(
        id=new_id(),
        platform_id=platform_id,
        user_id=account.user_id,
        currency="EUR",
        status=account.status,
    )
    await _insert(db, other)
    same = changes.get("same_account", False)
    transfer = Transfer(
        id=new_id(),
        platform_id=platform_id,
        debited_account_id=account.id,
        credited_account_id=account.id if same else other.id,
        amount=changes.get("amount", 5),
        currency="EUR",
        status=TransferStatus.SUCCEEDED,
    )
    with pytest.raises(IntegrityError):
        await _insert(db, transfer)


async def _second_account(db: Database, platform_id: uuid.UUID, account: Account) -> Account:
    other = Account(
        id=new_id(),
        platform_id=platform_id,
        user_id=account.user_id,
        currency="EUR",
        status=account.status,
    )
    await _insert(db, other)
    return other


async def test_a_fee_account_never_goes_below_zero(db: Database) -> None:
    platform_id, _ = await _account(db)
    below = FeeAccount(id=new_id(), platform_id=platform_id, currency="EUR", balance=-1)
    with pytest.raises(IntegrityError):
        await _insert(db, below)


async def test_an_entry_lands_on_a_fee_account_alone(db: Database) -> None:
    platform_id, account = await _account(db)
    fee_account = FeeAccount(id=new_id(), platform_id=platform_id, currency="EUR", balance=0)
    await _insert(db, fee_account)
    fee = {"fee_account_id": fee_account.id, "kind": EntryKind.FEE}
    await _insert(db, _entry(platform_id, account, account_id=None, **fee))
    with pytest.raises(IntegrityError):
        await _insert(db, _entry(platform_id, account, **fee))


@pytest.mark.parametrize("fee", [5, 6, -1])
async def test_a_fee_stays_below_its_operations_amount(db: Database, fee: int) -> None:
    platform_id, account = await _account(db)
    other = await _second_account(db, platform_id, account)
    transfer = Transfer(
        id=new_id(),
        platform_id=platform_id,
        debited_account_id=account.id,
        credited_account_id=other.id,
        amount=5,
        fee=fee,
        currency="EUR",
        status=TransferStatus.SUCCEEDED,
    )
    with pytest.raises(IntegrityError):
        await _insert(db, transfer)
    await _insert(db, Transfer(**{**transfer.model_dump(), "id": new_id(), "fee": 4}))


async def test_a_reversal_moves_a_positive_amount(db: Database) -> None:
    platform_id, account = await _account(db)
    other = await _second_account(db, platform_id, account)
    transfer = Transfer(
        id=new_id(),
        platform_id=platform_id,
        debited_account_id=account.id,
        credited_account_id=other.id,
        amount=5,
        currency="EUR",
        status=TransferStatus.SUCCEEDED,
    )
    await _insert(db, transfer)
    reversal = TransferReversal(
        id=new_id(),
        platform_id=platform_id,
        transfer_id=transfer.id,
        amount=0,
        currency="EUR",
        status=TransferStatus.SUCCEEDED,
    )
    with pytest.raises(IntegrityError):
        await _insert(db, reversal)


async def _two_accounts(db: Database) -> tuple[Account, Account]:
    handle = await make_platform(db, natural_users=2, accounts_per_user=1)
    async with db.session() as session:
        found = await session.scalars(
            sa.select(Account).where(col(Account.platform_id) == handle.id)
        )
        payer, payee = found.all()
    return payer, payee


async def _balances(db: Database, *accounts: Account) -> list[int]:
    ids = [account.id for account in accounts]
    async with db.session() as session:
        found = await session.execute(
            sa.select(col(Account.id), col(Account.balance)).where(col(Account.id).in_(ids))
        )
        balances = dict(found.all())
    return [balances[id] for id in ids]


@pytest.mark.parametrize("too_much", ["debit", "credit"])
async def test_a_transfers_balances_move_together_or_the_guard_is_reported(
    db: Database, too_much: str
) -> None:
    """The transfer's one UPDATE of both balances keeps the guards of `move_balance`; when one
    refuses, it says so, and the caller's transaction (rolled back) leaves both as they were."""
    payer, payee = await _two_accounts(db)
    debit = -(payer.balance + 1) if too_much == "debit" else -1
    credit = MINOR_UNITS_MAX if too_much == "credit" else 1
    with pytest.raises(BalanceGuardRefused):
        async with db.transaction() as session:
            await move_transfer_balances(
                session,
                debited_id=payer.id,
                credited_id=payee.id,
                debit=debit,
                credit=credit,
                now=utcnow(),
            )
    assert await _balances(db, payer, payee) == [payer.balance, payee.balance]

    async with db.transaction() as session:
        moved = await move_transfer_balances(
            session, debited_id=payer.id, credited_id=payee.id, debit=-1, credit=1, now=utcnow()
        )
    assert moved == (payer.balance - 1, payee.balance + 1)
    assert await _balances(db, payer, payee) == list(moved)
