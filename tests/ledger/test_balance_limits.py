"""The ledger at the largest amounts: no credit takes a balance beyond the largest amount the API
can carry (MinorUnits), and a failed pay-out, which gives funds back, can always be recorded."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from gateway.domain.enums import PayInMethod, PayOutStatus
from gateway.domain.errors import InvalidState
from gateway.domain.money import MINOR_UNITS_MAX
from gateway.services.ledger import NewTransfer, create_transfer
from gateway.services.payments import NewPayIn, NewPayOut, create_pay_in, create_pay_out
from gateway.services.sandbox import simulate_pay_in, simulate_pay_out
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from tests.conftest import make_platform
from tests.ledger import onboard_validated_user
from tests.ledger.invariants import assert_ledger_holds
from tests.support import graphql

EUR = "EUR"
ACCOUNT_BALANCE = """
query ($id: ID!) { node(id: $id) { ... on Account { status balance { amount } } } }
"""


async def _settled_pay_in(
    db: Database, platform_id: uuid.UUID, account_id: str, amount: int, key: str
) -> None:
    new = NewPayIn(account_id, amount, EUR, PayInMethod.BANK_WIRE, key)
    pay_in = (await create_pay_in(db, platform_id=platform_id, new=new)).value
    await simulate_pay_in(db, platform_id=platform_id, pay_in_id=str(pay_in.id), succeeded=True)


async def test_no_credit_takes_a_balance_beyond_the_largest_amount_the_api_can_carry(
    db: Database, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    platform = await make_platform(db)
    holder = await onboard_validated_user(
        db, DocumentFiles(tmp_path), platform_id=platform.id, login="rich", accounts=2
    )
    rich, other = holder.account_ids
    await _settled_pay_in(db, platform.id, rich, MINOR_UNITS_MAX, "largest")
    await _settled_pay_in(db, platform.id, other, 1, "one-more-cent")

    with pytest.raises(InvalidState):
        await _settled_pay_in(db, platform.id, rich, 1, "one-cent-too-many")
    by_transfer = NewTransfer(other, rich, 1, EUR, "a-cent-by-transfer")
    with pytest.raises(InvalidState):
        await create_transfer(db, platform_id=platform.id, new=by_transfer)

    summary = await assert_ledger_holds(db, platform.id)
    assert summary.balances[uuid.UUID(rich)] == MINOR_UNITS_MAX
    body = await graphql(client, ACCOUNT_BALANCE, {"id": rich}, headers=platform.headers)
    assert "errors" not in body, body["errors"]
    assert body["data"]["node"]["balance"]["amount"] == MINOR_UNITS_MAX


async def test_a_failed_pay_out_can_always_be_recorded_even_at_the_largest_balance(
    db: Database, tmp_path: Path
) -> None:
    platform = await make_platform(db)
    holder = await onboard_validated_user(
        db, DocumentFiles(tmp_path), platform_id=platform.id, login="topped"
    )
    account_id = holder.account_ids[0]
    await _settled_pay_in(db, platform.id, account_id, MINOR_UNITS_MAX, "top")
    new = NewPayOut(account_id, holder.bank_account_id, 10, EUR, "in-flight")
    pay_out = (await create_pay_out(db, platform_id=platform.id, new=new)).value
    with pytest.raises(InvalidState):  # the 10 in flight may come back: no room for a refill
        await _settled_pay_in(db, platform.id, account_id, 10, "refill")

    decided = await simulate_pay_out(
        db, platform_id=platform.id, pay_out_id=str(pay_out.id), succeeded=False
    )

    assert decided.status is PayOutStatus.FAILED
    summary = await assert_ledger_holds(db, platform.id)
    assert summary.balances[uuid.UUID(account_id)] == MINOR_UNITS_MAX
