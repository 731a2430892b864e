"""The sandbox settler decides pending sandbox items by itself, and never production ones."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlmodel import col

from gateway.app import create_app
from gateway.domain.enums import (
    Environment,
    EventType,
    PayInMethod,
    PayInStatus,
    ValidationStatus,
)
from gateway.domain.inputs import AddressData, NaturalPersonData
from gateway.services import accounts, payments, users
from gateway.services.sandbox import settle_due
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.journal_tables import Event
from gateway.store.ledger_tables import PayIn
from gateway.store.tables import User
from tests.conftest import make_platform

ADDRESS = AddressData(line1="1 rue", postal_code="75001", city="Paris", country="FR")


async def _pending_pay_in(db: Database, platform_id: uuid.UUID) -> uuid.UUID:
    person = NaturalPersonData("Ada", "Byron", dt.date(1990, 1, 1), "FR", ADDRESS)
    login = f"u{uuid.uuid4().hex[:10]}"
    user = await users.create_user(
        db,
        platform_id=platform_id,
        new=users.NewUser(email=f"{login}@example.com", login=login, person=person),
    )
    account = await accounts.open_account(
        db,
        platform_id=platform_id,
        new=accounts.NewAccount(user_id=str(user.value.id), currency="EUR"),
    )
    pay_in = await payments.create_pay_in(
        db,
        platform_id=platform_id,
        new=payments.NewPayIn(
            credited_account_id=str(account.value.id),
            amount=1_000,
            currency="EUR",
            method=PayInMethod.BANK_WIRE,
            idempotency_key=uuid.uuid4().hex,
        ),
    )
    return pay_in.value.id


async def _status(db: Database, pay_in_id: uuid.UUID) -> PayInStatus:
    async with db.session() as session:
        pay_in = await session.get(PayIn, pay_in_id)
        assert pay_in is not None
        return pay_in.status


async def test_the_settler_decides_sandbox_pay_ins_once_and_leaves_production_alone(
    db: Database,
) -> None:
    sandbox = await make_platform(db)
    production = await make_platform(db, environment=Environment.PRODUCTION)
    sandbox_pay_in = await _pending_pay_in(db, sandbox.id)
    production_pay_in = await _pending_pay_in(db, production.id)
    assert await settle_due(db, delay_s=3600) == 0
    assert await settle_due(db, delay_s=0) >= 1
    assert await _status(db, sandbox_pay_in) is PayInStatus.SUCCEEDED
    assert await _status(db, production_pay_in) is PayInStatus.CREATED
    await settle_due(db, delay_s=0)
    async with db.session() as session:
        successes = await session.scalar(
            sa.select(sa.func.count()).where(
                col(Event.object_id) == sandbox_pay_in,
                col(Event.type) == EventType.PAY_IN_SUCCESSFUL,
            )
        )
    assert successes == 1


async def test_a_young_item_waits_for_the_delay(db: Database) -> None:
    sandbox = await make_platform(db)
    pay_in = await _pending_pay_in(db, sandbox.id)
    await settle_due(db, delay_s=3600)
    assert await _status(db, pay_in) is PayInStatus.CREATED


async def test_the_app_runs_the_settler_when_configured(db: Database, settings: Settings) -> None:
    sandbox = await make_platform(db)
    pay_in = await _pending_pay_in(db, sandbox.id)
    app = create_app(settings.model_copy(update={"settler_delay_s": 0.0}), db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            query = "query ($id: ID!) { node(id: $id) { ... on PayIn { status } } }"
            statuses = []
            for _ in range(100):  # bounded polling: the settler sweeps every second
                request = {"query": query, "variables": {"id": str(pay_in)}}
                response = await client.post("/graphql", json=request, headers=sandbox.headers)
                body = response.json()
                statuses.append(body["data"]["node"]["status"])
                if statuses[-1] == "SUCCEEDED":
                    break
                await asyncio.sleep(0.05)
    assert statuses[-1] == "SUCCEEDED", statuses
    async with db.session() as session:
        pending = await session.scalar(
            sa.select(sa.func.count()).where(
                col(User.platform_id) == sandbox.id,
                col(User.validation_status) == ValidationStatus.PENDING,
            )
        )
    assert pending == 0


async def _blocked_pay_in(db: Database, platform_id: uuid.UUID) -> uuid.UUID:
    """A pending pay-in whose account was blocked since: the settler cannot decide it."""
    pay_in_id = await _pending_pay_in(db, platform_id)
    async with db.session() as session:
        pay_in = await session.get(PayIn, pay_in_id)
        assert pay_in is not None
        account_id = str(pay_in.credited_account_id)
    await accounts.change_account_status(
        db, platform_id=platform_id, account_id=account_id, change=accounts.AccountChange.BLOCK
    )
    return pay_in_id


async def test_items_the_settler_cannot_decide_never_hide_the_ones_after_them(
    db: Database,
) -> None:
    sandbox = await make_platform(db)
    stuck = [await _blocked_pay_in(db, sandbox.id) for _ in range(3)]
    decidable = await _pending_pay_in(db, sandbox.id)
    await settle_due(db, delay_s=0, batch_max=2)
    assert [await _status(db, pay_in) for pay_in in stuck] == [PayInStatus.CREATED] * 3
    assert await _status(db, decidable) is PayInStatus.SUCCEEDED
