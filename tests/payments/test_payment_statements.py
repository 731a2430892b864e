"""What a new pay-in or pay-out costs in SQL statements, over HTTP through the app, on either
store.

A pay-in's transaction is BEGIN, five statements and COMMIT: the key's claim (naming the pay-in
already), the account locked with its user's status and the platform's currencies, the pay-in,
the event's number (with the NOTIFY on PostgreSQL) and the event; a direct debit adds the read
of its mandate. A pay-out's is BEGIN, nine statements and COMMIT: the claim, the locked
account, the bank account, the debit (into the reserve), the settlement account's leg (an
upsert), the entries, the pay-out, the event's number and the event; a fee adds its account's
upsert. No savepoint: every rule is checked before the first write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support import StatementCounter
from tests.support.accounts import add_bank_account, read_account
from tests.support.calls import mutate, rejected, success
from tests.support.inputs import money, pay_out_input, wire_input
from tests.support.payments import Funded, active_mandate, funded_account

CREATE_PAY_IN = """
mutation ($input: CreatePayInInput!) {
  createPayIn(input: $input) {
    __typename
    ... on CreatePayInSuccess { idempotentReplay payIn { id status method wireReference } }
    ... on Rejection { code message }
  }
}
"""
CREATE_PAY_OUT = """
mutation ($input: CreatePayOutInput!) {
  createPayOut(input: $input) {
    __typename
    ... on CreatePayOutSuccess { idempotentReplay payOut { id status fee { amount } } }
    ... on Rejection { code message }
  }
}
"""
PAY_IN_STATEMENTS = 5
PAY_OUT_STATEMENTS = 9


@pytest.fixture
def writes(db: Database) -> Iterator[StatementCounter]:
    """The statements of write transactions (the write engine), BEGIN and COMMIT apart."""
    with StatementCounter(db.write_engine) as counter:
        yield counter


async def test_a_wire_pay_in_is_begin_five_statements_and_commit_on_either_store(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
) -> None:
    _, payee = pair
    await mutate(client, sandbox, CREATE_PAY_IN, wire_input(payee.account_id, 10))  # warm
    writes.start()
    payload = await mutate(client, sandbox, CREATE_PAY_IN, wire_input(payee.account_id, 250))
    writes.stop()

    pay_in = success(payload, "CreatePayInSuccess")["payIn"]
    assert (pay_in["status"], pay_in["method"]) == ("CREATED", "BANK_WIRE")
    assert pay_in["wireReference"]
    assert len(writes.statements) == PAY_IN_STATEMENTS, writes.statements
    assert writes.transactions == ["BEGIN", "COMMIT"]
    assert not [sql for sql in writes.statements if "SAVEPOINT" in sql.upper()]


async def test_a_direct_debit_adds_the_read_of_its_mandate(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
) -> None:
    payer, _ = pair
    mandate_id = await active_mandate(client, sandbox, payer.user_id)
    input = wire_input(payer.account_id, 300, method="DIRECT_DEBIT", mandateId=mandate_id)
    writes.start()
    payload = await mutate(client, sandbox, CREATE_PAY_IN, input)
    writes.stop()

    assert success(payload, "CreatePayInSuccess")["payIn"]["method"] == "DIRECT_DEBIT"
    assert len(writes.statements) == PAY_IN_STATEMENTS + 1, writes.statements


async def test_a_rejected_pay_in_costs_the_claim_the_locked_read_and_the_claims_update(
    client: httpx.AsyncClient,
    eur_usd: PlatformHandle,
    writes: StatementCounter,
) -> None:
    euros = await funded_account(client, eur_usd, 0)
    writes.start()
    payload = await mutate(client, eur_usd, CREATE_PAY_IN, wire_input(euros.account_id, 5, "USD"))
    writes.stop()

    rejected(payload, "CurrencyMismatchRejection", "CURRENCY_MISMATCH")
    assert [sql.split(None, 1)[0].upper() for sql in writes.statements] == [
        "INSERT",
        "SELECT",
        "UPDATE",
    ]
    assert writes.transactions == ["BEGIN", "COMMIT"]


@pytest.mark.parametrize("fee", [None, 25])
async def test_a_pay_out_is_begin_nine_statements_and_commit_and_a_fee_adds_one(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    writes: StatementCounter,
    fee: int | None,
) -> None:
    payer, _ = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    extra: dict[str, Any] = {} if fee is None else {"fee": money(fee)}
    warm = pay_out_input(payer.account_id, bank_account_id, 100, **extra)
    success(await mutate(client, sandbox, CREATE_PAY_OUT, warm), "CreatePayOutSuccess")
    input = pay_out_input(payer.account_id, bank_account_id, 300, **extra)
    writes.start()
    payload = await mutate(client, sandbox, CREATE_PAY_OUT, input)
    writes.stop()

    pay_out = success(payload, "CreatePayOutSuccess")["payOut"]
    assert (pay_out["status"], pay_out["fee"]["amount"]) == ("CREATED", fee or 0)
    assert (await read_account(client, sandbox, payer.account_id))["balance"]["amount"] == 600
    expected = PAY_OUT_STATEMENTS + (fee is not None)
    assert len(writes.statements) == expected, writes.statements
    assert writes.transactions == ["BEGIN", "COMMIT"]
    assert not [sql for sql in writes.statements if "SAVEPOINT" in sql.upper()]
