"""Concurrent money movements through the real HTTP app never overdraw, lose or double-count.

Requests go through the ASGI app (GraphQL, services, database) many at a time with
`asyncio.gather`, on both backends. After each run the ledger's invariants are proved from the
tables (`assert_ledger_holds`) and the database is compared with what the responses said:

- a storm of transfers among a few hot accounts, with duplicates of the same key sent at the
  same moment: each key has exactly one effect (one idempotency record, at most one Transfer
  row, and only if a response said it succeeded), exactly one of each duplicate pair is not a
  replay, and every balance is its funding plus the successful transfers' credits minus their
  debits;
- a race of fifty debits against funds for exactly ten: exactly ten get through, the forty
  others are `InsufficientFundsRejection`s that saw nothing left, and the balance ends at 0;
- one key sent twenty times at once with twenty different amounts: one transfer, nineteen
  `IdempotencyConflictRejection`s;
- transfers, pay-outs and bank decisions on pay-ins and pay-outs, all at once on the same
  accounts: every path takes its locks without a lasting deadlock, and the balances are what
  the answers said;
- conflicting bank decisions (SUCCEEDED and FAILED at once, several times over) on the same
  pay-ins and pay-outs: exactly one decision per item wins, and the money moves once, as the
  winner said (a pay-in credited iff it SUCCEEDED, a pay-out returned iff it FAILED), even
  while the platform's settlement account is being created by the same race.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.enums import EventType
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from gateway.store.journal_tables import Event, IdempotencyRecord
from gateway.store.ledger_tables import Transfer
from tests.conftest import PlatformHandle, make_platform
from tests.ledger import onboard_validated_user
from tests.ledger.concurrent import (
    CREATE_PAY_IN,
    CREATE_PAY_OUT,
    CREATE_TRANSFER,
    SIMULATE_PAY_IN,
    SIMULATE_PAY_OUT,
    create_user,
    eur,
    fund,
    open_account,
    send,
)
from tests.ledger.invariants import assert_ledger_holds

CLIENTS = 20  # requests in flight at once, each its own GraphQL request over ASGI
TRANSFERS = 1_000
DUPLICATE_EVERY = 10  # every 10th transfer is sent twice at once, same key, same input
HOT_ACCOUNTS = 4
FUNDING = 10_000
TRANSFER_AMOUNT_MAX = 2_500
ITEMS = 6  # pay-ins, then pay-outs, each decided DECISIONS times at once
DECISIONS = 8
OUTCOMES = ["SUCCEEDED", "FAILED"]
Operation = tuple[str, dict[str, Any]]  # a mutation's short name and its input


@dataclass(frozen=True, slots=True)
class Planned:
    """A transfer to send: its input (its key is also its label), and how many copies."""

    new: dict[str, Any]
    copies: int

    @property
    def key(self) -> str:
        key: str = self.new["idempotencyKey"]
        return key


def _plan(accounts: list[str], rng: random.Random) -> list[Planned]:
    planned = []
    for number in range(TRANSFERS):
        debited, credited = rng.sample(accounts, 2)
        key = f"storm-{number:04d}"
        new = {
            "debitedAccountId": debited,
            "creditedAccountId": credited,
            "amount": eur(rng.randint(1, TRANSFER_AMOUNT_MAX)),
            "label": key,
            "idempotencyKey": key,
        }
        planned.append(Planned(new, 2 if number % DUPLICATE_EVERY == 0 else 1))
    return planned


async def _storm(
    client: httpx.AsyncClient, platform: PlatformHandle, planned: list[Planned]
) -> dict[str, list[dict[str, Any]]]:
    """CLIENTS workers take the plan in turn; the copies of a duplicate leave together."""
    plan = iter(planned)  # shared: each item is taken by exactly one worker
    answers: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)

    async def worker() -> None:
        for item in plan:
            copies = [send(client, platform, CREATE_TRANSFER, item.new) for _ in range(item.copies)]
            answers[item.key] += await asyncio.gather(*copies)

    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return answers


def _check_answers(planned: list[Planned], answers: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Each key's answers agree; returns the keys whose transfer succeeded."""
    succeeded = set()
    for item in planned:
        got = answers[item.key]
        assert len(got) == item.copies
        kinds = {answer["__typename"] for answer in got}
        assert len(kinds) == 1, f"{item.key}: copies answered differently: {got}"
        kind = kinds.pop()
        if kind == "CreateTransferSuccess":
            assert len({answer["transfer"]["id"] for answer in got}) == 1, got
            assert [answer["idempotentReplay"] for answer in got].count(False) == 1, got
            succeeded.add(item.key)
        else:
            assert kind == "InsufficientFundsRejection", got
            amount = item.new["amount"]["amount"]
            assert all(answer["available"]["amount"] < amount for answer in got), got
    return succeeded


def _expected_balances(
    planned: list[Planned], succeeded: set[str], accounts: list[str]
) -> dict[uuid.UUID, int]:
    balances = dict.fromkeys(accounts, FUNDING)
    for item in planned:
        if item.key in succeeded:
            balances[item.new["debitedAccountId"]] -= item.new["amount"]["amount"]
            balances[item.new["creditedAccountId"]] += item.new["amount"]["amount"]
    return {uuid.UUID(account): balance for account, balance in balances.items()}


async def _transfer_rows(db: Database, platform_id: uuid.UUID) -> list[Any]:
    async with db.session() as session:
        rows = await session.execute(
            sa.select(col(Transfer.id), col(Transfer.label)).where(
                col(Transfer.platform_id) == platform_id
            )
        )
        return list(rows.all())


async def _transfer_keys(db: Database, platform_id: uuid.UUID) -> list[Any]:
    async with db.session() as session:
        rows = await session.execute(
            sa.select(col(IdempotencyRecord.key), col(IdempotencyRecord.object_id)).where(
                col(IdempotencyRecord.platform_id) == platform_id,
                col(IdempotencyRecord.operation) == "createTransfer",
            )
        )
        return list(rows.all())


async def _events(db: Database, platform_id: uuid.UUID) -> list[Any]:
    async with db.session() as session:
        rows = await session.execute(
            sa.select(col(Event.sequence), col(Event.type), col(Event.object_id)).where(
                col(Event.platform_id) == platform_id
            )
        )
        return list(rows.all())


async def test_a_storm_of_concurrent_transfers_with_duplicate_keys_has_each_effect_exactly_once(
    db: Database, client: httpx.AsyncClient
) -> None:
    platform = await make_platform(db)
    owners = [await create_user(client, platform, login) for login in ("hot.one", "hot.two")]
    accounts = [await open_account(client, platform, owners[n % 2]) for n in range(HOT_ACCOUNTS)]
    for account in accounts:
        await fund(client, platform, account, FUNDING)
    planned = _plan(accounts, random.Random(2026))

    answers = await _storm(client, platform, planned)

    succeeded = _check_answers(planned, answers)
    summary = await assert_ledger_holds(db, platform.id)
    assert dict(summary.balances) == _expected_balances(planned, succeeded, accounts)
    assert summary.transfers == len(succeeded)
    transfers = await _transfer_rows(db, platform.id)
    assert Counter(row.label for row in transfers) == Counter(succeeded)  # one row per key
    succeeded_ids = {answers[key][0]["transfer"]["id"] for key in succeeded}
    assert {str(row.id) for row in transfers} == succeeded_ids
    keys = await _transfer_keys(db, platform.id)
    assert sorted(row.key for row in keys) == sorted(item.key for item in planned)
    assert {str(row.object_id) for row in keys if row.object_id} == succeeded_ids
    events = await _events(db, platform.id)
    assert sorted(row.sequence for row in events) == list(range(1, len(events) + 1))
    announced = [str(row.object_id) for row in events if row.type is EventType.TRANSFER_SUCCESSFUL]
    assert Counter(announced) == Counter(succeeded_ids)  # one event per transfer, none for refusals
    assert 0 < len(succeeded) < TRANSFERS  # the storm met refusals too


@pytest.mark.parametrize("debit", ["createTransfer", "createPayOut"])
async def test_fifty_concurrent_debits_against_ten_debits_worth_of_funds_let_exactly_ten_through(
    db: Database, client: httpx.AsyncClient, tmp_path: Path, debit: str
) -> None:
    platform = await make_platform(db)
    files = DocumentFiles(tmp_path)
    payer = await onboard_validated_user(db, files, platform_id=platform.id, login="payer")
    payee = await onboard_validated_user(db, files, platform_id=platform.id, login="payee")
    debited, credited = payer.account_ids[0], payee.account_ids[0]
    amount = 1_000
    await fund(client, platform, debited, 10 * amount)

    def debit_input(number: int) -> dict[str, Any]:
        key = {"amount": eur(amount), "idempotencyKey": f"race-{number}"}
        if debit == "createTransfer":
            return {**key, "debitedAccountId": debited, "creditedAccountId": credited}
        return {**key, "debitedAccountId": debited, "bankAccountId": payer.bank_account_id}

    mutation = CREATE_TRANSFER if debit == "createTransfer" else CREATE_PAY_OUT
    answers = await asyncio.gather(
        *(send(client, platform, mutation, debit_input(number)) for number in range(50))
    )

    kinds = Counter(answer["__typename"] for answer in answers)
    success = "CreateTransferSuccess" if debit == "createTransfer" else "CreatePayOutSuccess"
    assert kinds == {success: 10, "InsufficientFundsRejection": 40}
    refusals = [a for a in answers if a["__typename"] == "InsufficientFundsRejection"]
    assert all(refusal["available"]["amount"] == 0 for refusal in refusals)
    assert not any(answer.get("idempotentReplay") for answer in answers)
    summary = await assert_ledger_holds(db, platform.id)
    assert summary.balances[uuid.UUID(debited)] == 0
    if debit == "createTransfer":
        assert summary.transfers == 10
        assert summary.balances[uuid.UUID(credited)] == 10 * amount
    else:
        assert summary.pay_outs == 10
        assert summary.settlement_balances["EUR"] == 0  # in by one pay-in, out by ten pay-outs
        sent = [answer["payOut"]["id"] for answer in answers if "payOut" in answer]
        decided = await asyncio.gather(  # none left pending in the session's shared database
            *(
                send(client, platform, SIMULATE_PAY_OUT, {"payOutId": item, "outcome": "SUCCEEDED"})
                for item in sent
            )
        )
        assert {answer["object"]["status"] for answer in decided} == {"SUCCEEDED"}
        assert (await assert_ledger_holds(db, platform.id)).settlement_balances["EUR"] == 0


async def test_one_key_sent_at_once_with_twenty_different_amounts_moves_money_once(
    db: Database, client: httpx.AsyncClient
) -> None:
    platform = await make_platform(db)
    owner = await create_user(client, platform, "keyed")
    debited, credited = [await open_account(client, platform, owner) for _ in range(2)]
    await fund(client, platform, debited, FUNDING)

    answers = await asyncio.gather(
        *(
            send(
                client,
                platform,
                CREATE_TRANSFER,
                {
                    "debitedAccountId": debited,
                    "creditedAccountId": credited,
                    "amount": eur(100 + number),
                    "idempotencyKey": "one-key",
                },
            )
            for number in range(20)
        )
    )

    kinds = Counter(answer["__typename"] for answer in answers)
    assert kinds == {"CreateTransferSuccess": 1, "IdempotencyConflictRejection": 19}
    won = next(answer for answer in answers if answer["__typename"] == "CreateTransferSuccess")
    assert won["idempotentReplay"] is False
    summary = await assert_ledger_holds(db, platform.id)
    assert summary.transfers == 1
    moved = summary.balances[uuid.UUID(credited)]
    assert 100 <= moved < 120
    assert summary.balances[uuid.UUID(debited)] == FUNDING - moved


async def _race_decisions(
    client: httpx.AsyncClient, platform: PlatformHandle, mutation: str, field: str, ids: list[str]
) -> dict[str, str]:
    """Decide each item DECISIONS times at once, half SUCCEEDED, half FAILED; return winners."""
    outcomes = ["SUCCEEDED", "FAILED"] * (DECISIONS // 2)
    sent = [(item, outcome) for item in ids for outcome in outcomes]
    answers = await asyncio.gather(
        *(
            send(client, platform, mutation, {field: item, "outcome": outcome})
            for item, outcome in sent
        )
    )
    winners: dict[str, str] = {}
    for (item, outcome), answer in zip(sent, answers, strict=True):
        if answer["__typename"] == "SimulateSuccess":
            assert item not in winners, f"{item} was decided twice"
            assert answer["object"]["status"] == outcome
            winners[item] = outcome
        else:
            assert answer == {"__typename": "InvalidStateRejection", "code": "INVALID_STATE"}
    assert set(winners) == set(ids)
    return winners


async def test_conflicting_concurrent_bank_decisions_move_the_money_once_as_the_winner_said(
    db: Database, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    platform = await make_platform(db)  # no settlement account yet: the first race creates it
    holder = await onboard_validated_user(
        db, DocumentFiles(tmp_path), platform_id=platform.id, login="decided", accounts=2
    )
    credited, debited = holder.account_ids
    pay_ins = {}
    for number in range(ITEMS):
        new = {
            "creditedAccountId": credited,
            "amount": eur(1_000 + number),
            "method": "BANK_WIRE",
            "idempotencyKey": f"decided-in-{number}",
        }
        created = await send(client, platform, CREATE_PAY_IN, new)
        pay_ins[created["payIn"]["id"]] = 1_000 + number

    won = await _race_decisions(client, platform, SIMULATE_PAY_IN, "payInId", list(pay_ins))

    summary = await assert_ledger_holds(db, platform.id)
    succeeded = [item for item, outcome in won.items() if outcome == "SUCCEEDED"]
    assert summary.balances[uuid.UUID(credited)] == sum(pay_ins[item] for item in succeeded)
    assert summary.pay_ins_succeeded == len(succeeded)
    await fund(client, platform, debited, ITEMS * 1_000)
    pay_outs = []
    for number in range(ITEMS):
        new = {
            "debitedAccountId": debited,
            "bankAccountId": holder.bank_account_id,
            "amount": eur(1_000),
            "idempotencyKey": f"decided-out-{number}",
        }
        created = await send(client, platform, CREATE_PAY_OUT, new)
        pay_outs.append(created["payOut"]["id"])

    won = await _race_decisions(client, platform, SIMULATE_PAY_OUT, "payOutId", pay_outs)

    summary = await assert_ledger_holds(db, platform.id)
    returned = list(won.values()).count("FAILED")
    assert summary.balances[uuid.UUID(debited)] == returned * 1_000
    assert summary.pay_outs_failed == returned


@dataclass
class Books:
    """What the responses of a mixed run said happened, account by account."""

    balances: dict[str, int]
    pay_outs: dict[str, tuple[str, int]]  # pay-out id -> (account, amount), created ones

    def apply(self, operation: str, new: dict[str, Any], answer: dict[str, Any]) -> None:
        kind = answer["__typename"]
        if kind == "InsufficientFundsRejection":
            assert answer["available"]["amount"] < new["amount"]["amount"], (new, answer)
        elif operation == "transfer":
            assert kind == "CreateTransferSuccess", answer
            self.balances[new["debitedAccountId"]] -= new["amount"]["amount"]
            self.balances[new["creditedAccountId"]] += new["amount"]["amount"]
        elif operation == "payOut":
            assert kind == "CreatePayOutSuccess", answer
            self.balances[new["debitedAccountId"]] -= new["amount"]["amount"]
            self.pay_outs[answer["payOut"]["id"]] = (
                new["debitedAccountId"],
                new["amount"]["amount"],
            )
        else:
            assert kind == "SimulateSuccess", answer
            assert answer["object"]["status"] == new["outcome"]


async def _run_mixed(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    books: Books,
    operations: list[Operation],
) -> None:
    """Send every operation at once; book what each answer says happened."""
    mutations = {
        "transfer": CREATE_TRANSFER,
        "payOut": CREATE_PAY_OUT,
        "payInDecision": SIMULATE_PAY_IN,
        "payOutDecision": SIMULATE_PAY_OUT,
    }
    answers = await asyncio.gather(
        *(send(client, platform, mutations[operation], new) for operation, new in operations)
    )
    for (operation, new), answer in zip(operations, answers, strict=True):
        books.apply(operation, new, answer)


def _transfers(rng: random.Random, accounts: list[str], keys: range) -> list[Operation]:
    planned: list[Operation] = []
    for number in keys:
        debited, credited = rng.sample(accounts, 2)
        amount = eur(rng.randint(1, TRANSFER_AMOUNT_MAX))
        new = {"debitedAccountId": debited, "creditedAccountId": credited, "amount": amount}
        planned.append(("transfer", {**new, "idempotencyKey": f"mixed-transfer-{number}"}))
    return planned


def _pay_outs(rng: random.Random, bank_of: dict[str, str], count: int) -> list[Operation]:
    planned: list[Operation] = []
    for number, account in enumerate(rng.choices(list(bank_of), k=count)):
        new = {
            "debitedAccountId": account,
            "bankAccountId": bank_of[account],
            "amount": eur(rng.randint(1, TRANSFER_AMOUNT_MAX)),
        }
        planned.append(("payOut", {**new, "idempotencyKey": f"mixed-pay-out-{number}"}))
    return planned


def _decisions(rng: random.Random, operation: str, field: str, ids: list[str]) -> list[Operation]:
    return [(operation, {field: item, "outcome": rng.choice(OUTCOMES)}) for item in ids]


async def test_transfers_pay_outs_and_bank_decisions_at_once_on_the_same_accounts_add_up(
    db: Database, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    rng = random.Random(7)
    platform = await make_platform(db)
    files = DocumentFiles(tmp_path)
    holders = [
        await onboard_validated_user(db, files, platform_id=platform.id, login=login, accounts=2)
        for login in ("mixed.one", "mixed.two")
    ]
    bank_of = {account: h.bank_account_id for h in holders for account in h.account_ids}
    accounts = list(bank_of)
    for account in accounts:
        await fund(client, platform, account, FUNDING)
    books = Books(dict.fromkeys(accounts, FUNDING), {})
    pay_ins: dict[str, tuple[str, int]] = {}  # pending pay-in id -> (account, amount)
    for number in range(20):
        account, amount = rng.choice(accounts), rng.randint(1, TRANSFER_AMOUNT_MAX)
        new = {
            "creditedAccountId": account,
            "amount": eur(amount),
            "method": "BANK_WIRE",
            "idempotencyKey": f"mixed-pay-in-{number}",
        }
        created = await send(client, platform, CREATE_PAY_IN, new)
        pay_ins[created["payIn"]["id"]] = (account, amount)
    pay_in_decisions = _decisions(rng, "payInDecision", "payInId", list(pay_ins))
    first = _transfers(rng, accounts, range(150)) + _pay_outs(rng, bank_of, 40) + pay_in_decisions
    rng.shuffle(first)

    await _run_mixed(client, platform, books, first)

    for _, decision in pay_in_decisions:
        account, amount = pay_ins[decision["payInId"]]
        books.balances[account] += amount if decision["outcome"] == "SUCCEEDED" else 0
    pay_out_decisions = _decisions(rng, "payOutDecision", "payOutId", list(books.pay_outs))
    second = _transfers(rng, accounts, range(150, 300)) + pay_out_decisions
    rng.shuffle(second)

    await _run_mixed(client, platform, books, second)

    for _, decision in pay_out_decisions:
        account, amount = books.pay_outs[decision["payOutId"]]
        books.balances[account] += amount if decision["outcome"] == "FAILED" else 0
    summary = await assert_ledger_holds(db, platform.id)
    assert dict(summary.balances) == {uuid.UUID(a): b for a, b in books.balances.items()}
    assert summary.pay_outs == len(books.pay_outs) > 0
