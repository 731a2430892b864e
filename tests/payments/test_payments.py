"""Payments, worked examples: mandates, pay-ins and pay-outs on the double-entry ledger."""

from __future__ import annotations

import re
import uuid

import httpx

from gateway.domain.enums import Environment
from gateway.services.platforms import create_platform
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.accounts import (
    add_bank_account,
    entries,
    entry_lines,
    open_account,
    read_account,
)
from tests.support.calls import missing, mutate, node, platform_lists, query, success
from tests.support.documents import CREATE_PAY_IN, CREATE_PAY_OUT, CREATE_TRANSFER, SIMULATE_PAY_IN
from tests.support.events import events
from tests.support.inputs import pay_out_input, transfer_input, wire_input
from tests.support.payments import (
    active_mandate,
    create_mandate,
    create_pay_out,
    create_wire,
    fund,
    funded_account,
    settle_pay_in,
    settle_pay_out,
    simulate_mandate,
)
from tests.support.users import create_natural_user


async def test_a_bank_wire_pay_in_credits_nothing_until_it_succeeds(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)

    payload = await mutate(client, sandbox, CREATE_PAY_IN, wire_input(account_id, 12_345))

    created = success(payload, "CreatePayInSuccess")
    assert created["idempotentReplay"] is False
    pay_in = created["payIn"]
    assert (pay_in["method"], pay_in["status"], pay_in["mandate"]) == ("BANK_WIRE", "CREATED", None)
    assert re.fullmatch(r"MPS-[A-Z2-9]{12}", pay_in["wireReference"])
    assert pay_in["amount"] == {"amount": 12_345, "currency": "EUR", "decimal": "123.45"}
    assert pay_in["creditedAccount"] == {"id": account_id, "balance": {"amount": 0}}
    assert await entries(client, sandbox, account_id) == []
    assert (await platform_lists(client, sandbox))["payIns"]["nodes"] == [pay_in]

    settled = await settle_pay_in(client, sandbox, pay_in["id"], "SUCCEEDED")

    after = success(settled, "SimulateSuccess")["object"]
    assert (after["__typename"], after["status"]) == ("PayIn", "SUCCEEDED")
    assert after["creditedAccount"]["balance"] == {"amount": 12_345}
    assert entry_lines(await entries(client, sandbox, account_id)) == [
        ("PAY_IN", 12_345, 12_345, "PayIn", pay_in["id"])
    ]
    read = await node(client, sandbox, pay_in["id"], "PayIn")
    assert (read["status"], read["wireReference"]) == ("SUCCEEDED", pay_in["wireReference"])


async def test_a_failed_pay_in_credits_nothing_and_keeps_its_reason(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    pay_in_id = await create_wire(client, sandbox, account_id, 500)

    input = {"payInId": pay_in_id, "outcome": "FAILED", "reason": "Unknown reference"}

    payload = await mutate(client, sandbox, SIMULATE_PAY_IN, input)

    failed = success(payload, "SimulateSuccess")["object"]
    assert (failed["status"], failed["failureReason"]) == ("FAILED", "Unknown reference")
    assert (await read_account(client, sandbox, account_id))["balance"]["amount"] == 0
    assert await entries(client, sandbox, account_id) == []
    again = await settle_pay_in(client, sandbox, pay_in_id, "SUCCEEDED")
    assert again["__typename"] == "InvalidStateRejection"


async def test_a_mandate_starts_created_and_the_bank_activates_it(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    bank_account_id = await add_bank_account(client, sandbox, user_id)

    mandate_id = await create_mandate(client, sandbox, user_id, bank_account_id)

    mandate = await node(client, sandbox, mandate_id, "DirectDebitMandate")
    assert mandate["status"] == "CREATED"
    assert (mandate["user"], mandate["bankAccount"]) == ({"id": user_id}, {"id": bank_account_id})

    activated = await simulate_mandate(client, sandbox, mandate_id, "SUCCEEDED")

    assert success(activated, "SimulateSuccess")["object"]["status"] == "ACTIVE"
    assert (await node(client, sandbox, mandate_id, "DirectDebitMandate"))["status"] == "ACTIVE"


async def test_a_mandate_the_bank_refuses_is_failed_for_good(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    mandate_id = await create_mandate(
        client, sandbox, user_id, await add_bank_account(client, sandbox, user_id)
    )

    failed = await simulate_mandate(client, sandbox, mandate_id, "FAILED")

    assert success(failed, "SimulateSuccess")["object"]["status"] == "FAILED"
    again = await simulate_mandate(client, sandbox, mandate_id, "SUCCEEDED")
    assert again["__typename"] == "InvalidStateRejection"
    assert (await node(client, sandbox, mandate_id, "DirectDebitMandate"))["status"] == "FAILED"


async def test_a_direct_debit_pay_in_against_an_active_mandate_credits_on_success(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    mandate_id = await active_mandate(client, sandbox, user_id)
    input = wire_input(account_id, 7_000, method="DIRECT_DEBIT", mandateId=mandate_id)

    payload = await mutate(client, sandbox, CREATE_PAY_IN, input)

    pay_in = success(payload, "CreatePayInSuccess")["payIn"]
    assert (pay_in["method"], pay_in["status"], pay_in["wireReference"]) == (
        "DIRECT_DEBIT",
        "CREATED",
        None,
    )
    assert pay_in["mandate"] == {"id": mandate_id, "status": "ACTIVE"}
    success(await settle_pay_in(client, sandbox, pay_in["id"], "SUCCEEDED"), "SimulateSuccess")
    assert entry_lines(await entries(client, sandbox, account_id)) == [
        ("PAY_IN", 7_000, 7_000, "PayIn", pay_in["id"])
    ]


async def test_a_pay_out_takes_the_funds_when_it_is_created(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 10_000, validated=True)
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)
    input = pay_out_input(funded.account_id, bank_account_id, 4_000, label="Withdrawal")

    payload = await mutate(client, sandbox, CREATE_PAY_OUT, input)

    created = success(payload, "CreatePayOutSuccess")
    assert created["idempotentReplay"] is False
    pay_out = created["payOut"]
    assert (pay_out["status"], pay_out["label"], pay_out["failureReason"]) == (
        "CREATED",
        "Withdrawal",
        None,
    )
    assert pay_out["amount"] == {"amount": 4_000, "currency": "EUR", "decimal": "40.00"}
    assert pay_out["debitedAccount"] == {"id": funded.account_id, "balance": {"amount": 6_000}}
    assert pay_out["bankAccount"]["id"] == bank_account_id
    assert entry_lines(await entries(client, sandbox, funded.account_id))[0] == (
        "PAY_OUT",
        -4_000,
        6_000,
        "PayOut",
        pay_out["id"],
    )
    assert await node(client, sandbox, pay_out["id"], "PayOut") == {
        "__typename": "PayOut",
        **pay_out,
    }
    assert (await platform_lists(client, sandbox))["payOuts"]["nodes"] == [pay_out]

    sent = await settle_pay_out(client, sandbox, pay_out["id"], "SUCCEEDED")

    assert success(sent, "SimulateSuccess")["object"]["status"] == "SUCCEEDED"
    assert (await read_account(client, sandbox, funded.account_id))["balance"]["amount"] == 6_000
    assert len(await entries(client, sandbox, funded.account_id)) == 2


async def test_a_failed_pay_out_gives_the_funds_back(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 10_000, validated=True)
    pay_out = (await create_pay_out(client, sandbox, funded, 9_999))["payOut"]
    assert (await read_account(client, sandbox, funded.account_id))["balance"]["amount"] == 1

    payload = await settle_pay_out(client, sandbox, pay_out["id"], "FAILED")

    failed = success(payload, "SimulateSuccess")["object"]
    assert failed["status"] == "FAILED"
    assert failed["failureReason"]
    assert failed["debitedAccount"]["balance"] == {"amount": 10_000}
    assert entry_lines(await entries(client, sandbox, funded.account_id))[:2] == [
        ("PAY_OUT_RETURN", 9_999, 10_000, "PayOut", pay_out["id"]),
        ("PAY_OUT", -9_999, 1, "PayOut", pay_out["id"]),
    ]
    again = await settle_pay_out(client, sandbox, pay_out["id"], "FAILED")
    assert again["__typename"] == "InvalidStateRejection"
    assert (await read_account(client, sandbox, funded.account_id))["balance"]["amount"] == 10_000


async def test_amounts_are_written_with_the_currency_exponent_of_iso_4217(
    client: httpx.AsyncClient, db: Database
) -> None:
    created = await create_platform(
        db,
        name=f"Yen {uuid.uuid4().hex[:6]}",
        environment=Environment.SANDBOX,
        currencies=["JPY", "KWD"],
    )
    platform = PlatformHandle(id=created.platform.id, key=created.api_key)
    user_id = await create_natural_user(client, platform)
    yen = await open_account(client, platform, user_id, "JPY")
    dinars = await open_account(client, platform, user_id, "KWD")

    yen_input = wire_input(yen, 1_234, "JPY")
    dinar_input = wire_input(dinars, 1_234, "KWD")

    yen_pay_in = await mutate(client, platform, CREATE_PAY_IN, yen_input)
    dinar_pay_in = await mutate(client, platform, CREATE_PAY_IN, dinar_input)

    assert success(yen_pay_in, "CreatePayInSuccess")["payIn"]["amount"]["decimal"] == "1234"
    assert success(dinar_pay_in, "CreatePayInSuccess")["payIn"]["amount"]["decimal"] == "1.234"


async def test_pay_ins_and_pay_outs_are_listed_on_the_platform_oldest_first(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 300, validated=True)
    second = await fund(client, sandbox, funded.account_id, 200)
    first_out = (await create_pay_out(client, sandbox, funded, 100))["payOut"]["id"]
    second_out = (await create_pay_out(client, sandbox, funded, 50))["payOut"]["id"]

    lists = await platform_lists(client, sandbox)

    assert lists["payIns"]["totalCount"] == 2
    assert lists["payIns"]["nodes"][1]["id"] == second
    assert [p["id"] for p in lists["payOuts"]["nodes"]] == [first_out, second_out]
    assert (await read_account(client, sandbox, funded.account_id))["balance"]["amount"] == 350


async def test_another_platform_reads_none_of_these_objects(
    client: httpx.AsyncClient, sandbox: PlatformHandle, other_sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0)
    input = transfer_input(funded.account_id, payee.account_id, 100)
    transfer_id = success(
        await mutate(client, sandbox, CREATE_TRANSFER, input), "CreateTransferSuccess"
    )["transfer"]["id"]
    pay_out = (await create_pay_out(client, sandbox, funded, 100))["payOut"]
    mandate_id = await active_mandate(client, sandbox, funded.user_id)
    [entry, *_] = await entries(client, sandbox, funded.account_id)
    [pay_in] = (await platform_lists(client, sandbox))["payIns"]["nodes"]
    documents = await query(
        client,
        sandbox,
        "query ($id: ID!) { node(id: $id) { ... on User { documents { id } } } }",
        {"id": funded.user_id},
    )
    [document] = documents["node"]["documents"]
    [event, *_] = await events(client, sandbox)
    owned = {
        transfer_id: "Transfer",
        pay_in["id"]: "PayIn",
        pay_out["id"]: "PayOut",
        entry["id"]: "LedgerEntry",
        pay_out["bankAccount"]["id"]: "BankAccount",
        mandate_id: "DirectDebitMandate",
        document["id"]: "KycDocument",
    }

    for object_id, typename in owned.items():
        assert (await node(client, sandbox, object_id, typename))["id"] == object_id
        assert await missing(client, other_sandbox, object_id), typename
    assert await missing(client, other_sandbox, event["id"])
