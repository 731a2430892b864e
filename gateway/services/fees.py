"""Platform fees: what the platform's backend takes out of a movement's amount.

Who pays: the fee comes out of the amount. A transfer of 100 with a fee of 5 debits 100 and
credits 95; a pay-in of 100 with a fee of 5 credits 95 when it succeeds; a pay-out of 100 with
a fee of 5 debits 100 and sends 95 to the bank. The fee, in the amount's currency and with
0 < fee < amount (a fee of the whole amount would move nothing), is credited to the platform's
fee account for that currency (created on first use) in the same transaction, as its own leg
(entry FEE). Only the platform's key sets fees: under a user token a fee is Forbidden (the
GraphQL layer refuses it).

A fee is given back (entry FEE_REFUND) by a reversal or refund that asks for it
(`refundFee`), or by a pay-out that fails (it returns everything it took). The fee account
must hold it, else InsufficientFunds; it never goes below zero, which the database checks too.
Today nothing but fees given back leaves a fee account, and each operation gives back at most
its own fee, so the account always holds what is asked; the guard stays for whatever draws on
fee accounts later (a payout of the platform's fees).
"""

from __future__ import annotations

from typing import Any

from gateway.domain.enums import EntryKind
from gateway.domain.errors import CurrencyMismatch, InsufficientFunds
from gateway.domain.inputs import Checks
from gateway.domain.money import Money
from gateway.services.unit_of_work import Tx, input_payload
from gateway.store import fees as fee_rows
from gateway.store.ledger_tables import LedgerEntry


def check_fee(checks: Checks, fee: int | None, amount: int) -> None:
    """0 < fee < amount, when there is one."""
    if fee is None:
        return
    if fee <= 0:
        checks.add("fee.amount", "Must be a positive number of minor units.")
    elif fee >= amount:
        checks.add("fee.amount", "Must be less than the amount: the fee comes out of it.")


def payload_of(new: Any) -> dict[str, Any]:
    """The idempotency fingerprint's input of a movement that may carry a fee: without the fee
    fields when there is no fee, so a request fingerprints as it did before fees existed."""
    payload = input_payload(new)
    if payload.get("fee") is None:
        payload.pop("fee", None)
        payload.pop("fee_currency", None)
    return payload


def check_fee_currency(fee_currency: str | None, currency: str) -> None:
    if fee_currency is not None and fee_currency != currency:
        raise CurrencyMismatch(f"The fee is in {fee_currency}; the amount is in {currency}.")


async def post_fee(
    tx: Tx, *, currency: str, delta: int, kind: EntryKind, operation: Any
) -> LedgerEntry:
    """The platform's fee leg: `delta` on its fee account for `currency` (created on first
    use); InsufficientFunds when a fee given back is more than the account holds."""
    account = await fee_rows.fee_account(tx.session, platform_id=tx.platform_id, currency=currency)
    balance = await fee_rows.move_fee_balance(tx.session, fee_account_id=account.id, delta=delta)
    if balance is None:
        raise InsufficientFunds(
            "The platform's fee account does not hold the fee to give back.",
            available=Money(account.balance, currency),
        )
    return tx.add_entry(
        where={"fee_account_id": account.id},
        currency=currency,
        kind=kind,
        delta=delta,
        balance_after=balance,
        operation=operation,
    )


async def collect(tx: Tx, *, currency: str, fee: int, operation: Any) -> None:
    """Credit `fee` (if any) to the platform's fee account."""
    if fee:
        await post_fee(tx, currency=currency, delta=fee, kind=EntryKind.FEE, operation=operation)


async def give_back(tx: Tx, *, currency: str, fee: int, operation: Any) -> None:
    """Debit `fee` (if any) from the platform's fee account; InsufficientFunds when it lacks it."""
    if fee:
        await post_fee(
            tx, currency=currency, delta=-fee, kind=EntryKind.FEE_REFUND, operation=operation
        )
