"""Platform fees on transfers, pay-ins and pay-outs, through the API on both stores: the fee
comes out of the amount and lands on the platform's fee account for the currency."""

from __future__ import annotations

import httpx

from gateway.store.engine import Database
from tests.ledger.concurrent import CREATE_TRANSFER as LEAN_TRANSFER
from tests.ledger.invariants import assert_ledger_holds
from tests.security.parties import user_token
from tests.support.accounts import add_bank_account, balance
from tests.support.calls import field_paths, mutate, query, rejected, state, success
from tests.support.documents import CREATE_PAY_IN, CREATE_PAY_OUT, CREATE_TRANSFER
from tests.support.inputs import money, pay_out_input, transfer_input, wire_input
from tests.support.money_back import fee_balances
from tests.support.payments import Funded, settle_pay_in, settle_pay_out
from tests.support.platforms import PlatformHandle

FEES = "query ($id: ID!) { node(id: $id) { ... on Transfer { fee { amount } } ... on PayIn {"
FEES += " fee { amount } } ... on PayOut { fee { amount } } } }"


async def _fee_of(client: httpx.AsyncClient, platform: PlatformHandle, node_id: str) -> int:
    fee: int = (await query(client, platform, FEES, {"id": node_id}))["node"]["fee"]["amount"]
    return fee


async def test_a_transfer_fee_comes_out_of_the_amount(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    new = transfer_input(payer.account_id, payee.account_id, 100, fee=money(5))

    created = success(await mutate(client, sandbox, CREATE_TRANSFER, new), "CreateTransferSuccess")

    assert await balance(client, sandbox, payer.account_id) == 900
    assert await balance(client, sandbox, payee.account_id) == 95
    assert await _fee_of(client, sandbox, created["transfer"]["id"]) == 5
    assert await fee_balances(client, sandbox) == {"EUR": 5}
    plain = transfer_input(payer.account_id, payee.account_id, 100)
    plain_id = success(
        await mutate(client, sandbox, CREATE_TRANSFER, plain), "CreateTransferSuccess"
    )
    assert await _fee_of(client, sandbox, plain_id["transfer"]["id"]) == 0
    summary = await assert_ledger_holds(db, sandbox.id)
    assert summary.fee_balances == {"EUR": 5}


async def test_a_pay_in_fee_is_collected_when_it_succeeds_only(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    _, payee = pair
    wires = [wire_input(payee.account_id, 100, fee=money(5)) for _ in range(2)]
    ids = [
        success(await mutate(client, sandbox, CREATE_PAY_IN, w), "CreatePayInSuccess")["payIn"][
            "id"
        ]
        for w in wires
    ]
    assert await fee_balances(client, sandbox) == {}  # nothing collected before settlement

    success(await settle_pay_in(client, sandbox, ids[0], "SUCCEEDED"), "SimulateSuccess")
    success(await settle_pay_in(client, sandbox, ids[1], "FAILED"), "SimulateSuccess")

    assert await balance(client, sandbox, payee.account_id) == 95
    assert await fee_balances(client, sandbox) == {"EUR": 5}
    assert await _fee_of(client, sandbox, ids[1]) == 5
    await assert_ledger_holds(db, sandbox.id)


async def test_a_pay_out_fee_is_collected_at_once_and_given_back_if_it_fails(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, _ = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    new = pay_out_input(payer.account_id, bank_account_id, 100, fee=money(5))

    created = success(await mutate(client, sandbox, CREATE_PAY_OUT, new), "CreatePayOutSuccess")

    assert await balance(client, sandbox, payer.account_id) == 900
    assert await fee_balances(client, sandbox) == {"EUR": 5}
    success(
        await settle_pay_out(client, sandbox, created["payOut"]["id"], "FAILED"), "SimulateSuccess"
    )
    assert await balance(client, sandbox, payer.account_id) == 1_000
    assert await fee_balances(client, sandbox) == {"EUR": 0}
    await assert_ledger_holds(db, sandbox.id)


async def test_a_fee_in_another_currency_or_not_below_the_amount_is_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    bank_account_id = await add_bank_account(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id, payee.account_id)
    requests = [
        (CREATE_TRANSFER, transfer_input(payer.account_id, payee.account_id, 100)),
        (CREATE_PAY_IN, wire_input(payee.account_id, 100)),
        (CREATE_PAY_OUT, pay_out_input(payer.account_id, bank_account_id, 100)),
    ]

    for document, new in requests:
        usd = await mutate(client, sandbox, document, {**new, "fee": money(5, "USD")})
        rejected(usd, "CurrencyMismatchRejection", "CURRENCY_MISMATCH")
        for fee in (100, 101, 0):
            payload = await mutate(client, sandbox, document, {**new, "fee": money(fee)})
            assert field_paths(payload) == ["fee.amount"]

    assert await state(client, sandbox, payer.account_id, payee.account_id) == before
    assert await fee_balances(client, sandbox) == {}


async def test_only_the_platform_sets_fees_and_sees_its_fee_accounts(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    token = await user_token(client, sandbox, payer.user_id)
    new = transfer_input(payer.account_id, payee.account_id, 100, fee=money(5))
    success(await mutate(client, sandbox, CREATE_TRANSFER, new), "CreateTransferSuccess")

    with_fee = transfer_input(payer.account_id, payee.account_id, 100, fee=money(5))
    payload = await mutate(client, token, CREATE_TRANSFER, with_fee)

    rejected(payload, "ForbiddenRejection", "FORBIDDEN")
    assert await balance(client, sandbox, payer.account_id) == 900
    assert await fee_balances(client, token) == {}
    assert await fee_balances(client, sandbox) == {"EUR": 5}
    without = transfer_input(payer.account_id, payee.account_id, 100)
    success(await mutate(client, token, LEAN_TRANSFER, without), "CreateTransferSuccess")
