"""Refunding many pay-ins at once (a crowdfunding campaign that fails refunds its backers):
one result per item, in order, each item on its own, and a bounded list."""

from __future__ import annotations

import httpx

from gateway.services.refunds import REFUNDS_PER_REQUEST_MAX
from gateway.store.engine import Database
from tests.ledger.invariants import assert_ledger_holds
from tests.security.parties import user_token
from tests.support.accounts import balance, open_account
from tests.support.calls import field_paths, mutate, state, top_level_error
from tests.support.inputs import new_key
from tests.support.money_back import REFUND_PAY_INS, refund_input, settled_pay_in
from tests.support.platforms import PlatformHandle
from tests.support.users import create_natural_user

BACKERS = 3


async def _backed(client: httpx.AsyncClient, platform: PlatformHandle) -> tuple[str, list[str]]:
    """A campaign's account and the pay-ins of its backers (100, 200, 300)."""
    account_id = await open_account(client, platform, await create_natural_user(client, platform))
    pay_ins = [
        await settled_pay_in(client, platform, account_id, 100 * (n + 1)) for n in range(BACKERS)
    ]
    return account_id, pay_ins


async def test_each_item_gets_its_own_result_in_order_and_rejections_touch_no_other(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    account_id, (first, second, third) = await _backed(client, sandbox)
    items = [
        refund_input(first),
        refund_input(second, 201),  # more than it credited
        refund_input(account_id),  # not a pay-in
        refund_input(third),
    ]

    payload = await mutate(client, sandbox, REFUND_PAY_INS, {"items": items})

    results = payload["results"]
    assert [r["__typename"] for r in results] == [
        "RefundPayInSuccess",
        "InvalidStateRejection",
        "NotFoundRejection",
        "RefundPayInSuccess",
    ]
    assert [results[0]["refund"]["amount"]["amount"], results[3]["refund"]["amount"]["amount"]] == [
        100,
        300,
    ]
    assert await balance(client, sandbox, account_id) == 200  # the second backer's pay-in stays
    again = await mutate(client, sandbox, REFUND_PAY_INS, {"items": items})
    replayed = again["results"]
    assert [r["__typename"] for r in replayed] == [r["__typename"] for r in results]
    assert [replayed[0]["idempotentReplay"], replayed[3]["idempotentReplay"]] == [True, True]
    assert replayed[3]["refund"]["id"] == results[3]["refund"]["id"]
    assert await balance(client, sandbox, account_id) == 200
    summary = await assert_ledger_holds(db, sandbox.id)
    assert summary.refunds == 2


async def test_two_items_of_one_pay_in_share_its_room(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id, (first, *_) = await _backed(client, sandbox)
    items = [refund_input(first, 60), refund_input(first, 60), refund_input(first, 40)]

    payload = await mutate(client, sandbox, REFUND_PAY_INS, {"items": items})

    kinds = [r["__typename"] for r in payload["results"]]
    assert kinds == ["RefundPayInSuccess", "InvalidStateRejection", "RefundPayInSuccess"]
    assert await balance(client, sandbox, account_id) == 500


async def test_more_items_than_the_limit_or_none_is_a_validation_rejection_and_runs_nothing(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id, pay_ins = await _backed(client, sandbox)
    before = await state(client, sandbox, account_id, *pay_ins)
    too_many = [refund_input(pay_ins[0], 1) for _ in range(REFUNDS_PER_REQUEST_MAX + 1)]

    for items in (too_many, []):
        payload = await mutate(client, sandbox, REFUND_PAY_INS, {"items": items})
        assert field_paths(payload) == ["items"]
    assert await state(client, sandbox, account_id, *pay_ins) == before
    at_the_limit = [
        {
            "payInId": pay_ins[2],
            "amount": {"amount": 1, "currency": "EUR"},
            "idempotencyKey": new_key(),
        }
        for _ in range(REFUNDS_PER_REQUEST_MAX)
    ]
    payload = await mutate(client, sandbox, REFUND_PAY_INS, {"items": at_the_limit})
    kinds = {r["__typename"] for r in payload["results"]}
    assert kinds == {"RefundPayInSuccess", "InvalidStateRejection"}  # 300 of 500 fit


async def test_a_user_token_may_not_refund(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    account_id = await open_account(
        client, sandbox, user_id := await create_natural_user(client, sandbox)
    )
    pay_in_id = await settled_pay_in(client, sandbox, account_id, 100)
    token = await user_token(client, sandbox, user_id)

    error = await top_level_error(
        client, token, REFUND_PAY_INS, {"items": [refund_input(pay_in_id)]}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await balance(client, sandbox, account_id) == 100
