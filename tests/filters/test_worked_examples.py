"""Each filter on each connection, worked through on a small ledger, in both orders."""

from __future__ import annotations

import httpx

from tests.conftest import PlatformHandle
from tests.filters.ledger import busy_ledger, entries_page, events_page, ids, page, transfer
from tests.support.calls import success
from tests.support.payments import create_pay_out, create_wire, settle_pay_in, settle_pay_out


async def test_transfers_in_a_range_of_amounts_come_oldest_or_newest_first(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 250, 400, 900])
    small, mid, large, huge = ledger.transfers
    window = {"amount": {"min": 250, "max": 400}}

    assert await ids(client, sandbox, "transfers", filter=window, direction="ASC") == [mid, large]
    assert await ids(client, sandbox, "transfers", filter=window, direction="DESC") == [large, mid]
    assert await ids(client, sandbox, "transfers", filter={"amount": {"min": 400}}) == [large, huge]
    assert await ids(client, sandbox, "transfers", filter={"amount": {"max": 100}}) == [small]
    everything = await ids(client, sandbox, "transfers", direction="DESC")
    assert everything == [huge, large, mid, small]
    assert await ids(client, sandbox, "transfers", filter={"status": "SUCCEEDED"}) == [
        small,
        mid,
        large,
        huge,
    ]


async def test_transfers_in_a_range_of_dates_take_from_and_leave_out_to(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [10, 20, 30])
    listed = (await page(client, sandbox, "transfers", direction="ASC", first=10))["nodes"]
    first, second, third = (node["createdAt"] for node in listed)
    assert [node["id"] for node in listed] == ledger.transfers

    between = {"createdAt": {"from": second, "to": third}}
    assert await ids(client, sandbox, "transfers", filter=between) == [ledger.transfers[1]]
    since = {"createdAt": {"from": second}}
    assert await ids(client, sandbox, "transfers", filter=since) == ledger.transfers[1:]
    until = {"createdAt": {"to": second}}
    assert await ids(client, sandbox, "transfers", filter=until) == ledger.transfers[:1]
    assert first <= second <= third
    found = await page(client, sandbox, "transfers", filter=between)
    assert found["totalCount"] == 1


async def test_pay_ins_filter_by_status_method_and_amount(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [])
    account = ledger.payee.account_id
    settled = await create_wire(client, sandbox, account, 700)
    success(await settle_pay_in(client, sandbox, settled, "SUCCEEDED"), "SimulateSuccess")
    failed = await create_wire(client, sandbox, account, 800)
    success(await settle_pay_in(client, sandbox, failed, "FAILED"), "SimulateSuccess")
    waiting = await create_wire(client, sandbox, account, 900)
    all_pay_ins = await ids(client, sandbox, "payIns", direction="ASC")
    funding = all_pay_ins[0]  # the payer's wire of 10 000
    assert all_pay_ins == [funding, settled, failed, waiting]

    succeeded = {"status": "SUCCEEDED"}
    assert await ids(client, sandbox, "payIns", filter=succeeded) == [funding, settled]
    assert await ids(client, sandbox, "payIns", filter=succeeded, direction="DESC") == [
        settled,
        funding,
    ]
    assert await ids(client, sandbox, "payIns", filter={"status": "FAILED"}) == [failed]
    wires = {"method": "BANK_WIRE", "amount": {"min": 750, "max": 900}}
    assert await ids(client, sandbox, "payIns", filter=wires) == [failed, waiting]
    assert await ids(client, sandbox, "payIns", filter={"method": "DIRECT_DEBIT"}) == []


async def test_pay_outs_filter_by_status_and_amount(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [])
    paid = (await create_pay_out(client, sandbox, ledger.payer, 300))["payOut"]["id"]
    success(await settle_pay_out(client, sandbox, paid, "SUCCEEDED"), "SimulateSuccess")
    failed = (await create_pay_out(client, sandbox, ledger.payer, 400))["payOut"]["id"]
    success(await settle_pay_out(client, sandbox, failed, "FAILED"), "SimulateSuccess")
    pending = (await create_pay_out(client, sandbox, ledger.payer, 500))["payOut"]["id"]

    assert await ids(client, sandbox, "payOuts", filter={"status": "SUCCEEDED"}) == [paid]
    assert await ids(client, sandbox, "payOuts", filter={"status": "FAILED"}) == [failed]
    over = {"amount": {"min": 350}}
    assert await ids(client, sandbox, "payOuts", filter=over) == [failed, pending]
    assert await ids(client, sandbox, "payOuts", filter=over, direction="DESC") == [
        pending,
        failed,
    ]


async def test_an_accounts_entries_filter_by_kind_and_signed_amount(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 250, 400])
    account = ledger.payer.account_id

    newest_first = await entries_page(client, sandbox, account, filter={"kind": "TRANSFER_OUT"})
    amounts = [node["amount"]["amount"] for node in newest_first["nodes"]]
    assert amounts == [-400, -250, -100]
    oldest_first = await entries_page(client, sandbox, account, direction="ASC")
    assert [(n["kind"], n["amount"]["amount"]) for n in oldest_first["nodes"]] == [
        ("PAY_IN", 10_000),
        ("TRANSFER_OUT", -100),
        ("TRANSFER_OUT", -250),
        ("TRANSFER_OUT", -400),
    ]
    debits = {"amount": {"min": -300, "max": -1}}
    found = await entries_page(client, sandbox, account, filter=debits, direction="ASC")
    assert [node["amount"]["amount"] for node in found["nodes"]] == [-100, -250]
    assert found["totalCount"] == 2
    credit = await entries_page(client, sandbox, account, filter={"amount": {"min": 1}})
    assert [node["kind"] for node in credit["nodes"]] == ["PAY_IN"]
    since = {"createdAt": {"from": oldest_first["nodes"][2]["createdAt"]}}
    later = await entries_page(client, sandbox, account, filter=since)
    assert [node["amount"]["amount"] for node in later["nodes"]] == [-400, -250]


async def test_events_filter_by_type_status_and_date_either_way(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 200])
    kind = {"type": "TRANSFER_SUCCESSFUL"}

    oldest = await events_page(client, sandbox, filter=kind, direction="ASC")
    newest = await events_page(client, sandbox, filter=kind, direction="DESC")
    assert [node["objectId"] for node in oldest["nodes"]] == ledger.transfers
    assert [node["objectId"] for node in newest["nodes"]] == ledger.transfers[::-1]
    paid = await events_page(client, sandbox, filter={"type": "PAY_IN_SUCCESSFUL"})
    assert paid["totalCount"] == 1  # the payer's wire (the payee starts empty)
    succeeded = await events_page(client, sandbox, filter={"status": "SUCCEEDED", **kind})
    assert succeeded["totalCount"] == 2
    since = {"occurredAt": {"from": oldest["nodes"][1]["occurredAt"]}, **kind}
    later = await events_page(client, sandbox, filter=since)
    assert [node["objectId"] for node in later["nodes"]] == ledger.transfers[1:]


async def test_without_filter_or_order_a_connection_reads_as_before(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 200])
    await transfer(client, sandbox, ledger.payer, ledger.payee, 300)

    plain = await page(client, sandbox, "transfers", first=10)
    assert [node["id"] for node in plain["nodes"]][:2] == ledger.transfers
    entries = await entries_page(client, sandbox, ledger.payer.account_id)
    assert [node["amount"]["amount"] for node in entries["nodes"]] == [-300, -200, -100, 10_000]
