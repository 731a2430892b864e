"""The ledger, worked examples: transfers, their entries, and every leg balanced by another."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlmodel import col

from gateway.store.engine import Database
from gateway.store.ledger_tables import LedgerEntry
from tests.conftest import PlatformHandle
from tests.support.accounts import entries, entry_lines, read_account
from tests.support.calls import mutate, node, platform_lists, success
from tests.support.documents import CREATE_TRANSFER
from tests.support.inputs import transfer_input
from tests.support.payments import create_pay_out, fund, funded_account, settle_pay_out


async def test_a_transfer_moves_money_and_writes_two_entries(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer = await funded_account(client, sandbox, 10_000)
    payee = await funded_account(client, sandbox, 0)
    input = transfer_input(payer.account_id, payee.account_id, 2_550, label=" Rent ")

    payload = await mutate(client, sandbox, CREATE_TRANSFER, input)

    created = success(payload, "CreateTransferSuccess")
    assert created["idempotentReplay"] is False
    transfer = created["transfer"]
    assert transfer["amount"] == {"amount": 2_550, "currency": "EUR", "decimal": "25.50"}
    assert (transfer["label"], transfer["status"]) == ("Rent", "SUCCEEDED")
    assert transfer["debitedAccount"] == {"id": payer.account_id, "balance": {"amount": 7_450}}
    assert transfer["creditedAccount"] == {"id": payee.account_id, "balance": {"amount": 2_550}}
    payer_entries = await entries(client, sandbox, payer.account_id)
    assert entry_lines(payer_entries)[0] == (
        "TRANSFER_OUT",
        -2_550,
        7_450,
        "Transfer",
        transfer["id"],
    )
    assert payer_entries[0]["amount"]["decimal"] == "-25.50"
    assert entry_lines(await entries(client, sandbox, payee.account_id)) == [
        ("TRANSFER_IN", 2_550, 2_550, "Transfer", transfer["id"])
    ]
    assert await node(client, sandbox, transfer["id"], "Transfer") == {
        "__typename": "Transfer",
        **transfer,
    }
    assert (await platform_lists(client, sandbox))["transfers"]["nodes"] == [transfer]


async def test_an_entry_is_a_node_that_leads_back_to_its_account_and_operation(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    payer = await funded_account(client, sandbox, 100)
    payee = await funded_account(client, sandbox, 0)
    success(
        await mutate(
            client, sandbox, CREATE_TRANSFER, transfer_input(payer.account_id, payee.account_id, 40)
        ),
        "CreateTransferSuccess",
    )
    [entry] = await entries(client, sandbox, payee.account_id)

    found = await node(client, sandbox, entry["id"], "LedgerEntry")

    assert found == {"__typename": "LedgerEntry", **entry}
    assert found["account"] == {"id": payee.account_id}
    assert found["balanceAfter"] == {"amount": 40, "currency": "EUR", "decimal": "0.40"}


async def test_the_balance_is_the_sum_of_the_entries_after_a_chain_of_transfers(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    a = await funded_account(client, sandbox, 1_000)
    b = await funded_account(client, sandbox, 0)
    moves = [(a, b, 300), (b, a, 100), (a, b, 50), (b, a, 250)]
    for debited, credited, amount in moves:
        input = transfer_input(debited.account_id, credited.account_id, amount)
        success(await mutate(client, sandbox, CREATE_TRANSFER, input), "CreateTransferSuccess")

    for account, expected in ((a, 1_000), (b, 0)):
        read = await read_account(client, sandbox, account.account_id)
        assert read["balance"]["amount"] == expected
        amounts = [entry["amount"]["amount"] for entry in read["entries"]["nodes"]]
        assert sum(amounts) == expected
        assert read["entries"]["nodes"][0]["balanceAfter"]["amount"] == expected
    assert (await platform_lists(client, sandbox))["transfers"]["totalCount"] == 4


async def test_every_operation_balances_its_legs_against_the_settlement_account(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0)
    pay_in_id = await fund(client, sandbox, funded.account_id, 500)
    transfer = success(
        await mutate(
            client,
            sandbox,
            CREATE_TRANSFER,
            transfer_input(funded.account_id, payee.account_id, 300),
        ),
        "CreateTransferSuccess",
    )["transfer"]
    pay_out_id = (await create_pay_out(client, sandbox, funded, 200))["payOut"]["id"]
    success(await settle_pay_out(client, sandbox, pay_out_id, "FAILED"), "SimulateSuccess")

    # The settlement legs are not exposed by the API: read the ledger itself.
    async with db.session() as session:
        rows = (
            await session.execute(
                sa.select(
                    col(LedgerEntry.operation_id),
                    col(LedgerEntry.kind),
                    col(LedgerEntry.amount),
                    col(LedgerEntry.account_id).is_(None),
                ).where(col(LedgerEntry.platform_id) == sandbox.id)
            )
        ).all()

    legs: dict[str, list[tuple[str, int, bool]]] = {}
    for operation_id, kind, amount, on_settlement in rows:
        legs.setdefault(str(operation_id), []).append((kind.value, amount, on_settlement))
    assert all(sum(amount for _, amount, _ in leg) == 0 for leg in legs.values()), legs
    assert sorted(legs[pay_in_id]) == [("PAY_IN", -500, True), ("PAY_IN", 500, False)]
    assert sorted(legs[transfer["id"]]) == [
        ("TRANSFER_IN", 300, False),
        ("TRANSFER_OUT", -300, False),
    ]
    assert sorted(legs[pay_out_id]) == [
        ("PAY_OUT", -200, False), ("PAY_OUT", 200, True),
        ("PAY_OUT_RETURN", -200, True), ("PAY_OUT_RETURN", 200, False),
    ]  # fmt: skip
