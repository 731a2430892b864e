"""A stateful property test of the ledger: random money movements against an exact model.

Hypothesis drives, through the services, on the accounts of validated users: pay-ins (created,
then settled SUCCEEDED or FAILED), transfers of any amount (more than the balance included),
pay-outs (created, then settled SUCCEEDED or FAILED), second decisions on settled items, and
replays of earlier keyed requests. A model predicts every balance exactly, the settlement
account's balance, and which requests meet `InsufficientFunds` (with the available amount).

After every step the test proves the ledger's invariants from the tables
(`assert_ledger_holds`) and that every balance and count is the model's. So:

- money is only created by a SUCCEEDED pay-in and only leaves by a pay-out that did not fail;
- a debit beyond the balance is refused and leaves no trace but its idempotency record;
- the same key with the same input returns `replay=True` and the original object, or the
  original rejection (even once the balance would cover it), and changes nothing; the same key
  with another input is an `IdempotencyConflict` and changes nothing;
- a settled pay-in or pay-out cannot be decided again.

The services are async and the machine is not: each machine owns an event loop (an
`asyncio.Runner`), a `Database` engine created on that loop (the session fixture's engine
belongs to pytest-asyncio's loop), and a fresh platform, so examples share nothing.
MPS_HYPOTHESIS_EXAMPLES raises the number of examples.

Worked examples in test_balance_limits.py pin what the machine's amounts do not reach:
balances at the largest amount the API carries (2**53 - 1 minor units), with and without a
pay-out in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gateway.domain.enums import Environment, PayInMethod, PayInStatus, PayOutStatus
from gateway.domain.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidState,
    Rejected,
)
from gateway.services.ledger import NewTransfer, create_transfer
from gateway.services.payments import NewPayIn, NewPayOut, create_pay_in, create_pay_out
from gateway.services.platforms import create_platform
from gateway.services.sandbox import simulate_pay_in, simulate_pay_out
from gateway.services.unit_of_work import Outcome
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from tests.ledger import Holder, onboard_validated_user
from tests.ledger.invariants import assert_ledger_holds

T = TypeVar("T")
Request = NewTransfer | NewPayIn | NewPayOut
EUR = "EUR"

EXAMPLES = int(os.environ.get("MPS_HYPOTHESIS_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Debits name an amount, or one relative to the balance at the time of the step, so that
# "exactly everything" and "one cent more than everything" come up often.
debit_amounts = st.one_of(
    st.integers(min_value=1, max_value=3_000),
    st.integers(min_value=1, max_value=300),
    st.sampled_from(["balance", "balance+1"]),
)
transfer_amounts = st.integers(min_value=1, max_value=3_000)
credit_amounts = st.integers(min_value=1, max_value=5_000)
funding_amounts = st.integers(min_value=1, max_value=20_000)
# A pay-in or pay-out is settled in the step that announces it, or left pending for a later step.
pay_in_decisions = st.sampled_from([PayInStatus.SUCCEEDED, PayInStatus.FAILED, None])
pay_out_decisions = st.sampled_from([PayOutStatus.SUCCEEDED, PayOutStatus.FAILED, None])
request_kinds: st.SearchStrategy[type[Request]] = st.sampled_from(
    [NewTransfer, NewPayIn, NewPayOut]
)
picks = st.integers(min_value=0, max_value=1_000)  # an index into a list, modulo its length


@dataclass(frozen=True, slots=True)
class Sent:
    """A keyed request already sent, and what it produced: an object, or a refusal."""

    request: Request
    object_id: uuid.UUID | None
    available: int | None = None  # the balance an InsufficientFunds refusal reported


@dataclass(frozen=True, slots=True)
class Pending:
    """A pay-in or pay-out waiting for the bank's decision."""

    id: str
    account: int
    amount: int


class LedgerMachine(RuleBasedStateMachine):
    url: ClassVar[str]
    files: ClassVar[DocumentFiles]

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)
        try:
            self.db = self.run(self._open_database())
            self.holders = self.run(self._onboard())
        except BaseException:
            self.teardown()
            raise
        self.accounts = [(h, a) for h in self.holders for a in h.account_ids]
        self.balances = [0] * len(self.accounts)
        self.settlement = 0
        self.pending_pay_ins: list[Pending] = []
        self.pending_pay_outs: list[Pending] = []
        self.settled_pay_ins: list[str] = []
        self.settled_pay_outs: list[str] = []
        self.sent: list[Sent] = []
        self.transfers = self.pay_ins = self.pay_outs = self.serial = 0

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(work)

    async def _open_database(self) -> Database:
        return Database.from_url(self.url)

    async def _onboard(self) -> list[Holder]:
        created = await create_platform(
            self.db, name="Ledger properties", environment=Environment.SANDBOX, currencies=[EUR]
        )
        self.platform_id = created.platform.id
        return [
            await onboard_validated_user(
                self.db, self.files, platform_id=self.platform_id, login="alice", accounts=2
            ),
            await onboard_validated_user(
                self.db, self.files, platform_id=self.platform_id, login="bruno"
            ),
        ]

    def teardown(self) -> None:
        try:
            if hasattr(self, "db"):
                self.run(self._leave_nothing_pending())
                self.run(self.db.dispose())
        finally:
            self.runner.close()

    async def _leave_nothing_pending(self) -> None:
        """Decide what is still pending without moving money (pay-ins FAILED, pay-outs
        SUCCEEDED): the database is shared by the session, and the sandbox settler's tests
        sweep every pending sandbox item in it, oldest first."""
        db, platform_id = self.db, self.platform_id
        for pay_in in getattr(self, "pending_pay_ins", []):
            with contextlib.suppress(Rejected):
                await simulate_pay_in(
                    db, platform_id=platform_id, pay_in_id=pay_in.id, succeeded=False
                )
        for pay_out in getattr(self, "pending_pay_outs", []):
            with contextlib.suppress(Rejected):
                await simulate_pay_out(
                    db, platform_id=platform_id, pay_out_id=pay_out.id, succeeded=True
                )

    def key(self, kind: str) -> str:
        self.serial += 1
        return f"{kind}-{self.serial}"

    def account(self, index: int) -> tuple[int, str]:
        index %= len(self.accounts)
        return index, self.accounts[index][1]

    def debit(self, index: int, choice: int | str) -> int:
        if choice == "balance":
            return max(1, self.balances[index])
        if choice == "balance+1":
            return self.balances[index] + 1
        assert isinstance(choice, int)
        return choice

    # Pay-ins: money enters only when the bank says it arrived.

    @initialize(amounts=st.lists(funding_amounts, min_size=3, max_size=3))
    def fund_the_accounts(self, amounts: list[int]) -> None:
        for index, amount in enumerate(amounts):
            self.pay_in(index, amount, decision=PayInStatus.SUCCEEDED)

    @rule(account=picks, amount=credit_amounts, decision=pay_in_decisions)
    def pay_in(self, account: int, amount: int, decision: PayInStatus | None) -> None:
        """Announce a pay-in, and settle it now when `decision` says so (else later)."""
        index, account_id = self.account(account)
        new = NewPayIn(
            credited_account_id=account_id,
            amount=amount,
            currency=EUR,
            method=PayInMethod.BANK_WIRE,
            idempotency_key=self.key("pay-in"),
        )
        outcome = self.run(create_pay_in(self.db, platform_id=self.platform_id, new=new))
        assert not outcome.replay
        assert outcome.value.status is PayInStatus.CREATED
        self.pay_ins += 1
        self.pending_pay_ins.append(Pending(str(outcome.value.id), index, amount))
        self.sent.append(Sent(new, outcome.value.id))
        if decision is not None:
            self.decide_pay_in(len(self.pending_pay_ins) - 1, decision is PayInStatus.SUCCEEDED)

    @precondition(lambda self: self.pending_pay_ins)
    @rule(pick=picks, succeeded=st.booleans())
    def settle_pay_in(self, pick: int, succeeded: bool) -> None:
        self.decide_pay_in(pick % len(self.pending_pay_ins), succeeded)

    def decide_pay_in(self, position: int, succeeded: bool) -> None:
        pay_in = self.pending_pay_ins.pop(position)
        decided = self.run(
            simulate_pay_in(
                self.db, platform_id=self.platform_id, pay_in_id=pay_in.id, succeeded=succeeded
            )
        )
        assert decided.status is (PayInStatus.SUCCEEDED if succeeded else PayInStatus.FAILED)
        if succeeded:
            self.balances[pay_in.account] += pay_in.amount
            self.settlement -= pay_in.amount
        self.settled_pay_ins.append(pay_in.id)

    # Transfers: immediate, refused beyond the balance.

    @rule(debited=picks, offset=picks, amount=transfer_amounts)
    def transfer(self, debited: int, offset: int, amount: int) -> None:
        self.move(debited, offset, amount)

    @rule(debited=picks, offset=picks)
    def transfer_the_whole_balance(self, debited: int, offset: int) -> None:
        self.move(debited, offset, "balance")

    @rule(debited=picks, offset=picks)
    def try_to_transfer_one_cent_more_than_the_balance(self, debited: int, offset: int) -> None:
        self.move(debited, offset, "balance+1")

    def move(self, debited: int, offset: int, choice: int | str) -> None:
        """Transfer from account `debited` to another (picked by `offset`), if it can pay."""
        debited, debited_id = self.account(debited)
        credited, credited_id = self.account(debited + 1 + offset % (len(self.accounts) - 1))
        amount = self.debit(debited, choice)
        new = NewTransfer(
            debited_account_id=debited_id,
            credited_account_id=credited_id,
            amount=amount,
            currency=EUR,
            idempotency_key=self.key("transfer"),
            label="property",
        )
        if amount > self.balances[debited]:
            self.refused(new, debited)
            return
        outcome = self.run(create_transfer(self.db, platform_id=self.platform_id, new=new))
        assert not outcome.replay
        self.balances[debited] -= amount
        self.balances[credited] += amount
        self.transfers += 1
        self.sent.append(Sent(new, outcome.value.id))

    # Pay-outs: funds leave at creation and come back if the bank refuses them.

    @rule(account=picks, choice=debit_amounts, decision=pay_out_decisions)
    def pay_out(self, account: int, choice: int | str, decision: PayOutStatus | None) -> None:
        """Send a pay-out, and settle it now when `decision` says so (else later)."""
        index, account_id = self.account(account)
        amount = self.debit(index, choice)
        new = NewPayOut(
            debited_account_id=account_id,
            bank_account_id=self.accounts[index][0].bank_account_id,
            amount=amount,
            currency=EUR,
            idempotency_key=self.key("pay-out"),
        )
        if amount > self.balances[index]:
            self.refused(new, index)
            return
        outcome = self.run(create_pay_out(self.db, platform_id=self.platform_id, new=new))
        assert not outcome.replay
        assert outcome.value.status is PayOutStatus.CREATED
        self.balances[index] -= amount
        self.settlement += amount
        self.pay_outs += 1
        self.pending_pay_outs.append(Pending(str(outcome.value.id), index, amount))
        self.sent.append(Sent(new, outcome.value.id))
        if decision is not None:
            self.decide_pay_out(len(self.pending_pay_outs) - 1, decision is PayOutStatus.SUCCEEDED)

    @precondition(lambda self: self.pending_pay_outs)
    @rule(pick=picks, succeeded=st.booleans())
    def settle_pay_out(self, pick: int, succeeded: bool) -> None:
        self.decide_pay_out(pick % len(self.pending_pay_outs), succeeded)

    def decide_pay_out(self, position: int, succeeded: bool) -> None:
        pay_out = self.pending_pay_outs.pop(position)
        decided = self.run(
            simulate_pay_out(
                self.db, platform_id=self.platform_id, pay_out_id=pay_out.id, succeeded=succeeded
            )
        )
        assert decided.status is (PayOutStatus.SUCCEEDED if succeeded else PayOutStatus.FAILED)
        if not succeeded:
            self.balances[pay_out.account] += pay_out.amount
            self.settlement -= pay_out.amount
        self.settled_pay_outs.append(pay_out.id)

    @precondition(lambda self: self.settled_pay_ins or self.settled_pay_outs)
    @rule(pay_in=st.booleans(), pick=picks, succeeded=st.booleans())
    def cannot_settle_twice(self, pay_in: bool, pick: int, succeeded: bool) -> None:
        """A bank's decision is final: deciding a settled pay-in or pay-out again is refused."""
        db, platform_id = self.db, self.platform_id
        if (pay_in and self.settled_pay_ins) or not self.settled_pay_outs:
            pay_in_id = self.settled_pay_ins[pick % len(self.settled_pay_ins)]
            again: Coroutine[Any, Any, Any] = simulate_pay_in(
                db, platform_id=platform_id, pay_in_id=pay_in_id, succeeded=succeeded
            )
        else:
            pay_out_id = self.settled_pay_outs[pick % len(self.settled_pay_outs)]
            again = simulate_pay_out(
                db, platform_id=platform_id, pay_out_id=pay_out_id, succeeded=succeeded
            )
        with pytest.raises(InvalidState):
            self.run(again)

    def refused(self, new: NewTransfer | NewPayOut, index: int) -> None:
        """The model says `new` overdraws account `index`: the service must refuse it."""
        with pytest.raises(InsufficientFunds) as refusal:
            self.run(self.send(new))
        assert refusal.value.available.amount == self.balances[index]
        assert refusal.value.available.currency == EUR
        self.sent.append(Sent(new, None, available=self.balances[index]))

    # Idempotency: a replay changes nothing, a reused key with another input is refused.

    async def send(self, request: Request) -> Outcome[Any]:
        """Send a request again, through the service that took it the first time."""
        db, platform_id = self.db, self.platform_id
        if isinstance(request, NewTransfer):
            return await create_transfer(db, platform_id=platform_id, new=request)
        if isinstance(request, NewPayIn):
            return await create_pay_in(db, platform_id=platform_id, new=request)
        return await create_pay_out(db, platform_id=platform_id, new=request)

    def earlier(self, kind: type[Request], pick: int) -> Sent:
        """A request sent before: of `kind` when there is one (so each kind comes up often)."""
        of_kind = [sent for sent in self.sent if isinstance(sent.request, kind)] or self.sent
        return of_kind[pick % len(of_kind)]

    @precondition(lambda self: self.sent)
    @rule(kind=request_kinds, pick=picks)
    def replay(self, kind: type[Request], pick: int) -> None:
        sent = self.earlier(kind, pick)
        if sent.object_id is None:
            with pytest.raises(InsufficientFunds) as refusal:
                self.run(self.send(sent.request))
            assert refusal.value.available.amount == sent.available
        else:
            outcome = self.run(self.send(sent.request))
            assert outcome.replay
            assert outcome.value.id == sent.object_id

    @precondition(lambda self: self.sent)
    @rule(kind=request_kinds, pick=picks, extra=st.integers(min_value=1, max_value=100))
    def reuse_a_key_with_another_amount(self, kind: type[Request], pick: int, extra: int) -> None:
        sent = self.earlier(kind, pick)
        other = dataclasses.replace(sent.request, amount=sent.request.amount + extra)
        with pytest.raises(IdempotencyConflict):
            self.run(self.send(other))

    @precondition(lambda self: self.sent)
    @rule(kind=request_kinds, pick=picks)
    def reuse_a_key_for_another_kind_of_request(self, kind: type[Request], pick: int) -> None:
        """Keys are scoped to the platform, not to one mutation: another use is a conflict."""
        sent = self.earlier(kind, pick)
        _, account_id = self.account(pick)
        other: Request = NewPayIn(
            credited_account_id=account_id,
            amount=sent.request.amount,
            currency=EUR,
            method=PayInMethod.BANK_WIRE,
            idempotency_key=sent.request.idempotency_key,
        )
        if isinstance(sent.request, NewPayIn):
            credited_id = sent.request.credited_account_id
            other = NewTransfer(
                debited_account_id=next(a for _, a in self.accounts if a != credited_id),
                credited_account_id=credited_id,
                amount=sent.request.amount,
                currency=EUR,
                idempotency_key=sent.request.idempotency_key,
            )
        with pytest.raises(IdempotencyConflict):
            self.run(self.send(other))

    @invariant()
    def the_ledger_holds_and_matches_the_model(self) -> None:
        summary = self.run(assert_ledger_holds(self.db, self.platform_id))
        stored = [summary.balances[uuid.UUID(account_id)] for _, account_id in self.accounts]
        assert stored == self.balances
        assert summary.settlement_balances.get(EUR, 0) == self.settlement
        assert summary.transfers == self.transfers
        assert summary.pay_ins == self.pay_ins
        assert summary.pay_outs == self.pay_outs
        assert summary.idempotency_records == len(self.sent)  # one per key, refusals included


def machine_on(url: str, files_root: Path) -> type[LedgerMachine]:
    """The machine class bound to one database (by URL) and a folder for KYC files."""
    return type(
        "LedgerMachineOnDatabase",
        (LedgerMachine,),
        {"url": url, "files": DocumentFiles(files_root)},
    )


def test_random_money_movements_keep_every_balance_exact_and_replays_change_nothing(
    db: Database, tmp_path: Path
) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    run_state_machine_as_test(machine_on(url, tmp_path), settings=SETTINGS)
