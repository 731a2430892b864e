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

A transfer, the hottest movement, runs as a few prepared statements (gateway/store/transfers.py)
rather than through the ORM: one locks both accounts and reads everything its rules need, the
rules are all checked on those rows before the first write (the guarded UPDATE of both
balances checks the funds again in the database), so it needs no savepoint; the ledger entries
are one INSERT, and the transfer takes the id its idempotency key was claimed with.
"""

from __future__ import annotations

import datetime as dt
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
from gateway.store import fees as fee_rows
from gateway.store import transfers as transfer_rows
from gateway.store import users
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.ledger_tables import LedgerEntry, Transfer
from gateway.store.records import row_values
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
    check_statuses_move_money(account.status, user.status, role)


def check_statuses_move_money(
    account_status: AccountStatus, user_status: UserStatus, role: str
) -> None:
    """`check_can_move_money` on the statuses of the account and of its user."""
    if account_status in (AccountStatus.BLOCKED, AccountStatus.CLOSED):
        raise InvalidState(f"The {role} account is {account_status.value.lower()}.")
    if user_status is not UserStatus.ACTIVE:
        raise InvalidState(f"The {role} account's user is {user_status.value.lower()}.")


async def check_currency_allowed(tx: Tx, currency: str, path: str) -> None:
    platform = await tx.session.get(Platform, tx.platform_id)
    assert platform is not None
    check_currency_in(platform.allowed_currencies, currency, path)


def check_currency_in(allowed: list[str], currency: str, path: str) -> None:
    """ValidationFailed on `path` unless `currency` is one of the platform's (`allowed`)."""
    if currency not in allowed:
        checks = Checks()
        checks.add(path, f"{currency} is not one of the platform's currencies.")
        checks.done()


async def lock_movement_accounts(
    tx: Tx, id_texts: list[str], currency: str
) -> dict[uuid.UUID, Any]:
    """The accounts named (the well-formed ids of the platform's accounts, row-locked in id
    order, with their users' statuses; gateway.store.accounts), once the movement's `currency`
    is known to be one of the platform's (ValidationFailed on amount.currency first, as ever).
    Nothing is locked when an id is malformed: the movement is NotFound then."""
    ids = [key for key in map(parse_id, id_texts) if key is not None]
    locked: dict[uuid.UUID, Any] = {}
    if len(ids) == len(id_texts):
        locked = await account_rows.lock_accounts_with_owners(
            tx.session, platform_id=tx.platform_id, ids=ids
        )
    if locked:
        allowed = next(iter(locked.values())).allowed_currencies
    else:
        allowed = await account_rows.allowed_currencies(tx.session, platform_id=tx.platform_id)
    check_currency_in(allowed, currency, "amount.currency")
    return locked


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
    """Move money between two accounts of the platform, immediately (see the module
    docstring for how it is written)."""
    _check_transfer(new)

    async def work(tx: Tx) -> Transfer:
        debited, credited = await _checked_accounts(tx, new)
        return await _write_transfer(tx, new, debited, credited)

    return await perform(
        db,
        platform_id=platform_id,
        operation="createTransfer",
        key=new.idempotency_key,
        payload=fees.payload_of(new),
        model=Transfer,
        work=work,
        checks_first=True,
    )


async def _checked_accounts(tx: Tx, new: NewTransfer) -> tuple[Any, Any]:
    """The two accounts (locked rows, gateway.store.accounts) once every rule holds; the rules
    in the order they always had, so the same rejection wins: the platform's currencies, the
    ids, the accounts found, their currencies, their and their users' statuses, the funds."""
    locked = await lock_movement_accounts(
        tx, [new.debited_account_id, new.credited_account_id], new.currency
    )
    debited_id = object_id(new.debited_account_id, "debited account")
    credited_id = object_id(new.credited_account_id, "credited account")
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
    check_statuses_move_money(debited.status, debited.user_status, "debited")
    check_statuses_move_money(credited.status, credited.user_status, "credited")
    _check_balances(new, debited, credited)
    return debited, credited


def _check_balances(new: NewTransfer, debited: Any, credited: Any) -> None:
    """What the guarded UPDATE of the balances would refuse (`post`'s rejections), checked on
    the locked rows so that nothing is written before a rejection."""
    if debited.balance < new.amount:
        raise InsufficientFunds(
            "The account's balance does not cover this amount.",
            available=Money(debited.balance, debited.currency),
        )
    if credited.balance + credited.reserved + new.amount - (new.fee or 0) > MINOR_UNITS_MAX:
        raise InvalidState(
            f"The account's balance would exceed {MINOR_UNITS_MAX} minor units, the largest"
            " amount the API carries."
        )


async def _write_transfer(tx: Tx, new: NewTransfer, debited: Any, credited: Any) -> Transfer:
    """The legs, the fee, the transfer and its event: no rejection from here on."""
    fee = new.fee or 0
    now = utcnow()
    transfer = Transfer(
        id=tx.object_id,
        platform_id=tx.platform_id,
        debited_account_id=debited.id,
        credited_account_id=credited.id,
        amount=new.amount,
        currency=new.currency,
        fee=fee,
        label=(new.label or "").strip() or None,
        status=TransferStatus.SUCCEEDED,
        created_at=now,
    )
    debited_after, credited_after = await transfer_rows.move_transfer_balances(
        tx.session,
        debited_id=debited.id,
        credited_id=credited.id,
        debit=-new.amount,
        credit=new.amount - fee,
        now=now,
    )
    entries = [
        entry_row(
            tx,
            where={"account_id": debited.id},
            currency=new.currency,
            kind=EntryKind.TRANSFER_OUT,
            delta=-new.amount,
            balance_after=debited_after,
            operation=transfer,
            now=now,
        ),
        entry_row(
            tx,
            where={"account_id": credited.id},
            currency=new.currency,
            kind=EntryKind.TRANSFER_IN,
            delta=new.amount - fee,
            balance_after=credited_after,
            operation=transfer,
            now=now,
        ),
    ]
    if fee:
        fee_account_id, fee_after = await fee_rows.credit_fee_account(
            tx.session, platform_id=tx.platform_id, currency=new.currency, fee=fee, now=now
        )
        entries.append(
            entry_row(
                tx,
                where={"fee_account_id": fee_account_id},
                currency=new.currency,
                kind=EntryKind.FEE,
                delta=fee,
                balance_after=fee_after,
                operation=transfer,
                now=now,
            )
        )
    await transfer_rows.insert_ledger_entries(tx.session, entries)
    await transfer_rows.insert_transfer(tx.session, row_values(transfer))
    tx.emit(
        EventType.TRANSFER_SUCCESSFUL,
        transfer,
        user_id=debited.user_id,
        counterpart_user_id=credited.user_id,
        status=transfer.status,
    )
    return transfer


def entry_row(
    tx: Tx,
    *,
    where: dict[str, uuid.UUID],
    currency: str,
    kind: EntryKind,
    delta: int,
    balance_after: int,
    operation: Any,
    now: dt.datetime,
) -> dict[str, Any]:
    """The row of one ledger entry of `operation`, by the transaction's actor: what
    `Tx.add_entry` writes, for a work that inserts its entries itself."""
    return {
        "id": new_id(),
        "platform_id": tx.platform_id,
        "account_id": None,
        "settlement_account_id": None,
        "fee_account_id": None,
        **where,
        "currency": currency,
        "kind": kind,
        "amount": delta,
        "balance_after": balance_after,
        "operation_type": type(operation).__name__,
        "operation_id": operation.id,
        "created_at": now,
        **tx.actor_columns,
    }
