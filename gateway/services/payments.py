"""Asynchronous money: direct-debit mandates, pay-ins and pay-outs.

- A mandate lets the platform debit a user's bank account: `CREATED -> ACTIVE | FAILED`,
  `ACTIVE -> CANCELED`.
- A pay-in credits an account from outside: by bank wire (the payer quotes the pay-in's wire
  reference) or by direct debit against an ACTIVE mandate of the account's user.
  `CREATED -> PENDING -> SUCCEEDED | FAILED`; funds are credited only on SUCCEEDED. A
  direct debit that succeeded may still be charged back (`SUCCEEDED -> CHARGED_BACK`).
- A pay-out sends funds to one of the user's bank accounts; it needs a VALIDATED user and
  account. Funds leave the balance when it is created (entry PAY_OUT) and come back if it fails
  (entry PAY_OUT_RETURN). `CREATED -> PENDING -> SUCCEEDED | FAILED`, and
  `SUCCEEDED -> RETURNED` when the receiving bank sends it back.

The decisions (mandate activation, settlement, returns, charge-backs) come from outside the
gateway and live in `settlement.py`: operators call them on every platform, and `sandbox.py`
stands in for the outside world on sandbox platforms through the same functions.

Fees (services/fees.py) come out of the amount: a pay-in's fee is collected when it succeeds
(the account gets amount - fee), a pay-out's when it is created (the bank gets amount - fee);
a failed pay-out returns everything, its fee included.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.domain.enums import (
    AccountStatus,
    EntryKind,
    EventType,
    MandateStatus,
    PayInMethod,
    PayInStatus,
    PayOutStatus,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.errors import CurrencyMismatch, InsufficientFunds, InvalidState, NotFound
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks, check_amount
from gateway.domain.money import Money
from gateway.services import fees
from gateway.services.ledger import (
    check_statuses_move_money,
    entry_row,
    lock_movement_accounts,
)
from gateway.services.lookups import find, object_id
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import accounts as account_rows
from gateway.store import fees as fee_rows
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.ledger_tables import BankAccount, DirectDebitMandate, LedgerEntry, PayIn, PayOut
from gateway.store.statements import insert_row, insert_rows
from gateway.store.tables import Account, User

_WIRE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class NewMandate:
    user_id: str
    bank_account_id: str
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class NewPayIn:
    credited_account_id: str
    amount: int
    currency: str
    method: PayInMethod
    idempotency_key: str
    mandate_id: str | None = None
    fee: int | None = None
    fee_currency: str | None = None


@dataclass(frozen=True, slots=True)
class NewPayOut:
    debited_account_id: str
    bank_account_id: str
    amount: int
    currency: str
    idempotency_key: str
    label: str | None = None
    fee: int | None = None
    fee_currency: str | None = None


def wire_reference() -> str:
    """A reference the payer quotes on the wire: short, unambiguous, unguessable."""
    return "MPS-" + "".join(secrets.choice(_WIRE_ALPHABET) for _ in range(12))


async def create_mandate(
    db: Database, *, platform_id: uuid.UUID, new: NewMandate
) -> Outcome[DirectDebitMandate]:
    """Ask for a direct-debit mandate on one of the user's bank accounts."""

    async def work(tx: Tx) -> DirectDebitMandate:
        # Locked: a user being closed meanwhile either sees this mandate or refuses it.
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=new.user_id,
            what="user",
            lock=True,
        )
        bank_account = await find(
            tx.session,
            BankAccount,
            platform_id=tx.platform_id,
            id_text=new.bank_account_id,
            what="bank account",
        )
        if bank_account.user_id != user.id:
            raise NotFound(f"No bank account {new.bank_account_id!r} for this user.")
        if user.status is not UserStatus.ACTIVE:
            raise InvalidState(f"The user is {user.status.value.lower()}.")
        mandate = DirectDebitMandate(
            id=new_id(),
            platform_id=tx.platform_id,
            user_id=user.id,
            bank_account_id=bank_account.id,
            status=MandateStatus.CREATED,
        )
        tx.session.add(mandate)
        await tx.session.flush()
        tx.emit(EventType.MANDATE_CREATED, mandate, user_id=user.id, status=mandate.status)
        return mandate

    return await perform(
        db,
        platform_id=platform_id,
        operation="createMandate",
        key=new.idempotency_key,
        payload=input_payload(new),
        model=DirectDebitMandate,
        work=work,
    )


def _check_pay_in(new: NewPayIn) -> None:
    checks = Checks()
    check_amount(checks, "amount.amount", new.amount)
    if new.method is PayInMethod.DIRECT_DEBIT and not new.mandate_id:
        checks.add("mandateId", "A DIRECT_DEBIT pay-in needs the id of an ACTIVE mandate.")
    if new.method is PayInMethod.BANK_WIRE and new.mandate_id:
        checks.add("mandateId", "A BANK_WIRE pay-in takes no mandate.")
    fees.check_fee(checks, new.fee, new.amount)
    checks.done()


async def _active_mandate(tx: Tx, mandate_id: str, account: Account) -> DirectDebitMandate:
    mandate = await find(
        tx.session,
        DirectDebitMandate,
        platform_id=tx.platform_id,
        id_text=mandate_id,
        what="mandate",
    )
    if mandate.user_id != account.user_id:
        raise NotFound(f"No mandate {mandate_id!r} for the credited account's user.")
    if mandate.status is not MandateStatus.ACTIVE:
        raise InvalidState(f"The mandate is {mandate.status.value}, not ACTIVE.")
    return mandate


async def create_pay_in(db: Database, *, platform_id: uuid.UUID, new: NewPayIn) -> Outcome[PayIn]:
    """Expect funds from outside; they are credited when the pay-in succeeds."""
    _check_pay_in(new)

    async def work(tx: Tx) -> PayIn:
        # As statements (see services/ledger.py's transfers): every rule is checked on the
        # locked account before the pay-in is written, its only write. The lock: a user being
        # closed meanwhile either sees this pay-in or refuses it.
        locked = await lock_movement_accounts(tx, [new.credited_account_id], new.currency)
        account = locked.get(object_id(new.credited_account_id, "credited account"))
        if account is None:
            raise NotFound(f"No credited account with id {new.credited_account_id[:64]!r}.")
        if new.currency != account.currency:
            raise CurrencyMismatch(f"The account holds {account.currency}, not {new.currency}.")
        fees.check_fee_currency(new.fee_currency, new.currency)
        check_statuses_move_money(account.status, account.user_status, "credited")
        mandate = None
        if new.method is PayInMethod.DIRECT_DEBIT:
            assert new.mandate_id is not None
            mandate = await _active_mandate(tx, new.mandate_id, account)
        pay_in = PayIn(
            id=tx.object_id,
            platform_id=tx.platform_id,
            credited_account_id=account.id,
            amount=new.amount,
            currency=new.currency,
            fee=new.fee or 0,
            method=new.method,
            mandate_id=mandate.id if mandate else None,
            wire_reference=wire_reference() if new.method is PayInMethod.BANK_WIRE else None,
            status=PayInStatus.CREATED,
        )
        await insert_row(tx.session, pay_in)
        tx.emit(EventType.PAY_IN_CREATED, pay_in, user_id=account.user_id, status=pay_in.status)
        return pay_in

    return await perform(
        db,
        platform_id=platform_id,
        operation="createPayIn",
        key=new.idempotency_key,
        payload=fees.payload_of(new),
        model=PayIn,
        work=work,
        checks_first=True,
    )


def _check_pay_out(new: NewPayOut) -> None:
    checks = Checks()
    check_amount(checks, "amount.amount", new.amount)
    checks.text("label", new.label, required=False)
    fees.check_fee(checks, new.fee, new.amount)
    checks.done()


async def create_pay_out(
    db: Database, *, platform_id: uuid.UUID, new: NewPayOut
) -> Outcome[PayOut]:
    """Send funds to the user's bank account; they leave the balance now."""
    _check_pay_out(new)

    async def work(tx: Tx) -> PayOut:
        # As statements (see services/ledger.py's transfers): every rule is checked on the
        # locked account before the first write.
        account = await _checked_pay_out_account(tx, new)
        return await _write_pay_out(tx, new, account)

    return await perform(
        db,
        platform_id=platform_id,
        operation="createPayOut",
        key=new.idempotency_key,
        payload=fees.payload_of(new),
        model=PayOut,
        work=work,
        checks_first=True,
    )


async def _checked_pay_out_account(tx: Tx, new: NewPayOut) -> tuple[Any, BankAccount]:
    """The debited account (a locked row, gateway.store.accounts) and the bank account, once
    every rule holds, in the order they always had (so the same rejection wins)."""
    locked = await lock_movement_accounts(tx, [new.debited_account_id], new.currency)
    account = locked.get(object_id(new.debited_account_id, "debited account"))
    if account is None:
        raise NotFound(f"No debited account with id {new.debited_account_id[:64]!r}.")
    bank_account = await find(
        tx.session,
        BankAccount,
        platform_id=tx.platform_id,
        id_text=new.bank_account_id,
        what="bank account",
    )
    if bank_account.user_id != account.user_id:
        raise NotFound(f"No bank account {new.bank_account_id!r} for the account's user.")
    if new.currency != account.currency:
        raise CurrencyMismatch(f"The account holds {account.currency}, not {new.currency}.")
    fees.check_fee_currency(new.fee_currency, new.currency)
    check_statuses_move_money(account.status, account.user_status, "debited")
    if account.validation_status is not ValidationStatus.VALIDATED:
        raise InvalidState("Pay-outs need a VALIDATED user.")
    if account.status is not AccountStatus.VALIDATED:
        raise InvalidState("Pay-outs need a VALIDATED account.")
    if account.balance < new.amount:
        raise InsufficientFunds(
            "The account's balance does not cover this amount.",
            available=Money(account.balance, account.currency),
        )
    return account, bank_account


async def _write_pay_out(tx: Tx, new: NewPayOut, checked: tuple[Any, BankAccount]) -> PayOut:
    """The debit (into `reserved`), the settlement leg, the fee, the pay-out and its event: no
    rejection from here on."""
    account, bank_account = checked
    now = utcnow()
    fee = new.fee or 0
    pay_out = PayOut(
        id=tx.object_id,
        platform_id=tx.platform_id,
        debited_account_id=account.id,
        bank_account_id=bank_account.id,
        amount=new.amount,
        currency=new.currency,
        fee=fee,
        label=(new.label or "").strip() or None,
        status=PayOutStatus.CREATED,
        created_at=now,
        updated_at=now,
    )
    balance = await account_rows.debit_for_pay_out(
        tx.session, account_id=account.id, amount=new.amount, now=now
    )
    if balance is None:
        raise account_rows.BalanceGuardRefused(
            "the database refused a pay-out's debit that was checked"
        )
    sent = new.amount - fee
    settlement_id, settlement_balance = await account_rows.move_settlement_account(
        tx.session, platform_id=tx.platform_id, currency=new.currency, delta=sent, now=now
    )
    legs = [
        ({"account_id": account.id}, EntryKind.PAY_OUT, -new.amount, balance),
        ({"settlement_account_id": settlement_id}, EntryKind.PAY_OUT, sent, settlement_balance),
    ]
    if fee:
        fee_account_id, fee_balance = await fee_rows.credit_fee_account(
            tx.session, platform_id=tx.platform_id, currency=new.currency, fee=fee, now=now
        )
        legs.append(({"fee_account_id": fee_account_id}, EntryKind.FEE, fee, fee_balance))
    entries = [
        entry_row(
            tx,
            where=where,
            currency=new.currency,
            kind=kind,
            delta=delta,
            balance_after=after,
            operation=pay_out,
            now=now,
        )
        for where, kind, delta, after in legs
    ]
    await insert_rows(tx.session, LedgerEntry, entries)
    await insert_row(tx.session, pay_out)
    tx.emit(EventType.PAY_OUT_CREATED, pay_out, user_id=account.user_id, status=pay_out.status)
    return pay_out
