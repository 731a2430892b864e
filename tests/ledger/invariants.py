"""The ledger's invariants, read from the tables themselves, never through the services.

`assert_ledger_holds(db, platform_id)` loads one platform's accounts, settlement accounts,
entries and operations in one snapshot and proves, for that platform:

(a) double entry: the entries sum to zero per currency;
(b) each user account's stored balance is the sum of its entries, and its entries chain in
    id (creation) order: each `balance_after` is the previous one plus the entry's amount, so
    the latest `balance_after` is the balance;
(c) the same for each settlement account (which may go negative);
(d) no user account, and no entry of a user account, is ever below zero;
(e) every operation has exactly its legs and nothing else: a transfer -x on the debited
    account and +x on the credited one; a SUCCEEDED pay-in +x on the account and -x on
    settlement, and no entry at all before that; a pay-out its PAY_OUT legs (-x on the
    account, +x on settlement), plus PAY_OUT_RETURN legs (+x, -x) iff it FAILED or was
    RETURNED after success; a recorded wire's legs carry the amount received; a CHARGED_BACK
    direct debit its PAY_IN legs plus CHARGEBACK legs (-x, +x); every entry
    belongs to one of these operations, in the currency of its account;
(f) each user account's `reserved` is the sum of its pay-outs and refunds still in flight
    (CREATED or PENDING), which may come back, and its balance plus that stays within
    MINOR_UNITS_MAX, the largest amount the API carries;
(g) fees: each fee account's balance is the sum of its entries (chained like the others) and
    never below zero; an operation's fee leg is its fee (a transfer credits amount - fee, a
    pay-in credits amount - fee, a pay-out sends amount - fee), given back by a failed
    pay-out, a reversal or refund that says so (and taken again by a failed refund);
(h) money back: a transfer's reversals add up to at most what it credited (amount - fee), a
    pay-in's refunds that did not fail to at most what it credited, and fees given back to at
    most the fee; a reversal's legs are -x on the transfer's credited account and +x (+f fee
    given back) on its debited one; a refund's -x on the account and +x+f on settlement when
    created, reversed when it FAILED.

Every violation is collected before failing, so one failure shows them all.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.enums import EntryKind, PayInStatus, PayOutStatus, RefundStatus
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.store.engine import Database
from gateway.store.journal_tables import IdempotencyRecord
from gateway.store.ledger_tables import (
    FeeAccount,
    LedgerEntry,
    PayIn,
    PayOut,
    Refund,
    SettlementAccount,
    Transfer,
    TransferReversal,
)
from gateway.store.tables import Account

# One leg as the ledger records it: (entry kind name, where it lands, signed amount). `where` is an
# account id, or "settlement:<currency>" for the platform's side.
Leg = tuple[str, str, int]
PROBLEMS_SHOWN_MAX = 20


@dataclass(frozen=True, slots=True)
class LedgerSummary:
    """What the ledger of one platform holds once its invariants are proved."""

    entries: int
    transfers: int
    pay_ins: int
    pay_ins_succeeded: int
    pay_outs: int
    pay_outs_failed: int
    idempotency_records: int
    balances: Mapping[uuid.UUID, int]  # user accounts, by id
    settlement_balances: Mapping[str, int]  # by currency
    fee_balances: Mapping[str, int]  # by currency
    reversals: int
    refunds: int
    refunds_failed: int


@dataclass(frozen=True, slots=True)
class _Snapshot:
    accounts: list[Any]
    settlements: list[Any]
    entries: list[Any]
    transfers: list[Any]
    pay_ins: list[Any]
    pay_outs: list[Any]
    idempotency_records: int
    fee_accounts: list[Any]
    reversals: list[Any]
    refunds: list[Any]


def _fee(currency: str) -> str:
    return f"fee:{currency}"


def _settlement(currency: str) -> str:
    return f"settlement:{currency}"


def _leg(kind: EntryKind, where: str, amount: int) -> Leg:
    return (kind.value, where, amount)


def _legs(*legs: Leg) -> Counter[Leg]:
    """The legs that move something (a fee of 0 writes no leg)."""
    return Counter(leg for leg in legs if leg[2] != 0)


async def _rows(
    session: AsyncSession, model: Any, platform_id: uuid.UUID, *names: str
) -> list[Any]:
    columns = [getattr(model, name) for name in names]
    result = await session.execute(sa.select(*columns).where(model.platform_id == platform_id))
    return list(result.all())


async def _snapshot(db: Database, platform_id: uuid.UUID) -> _Snapshot:
    async with db.session() as session:
        if db.dialect == "postgresql":
            # One snapshot for every read below, even while other transactions commit.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        keys = await session.scalar(
            sa.select(sa.func.count())
            .select_from(IdempotencyRecord)
            .where(col(IdempotencyRecord.platform_id) == platform_id)
        )
        return _Snapshot(
            accounts=await _rows(
                session, Account, platform_id, "id", "currency", "balance", "reserved"
            ),
            settlements=await _rows(
                session, SettlementAccount, platform_id, "id", "currency", "balance"
            ),
            entries=await _rows(
                session,
                LedgerEntry,
                platform_id,
                "id",
                "account_id",
                "settlement_account_id",
                "fee_account_id",
                "currency",
                "kind",
                "amount",
                "balance_after",
                "operation_type",
                "operation_id",
            ),
            transfers=await _rows(
                session,
                Transfer,
                platform_id,
                "id",
                "debited_account_id",
                "credited_account_id",
                "amount",
                "fee",
                "currency",
            ),
            pay_ins=await _rows(
                session,
                PayIn,
                platform_id,
                "id",
                "credited_account_id",
                "amount",
                "amount_received",
                "fee",
                "currency",
                "status",
            ),
            pay_outs=await _rows(
                session,
                PayOut,
                platform_id,
                "id",
                "debited_account_id",
                "amount",
                "fee",
                "currency",
                "status",
            ),
            idempotency_records=keys or 0,
            fee_accounts=await _rows(session, FeeAccount, platform_id, "id", "currency", "balance"),
            reversals=await _rows(
                session,
                TransferReversal,
                platform_id,
                "id",
                "transfer_id",
                "amount",
                "fee_refunded",
            ),
            refunds=await _rows(
                session,
                Refund,
                platform_id,
                "id",
                "pay_in_id",
                "debited_account_id",
                "amount",
                "fee_refunded",
                "currency",
                "status",
            ),
        )


def _check_chain(name: str, balance: int, entries: Iterable[Any], problems: list[str]) -> None:
    """(b), (c): the entries, oldest first, add up to the balance one `balance_after` at a time."""
    running = 0
    for entry in sorted(entries, key=lambda row: row.id):
        running += entry.amount
        if entry.balance_after != running:
            problems.append(
                f"{name}: entry {entry.id} says balance_after={entry.balance_after}"
                f" but its entries add up to {running} there"
            )
            return
    if running != balance:
        problems.append(f"{name}: stored balance {balance} != sum of its entries {running}")


def _check_accounts(snapshot: _Snapshot, problems: list[str]) -> None:
    by_account: defaultdict[uuid.UUID, list[Any]] = defaultdict(list)
    for entry in snapshot.entries:
        place = entry.account_id or entry.settlement_account_id or entry.fee_account_id
        by_account[place].append(entry)
    for account in snapshot.accounts:
        name = f"account {account.id}"
        if account.balance < 0:  # (d)
            problems.append(f"{name}: negative balance {account.balance}")
        for entry in by_account[account.id]:
            if entry.balance_after < 0:
                problems.append(f"{name}: entry {entry.id} leaves it at {entry.balance_after}")
            if entry.currency != account.currency:
                problems.append(f"{name}: entry {entry.id} in {entry.currency}")
        _check_chain(name, account.balance, by_account[account.id], problems)
    for settlement in snapshot.settlements:
        name = f"settlement account {settlement.currency}"
        _check_chain(name, settlement.balance, by_account[settlement.id], problems)
    for fee_account in snapshot.fee_accounts:  # (g)
        name = f"fee account {fee_account.currency}"
        if fee_account.balance < 0:
            problems.append(f"{name}: negative balance {fee_account.balance}")
        for entry in by_account[fee_account.id]:
            if entry.balance_after < 0:
                problems.append(f"{name}: entry {entry.id} leaves it at {entry.balance_after}")
        _check_chain(name, fee_account.balance, by_account[fee_account.id], problems)


def _check_double_entry(snapshot: _Snapshot, problems: list[str]) -> None:
    """(a): every currency's entries sum to zero."""
    totals: Counter[str] = Counter()
    for entry in snapshot.entries:
        totals[entry.currency] += entry.amount
    problems.extend(
        f"entries in {currency} sum to {total}, not 0"
        for currency, total in sorted(totals.items())
        if total != 0
    )


def _expected_legs(snapshot: _Snapshot) -> dict[tuple[str, uuid.UUID], Counter[Leg]]:
    """(e), (g), (h): the legs each operation must have, from the operation rows alone."""
    expected: dict[tuple[str, uuid.UUID], Counter[Leg]] = {}
    transfers = {t.id: t for t in snapshot.transfers}
    for t in snapshot.transfers:
        expected["Transfer", t.id] = _legs(
            _leg(EntryKind.TRANSFER_OUT, str(t.debited_account_id), -t.amount),
            _leg(EntryKind.TRANSFER_IN, str(t.credited_account_id), t.amount - t.fee),
            _leg(EntryKind.FEE, _fee(t.currency), t.fee),
        )
    for p in snapshot.pay_ins:
        legs: list[Leg] = []
        credited = p.amount_received or p.amount  # a recorded wire credits what arrived
        if p.status in (PayInStatus.SUCCEEDED, PayInStatus.CHARGED_BACK):
            legs = [
                _leg(EntryKind.PAY_IN, str(p.credited_account_id), credited - p.fee),
                _leg(EntryKind.PAY_IN, _settlement(p.currency), -credited),
                _leg(EntryKind.FEE, _fee(p.currency), p.fee),
            ]
        if p.status is PayInStatus.CHARGED_BACK:  # less what refunds already sent back
            kept = [r for r in snapshot.refunds if r.pay_in_id == p.id]
            kept = [r for r in kept if r.status is not RefundStatus.FAILED]
            back = credited - p.fee - sum(r.amount for r in kept)
            fee_back = p.fee - sum(r.fee_refunded for r in kept)
            legs += [
                _leg(EntryKind.CHARGEBACK, str(p.credited_account_id), -back),
                _leg(EntryKind.CHARGEBACK, _settlement(p.currency), back + fee_back),
                _leg(EntryKind.FEE_REFUND, _fee(p.currency), -fee_back),
            ]
        expected["PayIn", p.id] = _legs(*legs)
    for p in snapshot.pay_outs:
        legs = [
            _leg(EntryKind.PAY_OUT, str(p.debited_account_id), -p.amount),
            _leg(EntryKind.PAY_OUT, _settlement(p.currency), p.amount - p.fee),
            _leg(EntryKind.FEE, _fee(p.currency), p.fee),
        ]
        if p.status in (PayOutStatus.FAILED, PayOutStatus.RETURNED):
            legs += [
                _leg(EntryKind.PAY_OUT_RETURN, str(p.debited_account_id), p.amount),
                _leg(EntryKind.PAY_OUT_RETURN, _settlement(p.currency), -(p.amount - p.fee)),
                _leg(EntryKind.FEE_REFUND, _fee(p.currency), -p.fee),
            ]
        expected["PayOut", p.id] = _legs(*legs)
    for r in snapshot.reversals:
        t = transfers[r.transfer_id]
        expected["TransferReversal", r.id] = _legs(
            _leg(EntryKind.TRANSFER_REVERSAL_OUT, str(t.credited_account_id), -r.amount),
            _leg(EntryKind.TRANSFER_REVERSAL_IN, str(t.debited_account_id), r.amount),
            _leg(EntryKind.FEE_REFUND, _fee(t.currency), -r.fee_refunded),
            _leg(EntryKind.FEE_REFUND, str(t.debited_account_id), r.fee_refunded),
        )
    for r in snapshot.refunds:
        back = r.amount + r.fee_refunded
        legs = [
            _leg(EntryKind.REFUND, str(r.debited_account_id), -r.amount),
            _leg(EntryKind.REFUND, _settlement(r.currency), back),
            _leg(EntryKind.FEE_REFUND, _fee(r.currency), -r.fee_refunded),
        ]
        if r.status is RefundStatus.FAILED:
            legs += [
                _leg(EntryKind.REFUND_RETURN, str(r.debited_account_id), r.amount),
                _leg(EntryKind.REFUND_RETURN, _settlement(r.currency), -back),
                _leg(EntryKind.FEE, _fee(r.currency), r.fee_refunded),
            ]
        expected["Refund", r.id] = _legs(*legs)
    return expected


def _check_money_back(snapshot: _Snapshot, problems: list[str]) -> None:
    """(h): nothing is given back twice."""
    reversed_: Counter[uuid.UUID] = Counter()
    reversed_fees: Counter[uuid.UUID] = Counter()
    for r in snapshot.reversals:
        reversed_[r.transfer_id] += r.amount
        reversed_fees[r.transfer_id] += r.fee_refunded
    for t in snapshot.transfers:
        if reversed_[t.id] > t.amount - t.fee or reversed_fees[t.id] > t.fee:
            problems.append(f"transfer {t.id}: reversed {reversed_[t.id]} (+{reversed_fees[t.id]})")
    refunded: Counter[uuid.UUID] = Counter()
    refunded_fees: Counter[uuid.UUID] = Counter()
    for r in snapshot.refunds:
        if r.status is not RefundStatus.FAILED:
            refunded[r.pay_in_id] += r.amount
            refunded_fees[r.pay_in_id] += r.fee_refunded
    for p in snapshot.pay_ins:
        if refunded[p.id] and p.status not in (PayInStatus.SUCCEEDED, PayInStatus.CHARGED_BACK):
            problems.append(f"pay-in {p.id}: refunded while {p.status.value}")
        credited = (p.amount_received or p.amount) - p.fee
        if refunded[p.id] > credited or refunded_fees[p.id] > p.fee:
            problems.append(f"pay-in {p.id}: refunded {refunded[p.id]} (+{refunded_fees[p.id]})")


def _recorded_legs(snapshot: _Snapshot) -> dict[tuple[str, uuid.UUID], Counter[Leg]]:
    currency_of = {settlement.id: settlement.currency for settlement in snapshot.settlements}
    fee_currency_of = {
        fee_account.id: fee_account.currency for fee_account in snapshot.fee_accounts
    }
    recorded: defaultdict[tuple[str, uuid.UUID], Counter[Leg]] = defaultdict(Counter)
    for entry in snapshot.entries:
        if entry.account_id is not None:
            where = str(entry.account_id)
        elif entry.fee_account_id is not None:
            where = _fee(fee_currency_of.get(entry.fee_account_id, "???"))
        else:
            where = _settlement(currency_of.get(entry.settlement_account_id, "???"))
        recorded[entry.operation_type, entry.operation_id][
            entry.kind.value, where, entry.amount
        ] += 1
    return recorded


def _check_legs(snapshot: _Snapshot, problems: list[str]) -> None:
    expected = _expected_legs(snapshot)
    recorded = _recorded_legs(snapshot)
    for operation in sorted(set(expected) | set(recorded)):
        want, got = expected.get(operation), recorded.get(operation, Counter())
        if want is None:
            problems.append(f"{operation[0]} {operation[1]}: entries for no such operation")
        elif want != got:
            problems.append(
                f"{operation[0]} {operation[1]}: legs {sorted(got.elements())}"
                f" instead of {sorted(want.elements())}"
            )


def _check_reservations(snapshot: _Snapshot, problems: list[str]) -> None:
    """(f): what may come back is reserved, and fits under the cap with the balance."""
    in_flight: Counter[uuid.UUID] = Counter()
    for p in snapshot.pay_outs:
        if p.status in (PayOutStatus.CREATED, PayOutStatus.PENDING):
            in_flight[p.debited_account_id] += p.amount
    for r in snapshot.refunds:
        if r.status in (RefundStatus.CREATED, RefundStatus.PENDING):
            in_flight[r.debited_account_id] += r.amount
    for account in snapshot.accounts:
        if account.reserved != in_flight[account.id]:
            problems.append(
                f"account {account.id}: reserved {account.reserved}, but"
                f" {in_flight[account.id]} is in flight"
            )
        if account.balance + account.reserved > MINOR_UNITS_MAX:
            problems.append(f"account {account.id}: balance and reservations exceed the cap")


def _summary(snapshot: _Snapshot) -> LedgerSummary:
    return LedgerSummary(
        entries=len(snapshot.entries),
        transfers=len(snapshot.transfers),
        pay_ins=len(snapshot.pay_ins),
        pay_ins_succeeded=sum(p.status is PayInStatus.SUCCEEDED for p in snapshot.pay_ins),
        pay_outs=len(snapshot.pay_outs),
        pay_outs_failed=sum(p.status is PayOutStatus.FAILED for p in snapshot.pay_outs),
        idempotency_records=snapshot.idempotency_records,
        balances={account.id: account.balance for account in snapshot.accounts},
        settlement_balances={s.currency: s.balance for s in snapshot.settlements},
        fee_balances={f.currency: f.balance for f in snapshot.fee_accounts},
        reversals=len(snapshot.reversals),
        refunds=len(snapshot.refunds),
        refunds_failed=sum(r.status is RefundStatus.FAILED for r in snapshot.refunds),
    )


async def assert_ledger_holds(db: Database, platform_id: uuid.UUID) -> LedgerSummary:
    """Prove (a)-(h) of the module docstring for one platform; return what it holds."""
    snapshot = await _snapshot(db, platform_id)
    problems: list[str] = []
    _check_double_entry(snapshot, problems)
    _check_accounts(snapshot, problems)
    _check_legs(snapshot, problems)
    _check_reservations(snapshot, problems)
    _check_money_back(snapshot, problems)
    shown = "\n  ".join(problems[:PROBLEMS_SHOWN_MAX])
    assert not problems, f"{len(problems)} ledger invariant(s) broken:\n  {shown}"
    return _summary(snapshot)
