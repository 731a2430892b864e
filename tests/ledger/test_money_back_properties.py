"""The stateful property test of the ledger, grown with fees, reversals and refunds.

`MoneyBackMachine` is test_ledger_properties.py's machine (every rule of it still runs) plus:
transfers, pay-ins and pay-outs carrying a platform fee; reversals of earlier transfers
(partial, whole, beyond what is left, with or without giving the fee back); refunds of
pay-ins (partial, whole, beyond what is left, of a pay-in not settled yet), decided
SUCCEEDED or FAILED at once or later; and replays of reversals and refunds. Its model
predicts every balance, the settlement and fee accounts' balances, and each refusal
(InvalidState when nothing or not that much is left, InsufficientFunds with the available
amount when the account cannot give it back).

After every step the ledger's invariants are proved from the tables on each backend
(`assert_ledger_holds`: zero sum per currency over user, settlement and fee accounts,
balances equal to their entries, nothing below zero, every operation's exact legs, reversals
and refunds within what their transfer or pay-in credited) and the model must match.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gateway.domain.enums import PayInMethod, PayOutStatus, RefundStatus
from gateway.domain.errors import InsufficientFunds, InvalidState, Rejected
from gateway.services.ledger import NewTransfer, create_transfer
from gateway.services.payments import NewPayIn, NewPayOut, create_pay_in, create_pay_out
from gateway.services.refunds import NewRefund, refund_pay_in
from gateway.services.reversals import NewReversal, reverse_transfer
from gateway.services.sandbox import simulate_refund
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from tests.ledger.invariants import assert_ledger_holds
from tests.ledger.test_ledger_properties import (
    EUR,
    SETTINGS,
    LedgerMachine,
    Pending,
    Sent,
    credit_amounts,
    picks,
    transfer_amounts,
)

# How much to give back: everything left (no amount), a part, exactly what is left, or one more.
back_amounts = st.one_of(st.none(), st.integers(min_value=1, max_value=2_000), st.just("left+1"))
refund_decisions = st.sampled_from([RefundStatus.SUCCEEDED, RefundStatus.FAILED, None])
# More steps than the parent's machine: it has more rules, and giving back needs earlier steps.
MONEY_BACK_SETTINGS = settings(SETTINGS, stateful_step_count=50)


@dataclass
class Movable:
    """A transfer or SUCCEEDED pay-in that can be given back: what it credited, where, and
    what was given back so far."""

    id: str
    source: int  # the account that gives back (credited by the transfer or pay-in)
    target: int | None  # the account that gets it back (a transfer's debited one)
    credited: int  # amount - fee
    fee: int
    given_back: int = 0
    fee_given_back: int = 0


@dataclass
class PendingRefund:
    id: str
    paid: Movable
    amount: int
    fee: int


class MoneyBackMachine(LedgerMachine):
    def __init__(self) -> None:
        super().__init__()
        self.fees = 0
        self.transfers_made: list[Movable] = []
        self.pay_ins_succeeded: list[Movable] = []
        self.pending_refunds: list[PendingRefund] = []
        self.pay_in_fees: dict[str, int] = {}
        self.pay_out_fees: dict[str, int] = {}
        self.money_back_sent: list[tuple[NewReversal | NewRefund, str]] = []
        self.reversals = self.refunds = 0

    async def _leave_nothing_pending(self) -> None:
        for pending in getattr(self, "pending_refunds", []):
            with contextlib.suppress(Rejected):
                await simulate_refund(
                    self.db, platform_id=self.platform_id, refund_id=pending.id, succeeded=True
                )
        await super()._leave_nothing_pending()

    # Fees on the parent's movements.

    def move(
        self, debited: int, offset: int, choice: int | str, fee_pick: int | None = None
    ) -> None:
        debited, debited_id = self.account(debited)
        credited, credited_id = self.account(debited + 1 + offset % (len(self.accounts) - 1))
        amount = self.debit(debited, choice)
        fee = None if fee_pick is None or amount < 2 else 1 + fee_pick % (amount - 1)
        new = NewTransfer(
            debited_account_id=debited_id,
            credited_account_id=credited_id,
            amount=amount,
            currency=EUR,
            idempotency_key=self.key("transfer"),
            fee=fee,
            fee_currency=EUR if fee else None,
        )
        if amount > self.balances[debited]:
            self.refused(new, debited)
            return
        outcome = self.run(create_transfer(self.db, platform_id=self.platform_id, new=new))
        fee = fee or 0
        self.balances[debited] -= amount
        self.balances[credited] += amount - fee
        self.fees += fee
        self.transfers += 1
        self.sent.append(Sent(new, outcome.value.id))
        self.transfers_made.append(
            Movable(str(outcome.value.id), credited, debited, amount - fee, fee)
        )

    @rule(debited=picks, offset=picks, amount=transfer_amounts, fee_pick=picks)
    def transfer_with_a_fee(self, debited: int, offset: int, amount: int, fee_pick: int) -> None:
        self.move(debited, offset, amount, fee_pick)

    @initialize(fee_picks=st.lists(picks, min_size=3, max_size=3))
    def fund_the_accounts_with_fees_too(self, fee_picks: list[int]) -> None:
        """A settled pay-in with a fee on each account, and a transfer with a fee: something
        to give back, fees included, from the first step."""
        for index, fee_pick in enumerate(fee_picks):
            self.pay_in_with_a_fee(index, 5_000, fee_pick)
            self.decide_pay_in(len(self.pending_pay_ins) - 1, succeeded=True)
        self.move(0, 0, 1_000, fee_picks[0])

    @rule(account=picks, amount=credit_amounts.filter(lambda a: a > 1), fee_pick=picks)
    def pay_in_with_a_fee(self, account: int, amount: int, fee_pick: int) -> None:
        index, account_id = self.account(account)
        fee = 1 + fee_pick % (amount - 1)
        new = NewPayIn(
            credited_account_id=account_id,
            amount=amount,
            currency=EUR,
            method=PayInMethod.BANK_WIRE,
            idempotency_key=self.key("pay-in"),
            fee=fee,
            fee_currency=EUR,
        )
        outcome = self.run(create_pay_in(self.db, platform_id=self.platform_id, new=new))
        self.pay_ins += 1
        self.pay_in_fees[str(outcome.value.id)] = fee
        self.pending_pay_ins.append(Pending(str(outcome.value.id), index, amount))
        self.sent.append(Sent(new, outcome.value.id))

    def decide_pay_in(self, position: int, succeeded: bool) -> None:
        pay_in = self.pending_pay_ins[position]
        super().decide_pay_in(position, succeeded)
        if succeeded:
            fee = self.pay_in_fees.get(pay_in.id, 0)
            self.balances[pay_in.account] -= fee
            self.fees += fee
            movable = Movable(pay_in.id, pay_in.account, None, pay_in.amount - fee, fee)
            self.pay_ins_succeeded.append(movable)

    @rule(account=picks, fee_pick=picks, decision=st.sampled_from([PayOutStatus.FAILED, None]))
    def pay_out_with_a_fee(
        self, account: int, fee_pick: int, decision: PayOutStatus | None
    ) -> None:
        index, account_id = self.account(account)
        amount = self.balances[index]
        if amount < 2:
            return
        fee = 1 + fee_pick % (amount - 1)
        new = NewPayOut(
            debited_account_id=account_id,
            bank_account_id=self.accounts[index][0].bank_account_id,
            amount=amount,
            currency=EUR,
            idempotency_key=self.key("pay-out"),
            fee=fee,
            fee_currency=EUR,
        )
        outcome = self.run(create_pay_out(self.db, platform_id=self.platform_id, new=new))
        self.balances[index] -= amount
        self.settlement += amount - fee
        self.fees += fee
        self.pay_outs += 1
        self.pay_out_fees[str(outcome.value.id)] = fee
        self.pending_pay_outs.append(Pending(str(outcome.value.id), index, amount))
        self.sent.append(Sent(new, outcome.value.id))
        if decision is not None:
            self.decide_pay_out(len(self.pending_pay_outs) - 1, succeeded=False)

    def decide_pay_out(self, position: int, succeeded: bool) -> None:
        pay_out = self.pending_pay_outs[position]
        super().decide_pay_out(position, succeeded)
        if not succeeded:  # everything comes back, the fee too
            fee = self.pay_out_fees.get(pay_out.id, 0)
            self.settlement += fee
            self.fees -= fee

    # Reversals and refunds.

    def asked(self, movable: Movable, choice: int | str | None) -> int | None:
        left = movable.credited - movable.given_back
        if choice == "left+1":
            return left + 1
        if isinstance(choice, int):
            return min(choice, max(left, 1))
        return None

    def expect_refusal(self, movable: Movable, asked: int | None, source_balance: int) -> Any:
        """The refusal the model predicts for giving `asked` back, or None."""
        left = movable.credited - movable.given_back
        if left <= 0 or (asked is not None and asked > left):
            return InvalidState
        if (asked or left) > source_balance:
            return InsufficientFunds
        return None

    @precondition(lambda self: self.transfers_made)
    @rule(pick=picks, choice=back_amounts, refund_fee=st.booleans())
    def reverse(self, pick: int, choice: int | str | None, refund_fee: bool) -> None:
        movable = self.transfers_made[pick % len(self.transfers_made)]
        asked = self.asked(movable, choice)
        new = NewReversal(
            transfer_id=movable.id,
            idempotency_key=self.key("reversal"),
            amount=asked,
            currency=EUR if asked else None,
            refund_fee=refund_fee,
        )
        refusal = self.expect_refusal(movable, asked, self.balances[movable.source])
        if refusal is not None:
            with pytest.raises(refusal):
                self.run(reverse_transfer(self.db, platform_id=self.platform_id, new=new))
            self.money_back_sent.append((new, refusal.__name__))
            return
        reversal = self.run(reverse_transfer(self.db, platform_id=self.platform_id, new=new)).value
        amount = asked or movable.credited - movable.given_back
        fee = movable.fee - movable.fee_given_back if refund_fee else 0
        assert (reversal.amount, reversal.fee_refunded) == (amount, fee)
        assert movable.target is not None
        self.balances[movable.source] -= amount
        self.balances[movable.target] += amount + fee
        self.fees -= fee
        movable.given_back += amount
        movable.fee_given_back += fee
        self.reversals += 1
        self.money_back_sent.append((new, str(reversal.id)))

    @precondition(lambda self: self.pay_ins_succeeded)
    @rule(pick=picks, choice=back_amounts, refund_fee=st.booleans(), decision=refund_decisions)
    def refund(
        self, pick: int, choice: int | str | None, refund_fee: bool, decision: RefundStatus | None
    ) -> None:
        movable = self.pay_ins_succeeded[pick % len(self.pay_ins_succeeded)]
        asked = self.asked(movable, choice)
        new = NewRefund(
            pay_in_id=movable.id,
            idempotency_key=self.key("refund"),
            amount=asked,
            currency=EUR if asked else None,
            refund_fee=refund_fee,
        )
        refusal = self.expect_refusal(movable, asked, self.balances[movable.source])
        if refusal is not None:
            with pytest.raises(refusal):
                self.run(refund_pay_in(self.db, platform_id=self.platform_id, new=new))
            self.money_back_sent.append((new, refusal.__name__))
            return
        refund = self.run(refund_pay_in(self.db, platform_id=self.platform_id, new=new)).value
        amount = asked or movable.credited - movable.given_back
        fee = movable.fee - movable.fee_given_back if refund_fee else 0
        assert (refund.amount, refund.fee_refunded, refund.status) == (
            amount,
            fee,
            RefundStatus.CREATED,
        )
        self.balances[movable.source] -= amount
        self.settlement += amount + fee
        self.fees -= fee
        movable.given_back += amount
        movable.fee_given_back += fee
        self.refunds += 1
        self.money_back_sent.append((new, str(refund.id)))
        self.pending_refunds.append(PendingRefund(str(refund.id), movable, amount, fee))
        if decision is not None:
            self.decide_refund(len(self.pending_refunds) - 1, decision is RefundStatus.SUCCEEDED)

    @precondition(lambda self: self.pending_refunds)
    @rule(pick=picks, succeeded=st.booleans())
    def settle_refund(self, pick: int, succeeded: bool) -> None:
        self.decide_refund(pick % len(self.pending_refunds), succeeded)

    def decide_refund(self, position: int, succeeded: bool) -> None:
        pending = self.pending_refunds.pop(position)
        decided = self.run(
            simulate_refund(
                self.db, platform_id=self.platform_id, refund_id=pending.id, succeeded=succeeded
            )
        )
        assert decided.status is (RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED)
        if not succeeded:
            self.balances[pending.paid.source] += pending.amount
            self.settlement -= pending.amount + pending.fee
            self.fees += pending.fee
            pending.paid.given_back -= pending.amount
            pending.paid.fee_given_back -= pending.fee

    @precondition(lambda self: self.pending_pay_ins)
    @rule(pick=picks)
    def cannot_refund_a_pay_in_not_settled_yet(self, pick: int) -> None:
        pay_in = self.pending_pay_ins[pick % len(self.pending_pay_ins)]
        new = NewRefund(pay_in_id=pay_in.id, idempotency_key=self.key("refund"))
        with pytest.raises(InvalidState):
            self.run(refund_pay_in(self.db, platform_id=self.platform_id, new=new))
        self.money_back_sent.append((new, InvalidState.__name__))

    @precondition(lambda self: self.money_back_sent)
    @rule(pick=picks)
    def replay_a_reversal_or_refund(self, pick: int) -> None:
        new, answer = self.money_back_sent[pick % len(self.money_back_sent)]
        if isinstance(new, NewReversal):
            again: Any = reverse_transfer(self.db, platform_id=self.platform_id, new=new)
        else:
            again = refund_pay_in(self.db, platform_id=self.platform_id, new=new)
        if answer in (InvalidState.__name__, InsufficientFunds.__name__):
            with pytest.raises(Rejected) as refusal:
                self.run(again)
            assert type(refusal.value).__name__ == answer
            return
        outcome = self.run(again)
        assert outcome.replay
        assert str(outcome.value.id) == answer

    @invariant()
    def the_ledger_holds_and_matches_the_model(self) -> None:
        summary = self.run(assert_ledger_holds(self.db, self.platform_id))
        stored = [summary.balances[uuid.UUID(account_id)] for _, account_id in self.accounts]
        assert stored == self.balances
        assert summary.settlement_balances.get(EUR, 0) == self.settlement
        assert summary.fee_balances.get(EUR, 0) == self.fees
        assert (summary.transfers, summary.pay_ins, summary.pay_outs) == (
            self.transfers,
            self.pay_ins,
            self.pay_outs,
        )
        assert (summary.reversals, summary.refunds) == (self.reversals, self.refunds)
        assert summary.idempotency_records == len(self.sent) + len(self.money_back_sent)


def test_random_movements_with_fees_reversals_and_refunds_keep_the_ledger_exact(
    db: Database, tmp_path: Path
) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    machine = type(
        "MoneyBackMachineOnDatabase",
        (MoneyBackMachine,),
        {"url": url, "files": DocumentFiles(tmp_path)},
    )
    run_state_machine_as_test(machine, settings=MONEY_BACK_SETTINGS)
