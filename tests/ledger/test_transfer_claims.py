"""Two transfers with one key, the second sent while the first holds its claim (PostgreSQL).

The first request claims the key (naming its transfer already) and then waits for an account
that another transaction holds; the second request's claim waits for the first to end. Once
the account is let go, the first decides (a transfer, or a rejection recorded on its claim) and
the second replays that decision: one effect, whatever the interleaving. Both waits are
observed in `pg_stat_activity` before the account is let go, so the interleaving is the one
described, every run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.enums import EventType
from gateway.domain.errors import InsufficientFunds
from gateway.services import ledger
from gateway.services.unit_of_work import Outcome
from gateway.store.engine import Database
from gateway.store.journal_tables import Event, IdempotencyRecord
from gateway.store.ledger_tables import Transfer
from gateway.store.migrate import upgrade
from gateway.store.tables import Account
from tests.ledger.invariants import assert_ledger_holds
from tests.support.platforms import make_platform

WAIT_POLLS_MAX = 1_000


@pytest.fixture
async def postgresql(postgresql_url: str) -> AsyncIterator[Database]:
    db = Database.from_url(postgresql_url)
    await upgrade(db.engine)
    yield db
    await db.dispose()


async def _two_accounts(db: Database) -> tuple[uuid.UUID, Account, Account]:
    platform = await make_platform(db, natural_users=2, accounts_per_user=1)
    async with db.session() as session:
        found = await session.scalars(
            sa.select(Account).where(col(Account.platform_id) == platform.id)
        )
        payer, payee = found.all()
    return platform.id, payer, payee


async def _waiting_for_locks(db: Database, count: int) -> None:
    """Until `count` backends of the database wait for a lock (polled, bounded)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(WAIT_POLLS_MAX):
        async with db.reading() as connection:
            if (await connection.execute(query)).scalar_one() >= count:
                return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{count} transactions never waited for a lock together")


async def _both_while_held(
    db: Database, platform_id: uuid.UUID, held: uuid.UUID, new: ledger.NewTransfer
) -> tuple[Outcome[Transfer] | BaseException, Outcome[Transfer] | BaseException]:
    """Send `new` twice, the second once the first waits for `held` (row-locked here) and
    itself waits for the first's claim; then let `held` go."""
    async with db.engine.connect() as holder:
        await holder.execute(
            sa.select(col(Account.id)).where(col(Account.id) == held).with_for_update()
        )
        first = asyncio.create_task(ledger.create_transfer(db, platform_id=platform_id, new=new))
        await _waiting_for_locks(db, 1)
        # Another instance (a handle of its own: its own pools and group commit; within one
        # the second would wait for the first's batch to end instead).
        other = db.with_own_pools()
        try:
            second = asyncio.create_task(
                ledger.create_transfer(other, platform_id=platform_id, new=new)
            )
            await _waiting_for_locks(db, 2)
            await holder.rollback()
            return await asyncio.gather(first, second, return_exceptions=True)
        finally:
            await other.dispose()


async def _record(db: Database, platform_id: uuid.UUID, key: str) -> IdempotencyRecord:
    async with db.session() as session:
        found = await session.scalars(
            sa.select(IdempotencyRecord).where(
                col(IdempotencyRecord.platform_id) == platform_id,
                col(IdempotencyRecord.key) == key,
            )
        )
        return found.one()


async def _count(db: Database, model: Any, platform_id: uuid.UUID, *where: Any) -> int:
    async with db.session() as session:
        statement = sa.select(sa.func.count()).where(model.platform_id == platform_id, *where)
        return int((await session.execute(statement)).scalar_one())


async def test_a_key_sent_again_while_its_transfer_is_in_flight_moves_money_once(
    postgresql: Database,
) -> None:
    db = postgresql
    platform_id, payer, payee = await _two_accounts(db)
    new = ledger.NewTransfer(
        debited_account_id=str(payer.id),
        credited_account_id=str(payee.id),
        amount=100,
        currency="EUR",
        idempotency_key=f"pair-{uuid.uuid4()}",
    )

    first, second = await _both_while_held(db, platform_id, payer.id, new)

    assert isinstance(first, Outcome), first
    assert isinstance(second, Outcome), second
    assert (first.replay, second.replay) == (False, True)
    assert second.value.id == first.value.id
    record = await _record(db, platform_id, new.idempotency_key)
    assert (record.object_id, record.rejection) == (first.value.id, None)
    assert await _count(db, Transfer, platform_id) == 1
    successful = col(Event.type) == EventType.TRANSFER_SUCCESSFUL
    assert await _count(db, Event, platform_id, successful) == 1
    await assert_ledger_holds(db, platform_id)
    async with db.session() as session:
        balances = await session.scalars(
            sa.select(col(Account.balance))
            .where(col(Account.id).in_([payer.id, payee.id]))
            .order_by(col(Account.id) == payee.id)
        )
        assert list(balances) == [payer.balance - 100, payee.balance + 100]


async def test_a_rejection_decided_while_the_key_is_sent_again_is_replayed_to_it(
    postgresql: Database,
) -> None:
    db = postgresql
    platform_id, payer, payee = await _two_accounts(db)
    new = ledger.NewTransfer(
        debited_account_id=str(payer.id),
        credited_account_id=str(payee.id),
        amount=payer.balance + 1,
        currency="EUR",
        idempotency_key=f"pair-{uuid.uuid4()}",
    )

    first, second = await _both_while_held(db, platform_id, payer.id, new)

    assert isinstance(first, InsufficientFunds), first
    assert isinstance(second, InsufficientFunds), second
    assert first.available == second.available
    assert first.available.amount == payer.balance
    record = await _record(db, platform_id, new.idempotency_key)
    assert record.object_id is None  # the claim named a transfer that never came
    assert record.rejection == first.to_record()
    assert await _count(db, Transfer, platform_id) == 0
    successful = col(Event.type) == EventType.TRANSFER_SUCCESSFUL
    assert await _count(db, Event, platform_id, successful) == 0
    await assert_ledger_holds(db, platform_id)
