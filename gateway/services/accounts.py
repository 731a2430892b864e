"""Accounts (mono-currency e-money ledgers) and bank accounts (external IBANs) of a user.

An account's currency is one of the platform's allowed currencies, fixed forever. It opens
`VALIDATED` when its user already is, `CREATED` otherwise (validation of the user turns it
`VALIDATED`). It can be blocked and unblocked, and closed only at a zero balance.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from gateway.domain.banking import normalize_bic, normalize_iban
from gateway.domain.enums import (
    AccountStatus,
    EventType,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.errors import InvalidState
from gateway.domain.ids import new_id
from gateway.domain.inputs import Checks
from gateway.domain.states import ACCOUNT, check_transition
from gateway.services.lookups import find
from gateway.services.unit_of_work import Outcome, Tx, input_payload, perform
from gateway.store import accounts as account_rows
from gateway.store.engine import Database
from gateway.store.ledger_tables import BankAccount
from gateway.store.tables import Account, Platform, User


class AccountChange(enum.Enum):
    BLOCK = "BLOCK"
    UNBLOCK = "UNBLOCK"
    CLOSE = "CLOSE"


@dataclass(frozen=True, slots=True)
class NewAccount:
    user_id: str
    currency: str
    label: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class NewBankAccount:
    user_id: str
    owner_name: str
    iban: str
    bic: str | None = None
    idempotency_key: str | None = None


async def open_account(
    db: Database, *, platform_id: uuid.UUID, new: NewAccount
) -> Outcome[Account]:
    """Open an account in one of the platform's allowed currencies."""
    checks = Checks()
    checks.text("label", new.label, required=False)
    checks.done()

    async def work(tx: Tx) -> Account:
        user = await find(
            tx.session,
            User,
            platform_id=tx.platform_id,
            id_text=new.user_id,
            what="user",
            lock=True,
        )
        platform = await tx.session.get(Platform, tx.platform_id)
        assert platform is not None
        if new.currency not in platform.allowed_currencies:
            allowed = ", ".join(platform.allowed_currencies)
            problems = Checks()
            problems.add("currency", f"{new.currency} is not allowed here ({allowed}).")
            problems.done()
        if user.status is not UserStatus.ACTIVE:
            raise InvalidState(f"The user is {user.status.value.lower()}.")
        validated = user.validation_status is ValidationStatus.VALIDATED
        account = Account(
            id=new_id(),
            platform_id=tx.platform_id,
            user_id=user.id,
            currency=new.currency,
            label=(new.label or "").strip() or None,
            status=AccountStatus.VALIDATED if validated else AccountStatus.CREATED,
        )
        tx.session.add(account)
        await tx.session.flush()
        tx.emit(EventType.ACCOUNT_CREATED, account, user_id=user.id, status=account.status)
        return account

    return await perform(
        db,
        platform_id=platform_id,
        operation="openAccount",
        key=new.idempotency_key,
        payload=input_payload(new),
        model=Account,
        work=work,
    )


def _check_bank_account(new: NewBankAccount) -> tuple[str, str | None]:
    checks = Checks()
    checks.text("ownerName", new.owner_name)
    iban = normalize_iban(new.iban)
    if iban is None:
        checks.add("iban", "Not a valid IBAN (checksum, country length and format are checked).")
    bic = None
    if new.bic is not None and new.bic.strip():
        bic = normalize_bic(new.bic)
        if bic is None:
            checks.add("bic", "Not a valid BIC (8 or 11 characters).")
    checks.done()
    assert iban is not None
    return iban, bic


async def add_bank_account(
    db: Database, *, platform_id: uuid.UUID, new: NewBankAccount
) -> Outcome[BankAccount]:
    """Register an external IBAN of the user: the target of pay-outs, source of direct debits."""
    iban, bic = _check_bank_account(new)

    async def work(tx: Tx) -> BankAccount:
        user = await find(
            tx.session, User, platform_id=tx.platform_id, id_text=new.user_id, what="user"
        )
        if user.status is UserStatus.CLOSED:
            raise InvalidState("The user is CLOSED.")
        bank_account = BankAccount(
            id=new_id(),
            platform_id=tx.platform_id,
            user_id=user.id,
            owner_name=new.owner_name.strip(),
            iban=iban,
            bic=bic,
        )
        tx.session.add(bank_account)
        await tx.session.flush()
        tx.emit(EventType.BANK_ACCOUNT_CREATED, bank_account, user_id=user.id)
        return bank_account

    return await perform(
        db,
        platform_id=platform_id,
        operation="addBankAccount",
        key=new.idempotency_key,
        payload=input_payload(new),
        model=BankAccount,
        work=work,
    )


async def _check_nothing_in_flight(tx: Tx, account: Account) -> None:
    """A closing account must have no pay-in or pay-out still on its way."""
    if await account_rows.has_operations_in_flight(tx.session, account_id=account.id):
        raise InvalidState("The account has pay-ins or pay-outs in flight; close it once settled.")


async def _unblocked_status(tx: Tx, account: Account) -> AccountStatus:
    user = await tx.session.get(User, account.user_id)
    assert user is not None
    validated = user.validation_status is ValidationStatus.VALIDATED
    return AccountStatus.VALIDATED if validated else AccountStatus.CREATED


async def _apply_account_change(tx: Tx, account: Account, change: AccountChange) -> None:
    if change is AccountChange.BLOCK:
        target, event = AccountStatus.BLOCKED, EventType.ACCOUNT_BLOCKED
    elif change is AccountChange.UNBLOCK:
        if account.status is not AccountStatus.BLOCKED:
            raise InvalidState("Only a BLOCKED account can be unblocked.")
        target, event = await _unblocked_status(tx, account), EventType.ACCOUNT_UNBLOCKED
    else:
        target, event = AccountStatus.CLOSED, EventType.ACCOUNT_CLOSED
    check_transition(ACCOUNT, account.status, target, "The account")
    if change is AccountChange.CLOSE:
        if account.balance != 0:
            raise InvalidState("An account can be closed only at a zero balance.")
        await _check_nothing_in_flight(tx, account)
    tx.move(account, target, event, user_id=account.user_id)


async def change_account_status(
    db: Database, *, platform_id: uuid.UUID, account_id: str, change: AccountChange
) -> Account:
    """Block, unblock (back to VALIDATED, or CREATED for an unvalidated user) or close (at a
    zero balance, with nothing in flight) an account."""

    async def work(tx: Tx) -> Account:
        account = await find(
            tx.session,
            Account,
            platform_id=tx.platform_id,
            id_text=account_id,
            what="account",
            lock=True,
        )
        await _apply_account_change(tx, account, change)
        await tx.session.flush()
        return account

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation="changeAccountStatus",
        key=None,
        payload={},
        model=Account,
        work=work,
    )
    return outcome.value
