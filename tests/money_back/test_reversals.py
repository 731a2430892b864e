"""Reversals of transfers through the API, on both stores: worked examples of moving all or
part of a transfer back, with and without its fee, and what is refused."""

from __future__ import annotations

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.services.money_back import BULK_ITEMS_MAX
from gateway.store.engine import Database
from tests.ledger.invariants import assert_ledger_holds
from tests.security.parties import user_token
from tests.support import StatementCounter
from tests.support.accounts import balance, entries, entry_lines
from tests.support.calls import (
    field_paths,
    mutate,
    query,
    rejected,
    state,
    success,
    top_level_error,
)
from tests.support.documents import BLOCK_ACCOUNT, document
from tests.support.inputs import money
from tests.support.money_back import (
    REVERSE_TRANSFER,
    fee_balances,
    reversal_input,
    reverse,
    transfer,
)
from tests.support.payments import Funded
from tests.support.platforms import PlatformHandle, key_with_role

REVERSED_EVENTS = """{ platform { events(types: [TRANSFER_REVERSED]) {
  nodes { objectId type previousStatus status } } } }"""
REVERSE_TRANSFERS = document("ReverseTransfers")
TRANSFERS_WITH_REVERSALS = """{ platform { transfers(first: 50) { nodes {
  id reversedAmount { amount } reversals { id amount { amount } transfer { id } } } } } }"""


async def _balances(client: httpx.AsyncClient, platform: PlatformHandle, *ids: str) -> list[int]:
    return [await balance(client, platform, account_id) for account_id in ids]


async def test_a_transfer_is_reversed_in_parts_then_whole_up_to_its_amount(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(client, sandbox, payer.account_id, payee.account_id, 600)

    first = success(
        await reverse(client, sandbox, reversal_input(transfer_id, 200, label="wrong amount")),
        "ReverseTransferSuccess",
    )["reversal"]
    assert first["amount"] == {"amount": 200, "currency": "EUR"}
    assert first["feeRefunded"]["amount"] == 0
    assert first["label"] == "wrong amount"
    assert first["status"] == "SUCCEEDED"
    assert first["transfer"]["reversedAmount"]["amount"] == 200
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [600, 400]

    rest = success(
        await reverse(client, sandbox, reversal_input(transfer_id)), "ReverseTransferSuccess"
    )["reversal"]
    assert rest["amount"]["amount"] == 400  # no amount: everything still reversible
    assert rest["transfer"]["reversedAmount"]["amount"] == 600
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [1_000, 0]

    again = await reverse(client, sandbox, reversal_input(transfer_id, 1))
    rejected(again, "InvalidStateRejection", "INVALID_STATE")

    listed = (await query(client, sandbox, TRANSFERS_WITH_REVERSALS))["platform"]["transfers"]
    (node,) = [t for t in listed["nodes"] if t["id"] == transfer_id]
    assert [r["id"] for r in node["reversals"]] == [first["id"], rest["id"]]
    assert {r["transfer"]["id"] for r in node["reversals"]} == {transfer_id}
    lines = entry_lines(await entries(client, sandbox, payee.account_id))
    assert lines[:2] == [
        ("TRANSFER_REVERSAL_OUT", -400, 0, "TransferReversal", rest["id"]),
        ("TRANSFER_REVERSAL_OUT", -200, 400, "TransferReversal", first["id"]),
    ]
    events = (await query(client, sandbox, REVERSED_EVENTS))["platform"]["events"]["nodes"]
    assert [e["objectId"] for e in events] == [first["id"], rest["id"]]
    assert {e["status"] for e in events} == {"SUCCEEDED"}
    await assert_ledger_holds(db, sandbox.id)


async def test_a_reversal_can_give_the_fee_back_once(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(client, sandbox, payer.account_id, payee.account_id, 1_000, 50)
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [0, 950]
    assert await fee_balances(client, sandbox) == {"EUR": 50}

    first = success(
        await reverse(client, sandbox, reversal_input(transfer_id, 500, refund_fee=True)),
        "ReverseTransferSuccess",
    )["reversal"]
    assert first["feeRefunded"]["amount"] == 50
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [550, 450]
    assert await fee_balances(client, sandbox) == {"EUR": 0}

    rest = success(
        await reverse(client, sandbox, reversal_input(transfer_id, refund_fee=True)),
        "ReverseTransferSuccess",
    )["reversal"]
    assert rest["amount"]["amount"] == 450  # what the transfer credited: amount - fee
    assert rest["feeRefunded"]["amount"] == 0  # already given back
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [1_000, 0]
    summary = await assert_ledger_holds(db, sandbox.id)
    assert summary.fee_balances == {"EUR": 0}


async def test_a_reversal_gives_back_only_its_own_transfers_fee(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    with_fee = await transfer(client, sandbox, payer.account_id, payee.account_id, 500, 20)
    without = await transfer(client, sandbox, payer.account_id, payee.account_id, 100)

    payload = await reverse(client, sandbox, reversal_input(without, 10, refund_fee=True))

    assert success(payload, "ReverseTransferSuccess")["reversal"]["feeRefunded"]["amount"] == 0
    assert await fee_balances(client, sandbox) == {"EUR": 20}
    payload = await reverse(client, sandbox, reversal_input(with_fee, 10, refund_fee=True))
    assert success(payload, "ReverseTransferSuccess")["reversal"]["feeRefunded"]["amount"] == 20
    assert await fee_balances(client, sandbox) == {"EUR": 0}
    await assert_ledger_holds(db, sandbox.id)


async def test_reversing_more_than_the_credited_account_holds_is_insufficient_funds(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(client, sandbox, payer.account_id, payee.account_id, 600)
    await transfer(client, sandbox, payee.account_id, payer.account_id, 500)
    before = await state(client, sandbox, payer.account_id, payee.account_id, transfer_id)

    payload = await reverse(client, sandbox, reversal_input(transfer_id))

    refused = rejected(payload, "InsufficientFundsRejection", "INSUFFICIENT_FUNDS")
    assert refused["available"] == {"amount": 100, "currency": "EUR", "decimal": "1.00"}
    assert await state(client, sandbox, payer.account_id, payee.account_id, transfer_id) == before


async def test_over_reversal_another_currency_and_blocked_accounts_are_refused(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(client, sandbox, payer.account_id, payee.account_id, 300)
    before = await state(client, sandbox, payer.account_id, payee.account_id)

    over = await reverse(client, sandbox, reversal_input(transfer_id, 301))
    rejected(over, "InvalidStateRejection", "INVALID_STATE")
    usd = {**reversal_input(transfer_id), "amount": money(10, "USD")}
    rejected(await reverse(client, sandbox, usd), "CurrencyMismatchRejection", "CURRENCY_MISMATCH")
    zero = await reverse(client, sandbox, reversal_input(transfer_id, 0))
    rejected(zero, "ValidationRejection", "VALIDATION_FAILED")
    unknown = await reverse(client, sandbox, reversal_input(payee.account_id, 10))
    rejected(unknown, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id, payee.account_id) == before

    success(
        await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": payee.account_id}),
        "AccountStatusSuccess",
    )
    blocked = await reverse(client, sandbox, reversal_input(transfer_id, 10))
    rejected(blocked, "InvalidStateRejection", "INVALID_STATE")


async def test_a_replay_returns_the_reversal_and_another_input_conflicts(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(client, sandbox, payer.account_id, payee.account_id, 600)
    new = reversal_input(transfer_id, 100)

    first = success(await reverse(client, sandbox, new), "ReverseTransferSuccess")
    replay = success(await reverse(client, sandbox, new), "ReverseTransferSuccess")

    assert (first["idempotentReplay"], replay["idempotentReplay"]) == (False, True)
    assert replay["reversal"]["id"] == first["reversal"]["id"]
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [500, 500]
    conflict = await reverse(client, sandbox, {**new, "amount": money(101)})
    rejected(conflict, "IdempotencyConflictRejection", "IDEMPOTENCY_CONFLICT")


async def test_user_tokens_and_readonly_keys_may_not_reverse(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    transfer_id = await transfer(client, sandbox, payer.account_id, payee.account_id, 600)
    payee_token = await user_token(client, sandbox, payee.user_id)
    readonly = await key_with_role(db, sandbox, ApiKeyRole.READONLY)
    operator = await key_with_role(db, sandbox, ApiKeyRole.OPERATOR)

    for credential in (payee_token, readonly):
        error = await top_level_error(
            client, credential, REVERSE_TRANSFER, reversal_input(transfer_id, 10)
        )
        assert error["extensions"]["code"] == "FORBIDDEN"
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [400, 600]
    by_operator = await reverse(client, operator, reversal_input(transfer_id, 10))
    success(by_operator, "ReverseTransferSuccess")


async def test_the_reversals_of_a_page_of_transfers_cost_one_statement(
    client: httpx.AsyncClient,
    sandbox: PlatformHandle,
    pair: tuple[Funded, Funded],
    statements: StatementCounter,
) -> None:
    payer, payee = pair
    first = await transfer(client, sandbox, payer.account_id, payee.account_id, 100)
    await reverse(client, sandbox, reversal_input(first, 10))
    statements.start()
    await query(client, sandbox, TRANSFERS_WITH_REVERSALS)
    with_one = statements.stop()
    for _ in range(4):
        more = await transfer(client, sandbox, payer.account_id, payee.account_id, 100)
        await reverse(client, sandbox, reversal_input(more, 10))

    statements.start()
    listed = await query(client, sandbox, TRANSFERS_WITH_REVERSALS)
    with_five = statements.stop()

    assert len(listed["platform"]["transfers"]["nodes"]) == 5
    assert with_five == with_one


async def test_reversals_in_bulk_answer_each_item_in_order_within_a_bounded_list(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    first = await transfer(client, sandbox, payer.account_id, payee.account_id, 300)
    second = await transfer(client, sandbox, payer.account_id, payee.account_id, 200)
    items = [reversal_input(first), reversal_input(second, 201), reversal_input(second, 50)]

    payload = await mutate(client, sandbox, REVERSE_TRANSFERS, {"items": items})
    replayed = await mutate(client, sandbox, REVERSE_TRANSFERS, {"items": items})

    kinds = [r["__typename"] for r in payload["results"]]
    assert kinds == ["ReverseTransferSuccess", "InvalidStateRejection", "ReverseTransferSuccess"]
    assert [r["__typename"] for r in replayed["results"]] == kinds
    assert replayed["results"][2]["idempotentReplay"] is True
    assert await _balances(client, sandbox, payer.account_id, payee.account_id) == [850, 150]
    too_many = [reversal_input(first, 1)] * (BULK_ITEMS_MAX + 1)
    refused = await mutate(client, sandbox, REVERSE_TRANSFERS, {"items": too_many})
    assert field_paths(refused) == ["items"]
    await assert_ledger_holds(db, sandbox.id)
