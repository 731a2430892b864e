"""What a transfer costs in SQL statements, over HTTP through the app, on either store.

Its transaction is BEGIN, seven statements and COMMIT: the key's claim (naming the transfer
already), the accounts locked with their users' statuses and the platform's currencies, both
balances, the entries, the transfer, the event's number (with the NOTIFY on PostgreSQL) and
the event. A fee adds its account's upsert. No savepoint: every rule is checked before the
first write, so a rejection has nothing to undo and costs one UPDATE of the claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support import StatementCounter
from tests.support.calls import mutate, rejected, success
from tests.support.inputs import money, transfer_input
from tests.support.payments import Funded

CREATE_TRANSFER = """
mutation ($input: CreateTransferInput!) {
  createTransfer(input: $input) {
    __typename
    ... on CreateTransferSuccess {
      idempotentReplay
      transfer {
        id amount { amount } fee { amount } label status createdAt
        debitedAccount { id balance { amount } }
        creditedAccount { id balance { amount } }
      }
    }
    ... on Rejection { code message }
  }
}
"""
TRANSFER_STATEMENTS = 7
FEE_STATEMENTS = 1
CREDENTIAL_STATEMENTS = 1  # the request's API key (tests cache no credential)
PAYLOAD_STATEMENTS = 1  # the payload's two accounts, in one read


@pytest.fixture
def writes(db: Database) -> Iterator[StatementCounter]:
    """The statements of write transactions (the write engine), BEGIN and COMMIT apart."""
    with StatementCounter(db.write_engine) as counter:
        yield counter


@pytest.fixture
def every(db: Database) -> Iterator[StatementCounter]:
    """Every statement the request sends, on any engine."""
    with StatementCounter(db.engine, db.write_engine, db.read_engine) as counter:
        yield counter


async def _transfer(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    pair: tuple[Funded, Funded],
    **extra: Any,
) -> dict[str, Any]:
    payer, payee = pair
    input = transfer_input(payer.account_id, payee.account_id, 100, **extra)
    return await mutate(client, platform, CREATE_TRANSFER, input)


async def test_a_transfer_is_begin_seven_statements_and_commit_on_either_store(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
    every: StatementCounter,
) -> None:
    success(await _transfer(client, sandbox, pair), "CreateTransferSuccess")  # a warm pool
    writes.start()
    every.start()
    payload = await _transfer(client, sandbox, pair)
    writes.stop()
    every.stop()

    assert success(payload, "CreateTransferSuccess")["transfer"]["debitedAccount"]["balance"] == {
        "amount": 800
    }
    assert len(writes.statements) == TRANSFER_STATEMENTS, writes.statements
    assert writes.transactions == ["BEGIN", "COMMIT"]
    assert not [sql for sql in writes.statements if "SAVEPOINT" in sql.upper()]
    expected = CREDENTIAL_STATEMENTS + TRANSFER_STATEMENTS + PAYLOAD_STATEMENTS
    assert len(every.statements) == expected, every.statements


async def test_a_fee_adds_one_statement_its_accounts_upsert(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
) -> None:
    fee = {"fee": money(7)}
    success(await _transfer(client, sandbox, pair, **fee), "CreateTransferSuccess")
    writes.start()
    payload = await _transfer(client, sandbox, pair, **fee)
    writes.stop()

    transfer = success(payload, "CreateTransferSuccess")["transfer"]
    assert transfer["fee"]["amount"] == 7
    assert transfer["creditedAccount"]["balance"]["amount"] == 2 * 93
    assert len(writes.statements) == TRANSFER_STATEMENTS + FEE_STATEMENTS, writes.statements
    assert writes.transactions == ["BEGIN", "COMMIT"]


async def test_a_rejection_costs_the_claim_the_locked_read_and_the_claims_update(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
) -> None:
    payer, payee = pair
    input = transfer_input(payer.account_id, payee.account_id, 5_000)
    writes.start()
    payload = await mutate(client, sandbox, CREATE_TRANSFER, input)
    writes.stop()

    rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
    assert [sql.split(None, 1)[0].upper() for sql in writes.statements] == [
        "INSERT",
        "SELECT",
        "UPDATE",
    ]
    assert writes.transactions == ["BEGIN", "COMMIT"]


async def test_a_replay_reads_the_claim_and_the_transfer_as_it_is_now(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
) -> None:
    payer, payee = pair
    input = transfer_input(payer.account_id, payee.account_id, 100)
    original = success(
        await mutate(client, sandbox, CREATE_TRANSFER, input), "CreateTransferSuccess"
    )
    writes.start()
    replay = success(await mutate(client, sandbox, CREATE_TRANSFER, input), "CreateTransferSuccess")
    writes.stop()

    assert replay["idempotentReplay"] is True
    assert replay["transfer"]["id"] == original["transfer"]["id"]
    assert len(writes.statements) == 3, writes.statements  # the claim, its record, the transfer
