"""Account statements, worked examples: the balance at `from` and at `to`, the window's
entries and their totals by kind, on both stores."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from gateway.store.engine import Database
from gateway.store.ledger_tables import LedgerEntry
from gateway.store.tables import Account
from tests.conftest import PlatformHandle
from tests.support import StatementCounter, graphql
from tests.support.accounts import balance
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_TRANSFER
from tests.support.inputs import money, transfer_input
from tests.support.payments import (
    Funded,
    create_pay_out,
    create_wire,
    settle_pay_in,
    settle_pay_out,
)
from tests.support.tokens import as_user, user_token

STATEMENT = """
query ($id: ID!, $from: DateTime!, $to: DateTime!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Account {
      statement(from: $from, to: $to) {
        from to currency
        openingBalance { amount currency decimal }
        credits { amount }
        debits { amount }
        closingBalance { amount currency decimal }
        totalsByKind { kind count credits { amount currency } debits { amount currency } }
        entries(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes { kind amount { amount } }
        }
      }
    }
  }
}
"""
STATEMENTS_OF_ACCOUNTS = """
query ($from: DateTime!, $to: DateTime!) {
  platform {
    accounts(first: 10) {
      nodes {
        id
        statement(from: $from, to: $to) {
          openingBalance { amount } closingBalance { amount }
          totalsByKind { kind count }
          entries(first: 10) { totalCount nodes { id kind } }
        }
      }
    }
  }
}
"""
ACCOUNTS_ONLY = "{ platform { accounts(first: 10) { nodes { id } } } }"
ACCOUNT_ONLY = "query ($id: ID!) { node(id: $id) { id } }"


def now() -> dt.datetime:
    """A bound between two operations: the gateway stamps entries with the same clock."""
    return dt.datetime.now(dt.UTC)


def text(instant: dt.datetime) -> str:
    return instant.isoformat()  # microseconds and an offset: what the DateTime scalar takes


async def statement_of(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    start: dt.datetime,
    end: dt.datetime,
    **variables: Any,
) -> dict[str, Any]:
    found = await query(
        client,
        platform,
        STATEMENT,
        {"id": account_id, "from": text(start), "to": text(end), **variables},
    )
    assert found["node"] is not None, "the account is visible"
    statement: dict[str, Any] = found["node"]["statement"]
    return statement


def totals(statement: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    return [
        (t["kind"], t["credits"]["amount"], t["debits"]["amount"], t["count"])
        for t in statement["totalsByKind"]
    ]


def lines(statement: dict[str, Any]) -> list[tuple[str, int]]:
    return [(e["kind"], e["amount"]["amount"]) for e in statement["entries"]["nodes"]]


async def transfer(
    client: httpx.AsyncClient, platform: PlatformHandle, debited: str, credited: str, amount: int
) -> None:
    payload = await mutate(
        client, platform, CREATE_TRANSFER, transfer_input(debited, credited, amount)
    )
    success(payload, "CreateTransferSuccess")


async def test_a_statement_shows_the_balance_at_each_end_and_the_entries_in_between(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair  # the payer holds 1 000 from a wire, the payee nothing
    start = now()
    new = transfer_input(payer.account_id, payee.account_id, 300, fee=money(10))
    success(await mutate(client, sandbox, CREATE_TRANSFER, new), "CreateTransferSuccess")
    await transfer(client, sandbox, payee.account_id, payer.account_id, 90)
    pay_in_id = await create_wire(client, sandbox, payer.account_id, 500)
    success(await settle_pay_in(client, sandbox, pay_in_id, "SUCCEEDED"), "SimulateSuccess")
    end = now()
    await transfer(client, sandbox, payer.account_id, payee.account_id, 50)  # after the window

    statement = await statement_of(client, sandbox, payer.account_id, start, end)

    assert statement["currency"] == "EUR"
    assert statement["openingBalance"] == {"amount": 1_000, "currency": "EUR", "decimal": "10.00"}
    assert statement["credits"] == {"amount": 590}
    assert statement["debits"] == {"amount": 300}
    assert statement["closingBalance"] == {"amount": 1_290, "currency": "EUR", "decimal": "12.90"}
    assert totals(statement) == [
        ("TRANSFER_IN", 90, 0, 1),
        ("TRANSFER_OUT", 0, 300, 1),
        ("PAY_IN", 500, 0, 1),
    ]
    assert lines(statement) == [("TRANSFER_OUT", -300), ("TRANSFER_IN", 90), ("PAY_IN", 500)]
    assert statement["entries"]["totalCount"] == 3
    assert await balance(client, sandbox, payer.account_id) == 1_240
    received = await statement_of(client, sandbox, payee.account_id, start, end)
    assert (received["openingBalance"]["amount"], received["closingBalance"]["amount"]) == (0, 200)
    assert totals(received) == [("TRANSFER_IN", 290, 0, 1), ("TRANSFER_OUT", 0, 90, 1)]


async def test_a_failed_pay_out_shows_as_a_debit_and_its_return_as_a_credit(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    start = now()
    pay_out = (await create_pay_out(client, sandbox, payer, 400))["payOut"]
    success(await settle_pay_out(client, sandbox, pay_out["id"], "FAILED"), "SimulateSuccess")
    end = now()

    statement = await statement_of(client, sandbox, payer.account_id, start, end)

    assert totals(statement) == [("PAY_OUT", 0, 400, 1), ("PAY_OUT_RETURN", 400, 0, 1)]
    assert statement["openingBalance"]["amount"] == statement["closingBalance"]["amount"] == 1_000


async def _entry_times(db: Database, account_id: str) -> list[dt.datetime]:
    """The account's entries' times as stored (microseconds), oldest first."""
    statement = (
        sa.select(col(LedgerEntry.created_at))
        .where(col(LedgerEntry.account_id) == uuid.UUID(account_id))
        .order_by(col(LedgerEntry.id))
    )
    async with db.reading() as connection:
        return list((await connection.execute(statement)).scalars())


async def test_from_is_included_and_to_is_excluded_at_the_entry_s_own_instant(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    await transfer(client, sandbox, payer.account_id, payee.account_id, 250)
    funded_at, paid_at = await _entry_times(db, payer.account_id)
    later = paid_at + dt.timedelta(days=1)

    from_the_payment = await statement_of(client, sandbox, payer.account_id, paid_at, later)
    to_the_payment = await statement_of(client, sandbox, payer.account_id, funded_at, paid_at)

    assert from_the_payment["openingBalance"]["amount"] == 1_000
    assert lines(from_the_payment) == [("TRANSFER_OUT", -250)]
    assert from_the_payment["closingBalance"]["amount"] == 750
    assert to_the_payment["openingBalance"]["amount"] == 0
    assert lines(to_the_payment) == [("PAY_IN", 1_000)]
    assert to_the_payment["closingBalance"]["amount"] == 1_000


async def test_a_window_without_entries_opens_and_closes_at_the_same_balance(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    start = now()
    quiet = await statement_of(client, sandbox, payer.account_id, start, start + dt.timedelta(1))
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    before = await statement_of(
        client, sandbox, payer.account_id, long_ago, long_ago.replace(month=2)
    )

    assert (quiet["openingBalance"]["amount"], quiet["closingBalance"]["amount"]) == (1_000, 1_000)
    assert quiet["totalsByKind"] == []
    assert quiet["entries"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [],
    }
    assert (before["openingBalance"]["amount"], before["closingBalance"]["amount"]) == (0, 0)
    assert before["credits"] == before["debits"] == {"amount": 0}


async def test_the_window_s_entries_page_oldest_first(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    start = now()
    for amount in (1, 2, 3):
        await transfer(client, sandbox, payer.account_id, payee.account_id, amount)
    end = now()

    first = await statement_of(client, sandbox, payer.account_id, start, end, first=2)
    cursor = first["entries"]["pageInfo"]["endCursor"]
    rest = await statement_of(client, sandbox, payer.account_id, start, end, first=2, after=cursor)

    assert lines(first) == [("TRANSFER_OUT", -1), ("TRANSFER_OUT", -2)]
    assert first["entries"]["pageInfo"]["hasNextPage"] is True
    assert lines(rest) == [("TRANSFER_OUT", -3)]
    assert rest["entries"]["pageInfo"]["hasNextPage"] is False
    assert first["entries"]["totalCount"] == rest["entries"]["totalCount"] == 3


async def test_another_platform_and_another_user_see_no_statement_of_the_account(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    other_sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
) -> None:
    payer, payee = pair
    payee_token = as_user(sandbox, await user_token(client, sandbox, payee.user_id))
    payer_token = as_user(sandbox, await user_token(client, sandbox, payer.user_id))
    variables = {
        "id": payer.account_id,
        "from": "2026-01-01T00:00:00Z",
        "to": text(now() + dt.timedelta(days=1)),
    }

    for stranger in (other_sandbox, payee_token):
        assert await query(client, stranger, STATEMENT, variables) == {"node": None}
    own = await query(client, payer_token, STATEMENT, variables)
    assert own["node"]["statement"]["closingBalance"]["amount"] == 1_000


async def _refusal(client: httpx.AsyncClient, platform: PlatformHandle, **variables: str) -> Any:
    body = await graphql(client, STATEMENT, variables, headers=platform.headers)
    assert body.get("data") in ({"node": None}, None), body
    (error,) = body["errors"]
    return error


async def test_a_window_must_run_forward_and_span_at_most_366_days(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    account = payer.account_id
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    year = start + dt.timedelta(days=366)

    backwards = await _refusal(
        client, sandbox, id=account, **{"from": text(year), "to": text(start)}
    )
    empty = await _refusal(client, sandbox, id=account, **{"from": text(start), "to": text(start)})
    too_long = await _refusal(
        client,
        sandbox,
        id=account,
        **{"from": text(start), "to": text(year + dt.timedelta(microseconds=1))},
    )
    no_offset = await _refusal(
        client, sandbox, id=account, **{"from": "2026-01-01T00:00:00", "to": text(year)}
    )

    for error in (backwards, empty, too_long):
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "366 days" in too_long["message"]
    assert "offset" in no_offset["message"]
    assert await statement_of(client, sandbox, account, start, year)  # exactly 366 days


async def test_a_statement_costs_the_same_statements_for_one_account_or_many(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    statements: StatementCounter,
) -> None:
    payer, payee = pair
    start = now()
    await transfer(client, sandbox, payer.account_id, payee.account_id, 5)
    end = now()
    window = {"from": text(start), "to": text(end)}

    statements.start()
    await query(client, sandbox, ACCOUNT_ONLY, {"id": payer.account_id})
    one_without = statements.stop()
    statements.start()
    one = await statement_of(client, sandbox, payer.account_id, start, end)
    one_with = statements.stop()
    statements.start()
    await query(client, sandbox, ACCOUNTS_ONLY)
    many_without = statements.stop()
    statements.start()
    many = (await query(client, sandbox, STATEMENTS_OF_ACCOUNTS, window))["platform"]["accounts"]

    assert statements.stop() - many_without == one_with - one_without == 2  # sums, entries
    assert one["closingBalance"]["amount"] == 995
    closing = {n["id"]: n["statement"]["closingBalance"]["amount"] for n in many["nodes"]}
    assert closing == {payer.account_id: 995, payee.account_id: 5}


async def test_a_statement_whose_entries_do_not_add_up_to_the_balance_is_refused(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    account_id = uuid.UUID(payer.account_id)

    def shift(delta: int) -> Any:
        return (
            sa.update(Account)
            .where(col(Account.id) == account_id)
            .values(balance=col(Account.balance) + delta)
        )

    async with db.engine.begin() as connection:  # a tampered balance: the ledger says 1 000
        await connection.execute(shift(1))
    try:
        body = await graphql(
            client,
            STATEMENT,
            {"id": payer.account_id, "from": "2026-01-01T00:00:00Z", "to": text(now())},
            headers=sandbox.headers,
        )
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(shift(-1))

    assert body["data"] == {"node": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "1001" not in error["message"], "the sums stay in the log, away from the caller"
