"""cancelMandate: ACTIVE -> CANCELED, after which no direct debit may use the mandate."""

from __future__ import annotations

import httpx

from gateway.domain.enums import ApiKeyRole
from gateway.store.engine import Database
from tests.support.accounts import add_bank_account, open_account
from tests.support.calls import mutate, rejected, state, success, top_level_error
from tests.support.documents import CANCEL_MANDATE, CREATE_PAY_IN
from tests.support.events import events, summary
from tests.support.inputs import new_key, wire_input
from tests.support.payments import active_mandate, create_mandate
from tests.support.platforms import PlatformHandle, key_with_role
from tests.support.tokens import as_user, user_token
from tests.support.users import create_natural_user


async def test_a_canceled_mandate_refuses_later_direct_debits(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    mandate_id = await active_mandate(client, sandbox, user_id)

    canceled = await mutate(client, sandbox, CANCEL_MANDATE, {"mandateId": mandate_id})

    assert success(canceled, "CancelMandateSuccess")["mandate"]["status"] == "CANCELED"
    debit = wire_input(account_id, 100, method="DIRECT_DEBIT", mandateId=mandate_id)
    refused = await mutate(client, sandbox, CREATE_PAY_IN, debit)
    assert "CANCELED" in rejected(refused, "InvalidStateRejection", "INVALID_STATE")["message"]
    again = await mutate(client, sandbox, CANCEL_MANDATE, {"mandateId": mandate_id})
    assert "CANCELED" in rejected(again, "InvalidStateRejection", "INVALID_STATE")["message"]
    assert summary(await events(client, sandbox, ["MANDATE_CANCELED"])) == [
        ("MANDATE_CANCELED", "ACTIVE", "CANCELED")
    ]


async def test_a_mandate_the_bank_has_not_activated_cannot_be_canceled(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    bank_account_id = await add_bank_account(client, sandbox, user_id)
    mandate_id = await create_mandate(client, sandbox, user_id, bank_account_id)
    refused = await mutate(client, sandbox, CANCEL_MANDATE, {"mandateId": mandate_id})
    assert "CREATED" in rejected(refused, "InvalidStateRejection", "INVALID_STATE")["message"]


async def test_a_user_token_cancels_its_own_mandate_and_no_other(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    mine = await create_natural_user(client, sandbox)
    other = await create_natural_user(client, sandbox)
    own_mandate = await active_mandate(client, sandbox, mine)
    other_mandate = await active_mandate(client, sandbox, other)
    me = as_user(sandbox, await user_token(client, sandbox, mine))
    before = await state(client, sandbox, other_mandate)
    refused = await mutate(client, me, CANCEL_MANDATE, {"mandateId": other_mandate})
    rejected(refused, "NotFoundRejection", "NOT_FOUND")
    assert await state(client, sandbox, other_mandate) == before
    success(
        await mutate(client, me, CANCEL_MANDATE, {"mandateId": own_mandate}), "CancelMandateSuccess"
    )


async def test_a_replayed_cancellation_answers_the_same_and_readonly_keys_may_not_cancel(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    mandate_id = await active_mandate(client, sandbox, user_id)
    readonly = await key_with_role(db, sandbox, ApiKeyRole.READONLY)
    error = await top_level_error(client, readonly, CANCEL_MANDATE, {"mandateId": mandate_id})
    assert error["extensions"]["code"] == "FORBIDDEN"
    input = {"mandateId": mandate_id, "idempotencyKey": new_key()}
    first = await mutate(client, sandbox, CANCEL_MANDATE, input)
    assert await mutate(client, sandbox, CANCEL_MANDATE, input) == first
    assert len(await events(client, sandbox, ["MANDATE_CANCELED"])) == 1
