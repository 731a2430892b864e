"""Rejections of mandates, pay-ins and pay-outs: a pay-out needs a validated user and the user's
own bank account, a direct debit an ACTIVE mandate of the account's user. Each is a named union
member with a `code`, and none of them changes anything."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account
from tests.support.calls import field_paths, mutate, rejected, state, success
from tests.support.documents import CREATE_MANDATE, CREATE_PAY_IN, CREATE_PAY_OUT
from tests.support.inputs import pay_out_input, wire_input
from tests.support.payments import (
    Funded,
    active_mandate,
    create_mandate,
    funded_account,
    simulate_mandate,
)


async def test_a_pay_out_needs_a_validated_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    funded = await funded_account(client, sandbox, 1_000)
    bank_account_id = await add_bank_account(client, sandbox, funded.user_id)
    before = await state(client, sandbox, funded.account_id)

    payload = await mutate(
        client, sandbox, CREATE_PAY_OUT, pay_out_input(funded.account_id, bank_account_id, 10)
    )

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, funded.account_id) == before


async def test_a_pay_out_to_another_users_bank_account_is_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    payees_bank_account = await add_bank_account(client, sandbox, payee.user_id)
    before = await state(client, sandbox, payer.account_id)

    payload = await mutate(
        client, sandbox, CREATE_PAY_OUT, pay_out_input(payer.account_id, payees_bank_account, 10)
    )

    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id) == before


async def test_direct_debits_need_an_active_mandate_of_the_accounts_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    created = await create_mandate(
        client, sandbox, payer.user_id, await add_bank_account(client, sandbox, payer.user_id)
    )
    failed = await create_mandate(
        client, sandbox, payer.user_id, await add_bank_account(client, sandbox, payer.user_id)
    )
    success(await simulate_mandate(client, sandbox, failed, "FAILED"), "SimulateSuccess")
    payees_mandate = await active_mandate(client, sandbox, payee.user_id)
    mine = await active_mandate(client, sandbox, payer.user_id)
    before = await state(client, sandbox, payer.account_id)

    def debit(**more: Any) -> dict[str, Any]:
        return wire_input(payer.account_id, 10, method="DIRECT_DEBIT", **more)

    assert field_paths(await mutate(client, sandbox, CREATE_PAY_IN, debit())) == ["mandateId"]
    assert field_paths(
        await mutate(
            client, sandbox, CREATE_PAY_IN, wire_input(payer.account_id, 10, mandateId=mine)
        )
    ) == ["mandateId"]
    for mandate_id in (created, failed):
        payload = await mutate(client, sandbox, CREATE_PAY_IN, debit(mandateId=mandate_id))
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    payload = await mutate(client, sandbox, CREATE_PAY_IN, debit(mandateId=payees_mandate))
    rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, payer.account_id) == before


async def test_a_mandate_on_another_users_bank_account_is_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, pair: tuple[Funded, Funded]
) -> None:
    payer, payee = pair
    payees_bank_account = await add_bank_account(client, sandbox, payee.user_id)

    payload = await mutate(
        client,
        sandbox,
        CREATE_MANDATE,
        {"userId": payer.user_id, "bankAccountId": payees_bank_account},
    )

    rejected(payload, "NotFoundRejection", "NOT_FOUND")
