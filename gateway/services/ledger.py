"""The double-entry ledger and transfers between accounts.

The legs of every movement sum to zero per currency: a transfer writes -x on the debited
account and +x on the credited one; a pay-in or pay-out balances a user account against the
platform's settlement account for the currency. A user account's balance moves only through
`post`, with a guarded UPDATE that refuses to go below zero, and each leg writes an immutable
entry carrying the balance after it. The database checks the same invariants again (CHECK
constraints, append-only triggers), and the tests check them after every concurrent run.

A movement may carry a platform fee, taken out of its amount and credited to the platform's
fee account for the currency in the same transaction (`post_fee`, entry FEE); a fee given back
(a reversal or refund with `refundFee`) is an entry FEE_REFUND, refused when the fee account
does not hold it. Fee accounts never go below zero. See services/fees.py, which writes the
fee legs.

Concurrency: the accounts of a movement are row-locked in id order before anything is read
for a decision (PostgreSQL), inside a BEGIN IMMEDIATE transaction (SQLite); so two movements
on the same accounts run one after the other and never overdraw, lose or double-count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gateway.domain.enums import AccountStatus, EntryKind, EventType, TransferStatus, UserStatus
from gateway.domain.errors import CurrencyMismatch, InsufficientFunds, InvalidState, NotFound
from gateway.domain.ids import new_id, parse_id
from gateway.domain.inputs import Checks, check_amount
from gateway.domain.money import MINOR_UNITS_MAX, Money
from gateway.services import fees
from gateway.services.lookups import object_id
from gateway.services.unit_of_work import Outcome, Tx, perform
from gateway.store import accounts as account_rows
from gateway.store import users
from gateway.store.engine import Database
from gateway.store.ledger_tables import LedgerEntry, Transfer
from gateway.store.tables import Account, Platform, User


@dataclass(frozen=True, slots=True)
class NewTransfer:
    debited_account_id: str
    credited_account_id: str
    amount: int
    currency: str
    idempotency_key: str
    label: str | None = None
    fee: int | None = None
    fee_currency: str | None = None


async def post(
    tx: Tx, account: Account, *, delta: int, kind: EntryKind, operation: Any
) -> LedgerEntry:
    """One leg on a user account: move its balance by `delta` and write the entry."""
    balance = await account_rows.move_balance(tx.session, account=account, delta=delta)
    if balance is None and delta > 0:
        raise InvalidState(
            f"The account's balance would exceed {MINOR_UNITS_MAX} minor units, the largest"
            " amount the API carries."
        )
    if balance is None:
        raise InsufficientFunds(
            "The account's balance does not cover this amount.",
            available=Money(account.balance, account.currency),
        )
    return tx.add_entry(
        where={"account_id": account.id},
        currency=account.currency,
        kind=kind,
        delta=delta,
        balance_after=balance,
        operation=operation,
    )


async def post_settlement(
    tx: Tx, *, currency: str, delta: int, kind: EntryKind, operation: Any
) -> LedgerEntry:
    """The platform's leg of a pay-in or pay-out, on its settlement account (may go negative)."""
    settlement = await account_rows.settlement_account(
        tx.session, platform_id=tx.platform_id, currency=currency
    )
    balance = await account_rows.move_settlement_balance(
        tx.session, settlement_account_id=settlement.id, delta=delta
    )
    return tx.add_entry(
        where={"settlement_account_id": settlement.id},
        currency=currency,
        kind=kind,
        delta=delta,
        balance_after=balance,
        operation=operation,
    )


async def users_of(tx: Tx, accounts: list[Account]) -> dict[uuid.UUID, User]:
    ids = list({account.user_id for account in accounts})
    return await users.users_by_ids(tx.session, platform_id=tx.platform_id, ids=ids)


def check_can_move_money(account: Account, user: User, role: str) -> None:
    """Blocked or closed accounts, and accounts of blocked or closed users, move nothing."""
    if account.status in (AccountStatus.BLOCKED, AccountStatus.CLOSED):
        raise InvalidState(f"The {role} account is {account.status.value.lower()}.")
    if user.status is not UserStatus.ACTIVE:
        raise InvalidState(f"The {role} account's user is {user.status.value.lower()}.")


async def check_currency_allowed(tx: Tx, currency: str, path: str) -> None:
    platform = await tx.session.get(Platform, tx.platform_id)
    assert platform is not None
    if currency not in platform.allowed_currencies:
        checks = Checks()
        checks.add(path, f"{currency} is not one of the platform's currencies.")
        checks.done()


def _check_transfer(new: NewTransfer) -> None:
    checks = Checks()
    check_amount(checks, "amount.amount", new.amount)
    checks.text("label", new.label, required=False)
    debited, credited = parse_id(new.debited_account_id), parse_id(new.credited_account_id)
    if new.debited_account_id == new.credited_account_id or (debited and debited == credited):
        checks.add("creditedAccountId", "Debited and credited accounts must differ.")
    fees.check_fee(checks, new.fee, new.amount)
    checks.done()


async def create_transfer(
    db: Database, *, platform_id: uuid.UUID, new: NewTransfer
) -> Outcome[Transfer]:
    """Move money between two accounts of the platform, immediately."""
    _check_transfer(new)

    async def work(tx: Tx) -> Transfer:
        await check_currency_allowed(tx, new.currency, "amount.currency")
        debited_id = object_id(new.debited_account_id, "debited account")
        credited_id = object_id(new.credited_account_id, "credited account")
        locked = await account_rows.lock_accounts(
            tx.session, platform_id=tx.platform_id, ids=[debited_id, credited_id]
        )
        debited = locked.get(debited_id)
        if debited is None:
            raise NotFound(f"No debited account with id {new.debited_account_id!r}.")
        credited = locked.get(credited_id)
        if credited is None:
            raise NotFound(f"No credited account with id {new.credited_account_id!r}.")
        if new.currency != debited.currency or new.currency != credited.currency:
            raise CurrencyMismatch(
                f"The transfer is in {new.currency}; the accounts hold {debited.currency}"
                f" and {credited.currency}."
            )
        fees.check_fee_currency(new.fee_currency, new.currency)
        owners = await users_of(tx, [debited, credited])
        check_can_move_money(debited, owners[debited.user_id], "debited")
        check_can_move_money(credited, owners[credited.user_id], "credited")
        fee = new.fee or 0
        transfer = Transfer(
            id=new_id(),
            platform_id=tx.platform_id,
            debited_account_id=debited.id,
            credited_account_id=credited.id,
            amount=new.amount,
            currency=new.currency,
            fee=fee,
            label=(new.label or "").strip() or None,
            status=TransferStatus.SUCCEEDED,
        )
        await post(tx, debited, delta=-new.amount, kind=EntryKind.TRANSFER_OUT, operation=transfer)
        await post(
            tx, credited, delta=new.amount - fee, kind=EntryKind.TRANSFER_IN, operation=transfer
        )
        await fees.collect(tx, currency=new.currency, fee=fee, operation=transfer)
        tx.session.add(transfer)
        await tx.session.flush()
        tx.emit(
            EventType.TRANSFER_SUCCESSFUL,
            transfer,
            user_id=debited.user_id,
            counterpart_user_id=credited.user_id,
            status=transfer.status,
        )
        return transfer

    return await perform(
        db,
        platform_id=platform_id,
        operation="createTransfer",
        key=new.idempotency_key,
        payload=fees.payload_of(new),
        model=Transfer,
        work=work,
    )
