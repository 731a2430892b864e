"""Account statements: an account's balance at the start and at the end of a window, and
what moved it in between.

A statement covers `[from, to)` on the entries' time: `from` strictly before `to`, at most
WINDOW_DAYS_MAX days apart (a limit on every read). Invariants, checked on every statement
from sums read in one snapshot (gateway/store/account_statements.py):

- opening balance + the window's credits - its debits = closing balance;
- closing balance = the stored balance - the net sum of the entries after the window (the
  stored balance is the sum of all entries: the ledger's own invariant, checked again here).

A statement that breaks either is never shown: `LedgerInconsistent` is raised instead.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from gateway.domain.enums import EntryKind
from gateway.domain.errors import InvalidArgument
from gateway.store.account_statements import KindSums, StatementSums, Window

WINDOW_DAYS_MAX = 366
_KIND_ORDER = {kind: position for position, kind in enumerate(EntryKind)}


class LedgerInconsistent(Exception):
    """The entries of an account do not add up: a bug or a tampered database, never shown."""


@dataclass(frozen=True, slots=True)
class AccountStatement:
    account_id: uuid.UUID
    window: Window
    currency: str
    opening_balance: int
    closing_balance: int
    credits: int
    debits: int
    totals: list[KindSums]  # kinds with at least one entry in the window, in EntryKind's order


def window(start: dt.datetime, end: dt.datetime, *, days_max: int = WINDOW_DAYS_MAX) -> Window:
    """The window `[start, end)`, or InvalidArgument naming the argument at fault."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidArgument("`from` and `to` need a time zone offset.", argument="from")
    if start >= end:
        raise InvalidArgument("`from` must be strictly before `to`.", argument="to")
    if end - start > dt.timedelta(days=days_max):
        raise InvalidArgument(
            f"A statement covers at most {days_max} days: narrow `from`..`to`.", argument="to"
        )
    return Window(start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def compose(sums: StatementSums, window: Window) -> AccountStatement:
    """The statement of `sums`, its invariants checked (LedgerInconsistent otherwise)."""
    totals = sorted(sums.inside, key=lambda total: _KIND_ORDER[total.kind])
    credits = sum(total.credits for total in totals)
    debits = sum(total.debits for total in totals)
    opening = sums.before
    closing = opening + credits - debits
    if closing != sums.balance - sums.after:
        raise LedgerInconsistent(
            f"account {sums.account_id}: opening {opening} + credits {credits} - debits"
            f" {debits} = {closing}, but its balance {sums.balance} less the {sums.after} that"
            f" came after the window is {sums.balance - sums.after}"
        )
    if opening < 0 or closing < 0:
        raise LedgerInconsistent(f"account {sums.account_id}: a balance below zero")
    return AccountStatement(
        account_id=sums.account_id,
        window=window,
        currency=sums.currency,
        opening_balance=opening,
        closing_balance=closing,
        credits=credits,
        debits=debits,
        totals=totals,
    )
