"""simulate*: the sandbox's stand-ins for compliance and banks, forbidden on PRODUCTION."""

from __future__ import annotations

import uuid

import httpx

from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, open_account, read_account
from tests.support.calls import mutate, rejected, state, success
from tests.support.decisions import operator_records_wire, operator_validates
from tests.support.documents import CREATE_PAY_OUT
from tests.support.events import events
from tests.support.inputs import pay_out_input
from tests.support.kyc import (
    request_validation,
    simulate_validation,
    submit_document,
)
from tests.support.payments import (
    create_mandate,
    create_wire,
    settle_pay_in,
    settle_pay_out,
    simulate_mandate,
)
from tests.support.users import create_natural_user, read_user


async def test_simulating_a_validation_on_production_is_forbidden_and_changes_nothing(
    client: httpx.AsyncClient, production: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, production)
    account_id = await open_account(client, production, user_id)
    success(await submit_document(client, production, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, production, user_id), "RequestValidationSuccess")
    before = await state(client, production, user_id, account_id)

    for outcome in ("VALIDATED", "REFUSED", "WAITING_FOR_INFORMATION"):
        payload = await simulate_validation(client, production, user_id, outcome)
        rejected(payload, "ForbiddenRejection", "FORBIDDEN")

    assert await state(client, production, user_id, account_id) == before
    user = await read_user(client, production, user_id)
    assert (user["validationStatus"], user["qualifiedAt"]) == ("PENDING", None)


async def test_simulating_a_mandate_on_production_is_forbidden_and_changes_nothing(
    client: httpx.AsyncClient, production: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, production)
    bank_account_id = await add_bank_account(client, production, user_id)
    mandate_id = await create_mandate(client, production, user_id, bank_account_id)
    before = await state(client, production, mandate_id)

    for outcome in ("SUCCEEDED", "FAILED"):
        payload = await simulate_mandate(client, production, mandate_id, outcome)
        rejected(payload, "ForbiddenRejection", "FORBIDDEN")

    after = await state(client, production, mandate_id)
    assert after == before
    assert after["nodes"][0]["mandateStatus"] == "CREATED"


async def test_simulating_a_pay_in_on_production_is_forbidden_and_credits_nothing(
    client: httpx.AsyncClient, production: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, production)
    account_id = await open_account(client, production, user_id)
    pay_in_id = await create_wire(client, production, account_id, 1_000)
    before = await state(client, production, pay_in_id, account_id)

    for outcome in ("SUCCEEDED", "FAILED"):
        payload = await settle_pay_in(client, production, pay_in_id, outcome)
        rejected(payload, "ForbiddenRejection", "FORBIDDEN")

    after = await state(client, production, pay_in_id, account_id)
    assert after == before
    assert after["nodes"][0]["payInStatus"] == "CREATED"
    assert after["nodes"][1]["balance"] == {"amount": 0}


async def test_simulating_a_pay_out_on_production_is_forbidden_and_returns_nothing(
    client: httpx.AsyncClient, db: Database, production: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, production)
    success(await submit_document(client, production, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, production, user_id), "RequestValidationSuccess")
    await operator_validates(client, db, production, user_id)
    account_id = await open_account(client, production, user_id)
    pay_in_id = await create_wire(client, production, account_id, 900)
    await operator_records_wire(client, db, production, pay_in_id, 900)
    bank_account_id = await add_bank_account(client, production, user_id)
    input = pay_out_input(account_id, bank_account_id, 400)
    pay_out = success(
        await mutate(client, production, CREATE_PAY_OUT, input), "CreatePayOutSuccess"
    )
    pay_out_id = pay_out["payOut"]["id"]
    before = await state(client, production, pay_out_id, account_id)
    assert before["nodes"][1]["balance"] == {"amount": 500}

    for outcome in ("SUCCEEDED", "FAILED"):
        payload = await settle_pay_out(client, production, pay_out_id, outcome)
        rejected(payload, "ForbiddenRejection", "FORBIDDEN")

    after = await state(client, production, pay_out_id, account_id)
    assert after == before
    assert after["nodes"][0]["payOutStatus"] == "CREATED"


async def test_production_forbids_simulations_even_on_ids_it_does_not_know(
    client: httpx.AsyncClient, production: PlatformHandle
) -> None:
    unknown = str(uuid.uuid4())
    before = await state(client, production)

    answers = [
        await simulate_validation(client, production, unknown, "VALIDATED"),
        await simulate_mandate(client, production, unknown, "SUCCEEDED"),
        await settle_pay_in(client, production, unknown, "SUCCEEDED"),
        await settle_pay_out(client, production, unknown, "SUCCEEDED"),
    ]

    for payload in answers:
        rejected(payload, "ForbiddenRejection", "FORBIDDEN")
    assert await state(client, production) == before


async def test_simulations_of_unknown_or_foreign_ids_are_not_found(
    client: httpx.AsyncClient, sandbox: PlatformHandle, other_sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    pay_in_id = await create_wire(client, sandbox, account_id, 10)
    mandate_id = await create_mandate(
        client, sandbox, user_id, await add_bank_account(client, sandbox, user_id)
    )

    answers = [
        await simulate_validation(client, other_sandbox, user_id, "VALIDATED"),
        await simulate_mandate(client, other_sandbox, mandate_id, "SUCCEEDED"),
        await settle_pay_in(client, other_sandbox, pay_in_id, "SUCCEEDED"),
        await settle_pay_out(client, sandbox, pay_in_id, "SUCCEEDED"),  # a pay-in is no pay-out
        await settle_pay_in(client, sandbox, mandate_id, "SUCCEEDED"),
        await simulate_validation(client, sandbox, account_id, "VALIDATED"),
        await simulate_mandate(client, sandbox, "not-an-id", "SUCCEEDED"),
    ]

    for payload in answers:
        rejected(payload, "NotFoundRejection", "NOT_FOUND")
    assert (await read_account(client, sandbox, account_id))["balance"]["amount"] == 0
    assert await events(client, other_sandbox) == []


async def test_a_settled_pay_in_cannot_be_settled_again(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    pay_in_id = await create_wire(client, sandbox, account_id, 250)
    success(await settle_pay_in(client, sandbox, pay_in_id, "SUCCEEDED"), "SimulateSuccess")
    before = await state(client, sandbox, pay_in_id, account_id)

    for outcome in ("SUCCEEDED", "FAILED"):
        payload = await settle_pay_in(client, sandbox, pay_in_id, outcome)
        rejected(payload, "InvalidStateRejection", "INVALID_STATE")

    assert await state(client, sandbox, pay_in_id, account_id) == before
    assert before["nodes"][1]["balance"] == {"amount": 250}
