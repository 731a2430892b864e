"""Group commit: the money movements that arrive together share one database transaction.

Commands sent in the same tick form one batch (the writer has not run yet); under load,
what arrives while a batch runs forms the next. In a batch, each command has a savepoint of
its own, so a rejection or a failure touches nothing but that command; a key used twice in
one batch is applied once; the events of the batch are numbered by one reservation per
platform and announced by one NOTIFY; and a crash before the commit leaves nothing of the
batch behind (see `crash_batch.py`, a process killed with SIGKILL mid-batch).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.errors import InsufficientFunds
from gateway.services.ledger import NewTransfer, create_transfer
from gateway.store.availability import unavailable
from gateway.store.engine import Database
from gateway.store.group_commit import GroupCommitPolicy
from gateway.store.journal_tables import Event, IdempotencyRecord
from gateway.store.ledger_tables import Transfer
from gateway.store.tables import Account
from tests.conftest import PlatformHandle
from tests.ledger.concurrent import CREATE_TRANSFER, eur, send
from tests.ledger.invariants import assert_ledger_holds
from tests.support import StatementCounter
from tests.support.payments import Funded, funded_account

CRASH_WAIT_S = 60.0


def _transfer(payer: Funded, payee: Funded, amount: int, key: str) -> NewTransfer:
    return NewTransfer(
        debited_account_id=payer.account_id,
        credited_account_id=payee.account_id,
        amount=amount,
        currency="EUR",
        idempotency_key=key,
        label=key,
    )


async def _balance(db: Database, account_id: str) -> int:
    async with db.session() as session:
        account = await session.get(Account, uuid.UUID(account_id))
        assert account is not None
        return account.balance


async def _sequences(db: Database, platform_id: uuid.UUID) -> list[int]:
    async with db.session() as session:
        rows = await session.scalars(
            sa.select(col(Event.sequence))
            .where(col(Event.platform_id) == platform_id)
            .order_by(col(Event.sequence))
        )
        return list(rows)


async def _gather_settled(*calls: Awaitable[Any]) -> list[Any]:
    return list(await asyncio.gather(*calls, return_exceptions=True))


async def test_commands_sent_together_share_one_batch_and_a_rejection_touches_only_itself(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0, validated=True)
    group = db.group_commit()
    batches, commands = group.batches, group.commands
    run = uuid.uuid4().hex[:8]

    def move(amount: int, key: str) -> Awaitable[Any]:
        new = _transfer(payer, payee, amount, f"{run}-{key}")
        return create_transfer(db, platform_id=sandbox.id, new=new)

    async def fails_after_a_write(session: AsyncSession, _events: list[Event]) -> None:
        await session.execute(
            sa.update(Account)
            .where(col(Account.id) == uuid.UUID(payee.account_id))
            .values(balance=col(Account.balance) + 1)
        )
        raise RuntimeError("a command's own failure")

    answers = await _gather_settled(
        move(300, "a"),
        move(300, "b"),
        move(300, "a"),  # the same key again, in the same batch: a replay of the first
        db.write_grouped(fails_after_a_write),
        move(300, "c"),
        move(300, "d"),  # nothing left for it: rejected, and the key keeps the rejection
        move(300, "e"),
    )

    assert (group.batches - batches, group.commands - commands) == (1, 7)
    first, second, again, failed, third, fourth, fifth = answers
    assert [first.replay, second.replay, again.replay, third.replay] == [False, False, True, False]
    assert again.value.id == first.value.id
    assert isinstance(failed, RuntimeError)
    assert isinstance(fourth, InsufficientFunds)
    assert isinstance(fifth, InsufficientFunds)
    assert await _balance(db, payer.account_id) == 100
    assert await _balance(db, payee.account_id) == 900  # not 901: the failed write was undone
    with pytest.raises(InsufficientFunds):  # the rejection was kept with the key
        await move(300, "d")
    await assert_ledger_holds(db, sandbox.id)


async def test_a_storm_commits_in_fewer_batches_with_one_event_reservation_and_notify_each(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    payer = await funded_account(client, sandbox, 10_000, validated=True)
    payees = [await funded_account(client, sandbox, 0, validated=True) for _ in range(4)]
    group = db.group_commit()
    batches, commands = group.batches, group.commands
    before = await _sequences(db, sandbox.id)
    run = uuid.uuid4().hex[:8]

    with StatementCounter(db.engine, db.write_engine, db.read_engine) as statements:
        statements.start()
        answers = await asyncio.gather(
            *(
                send(
                    client,
                    sandbox,
                    CREATE_TRANSFER,
                    {
                        "debitedAccountId": payer.account_id,
                        "creditedAccountId": payees[number % 4].account_id,
                        "amount": eur(100),
                        "idempotencyKey": f"{run}-{number}",
                    },
                )
                for number in range(16)
            )
        )
        statements.stop()

    assert [answer["__typename"] for answer in answers] == ["CreateTransferSuccess"] * 16
    ran = group.batches - batches
    assert group.commands - commands == 16
    assert ran < 16
    reservations = [text for text in statements.statements if "SET event_sequence" in text]
    notifies = [text for text in statements.statements if "pg_notify" in text]
    assert len(reservations) == ran
    assert len(notifies) == (ran if db.dialect == "postgresql" else 0)
    after = await _sequences(db, sandbox.id)
    assert after == list(range(1, len(after) + 1))  # gap-free, no duplicate
    assert len(after) - len(before) == 16
    await assert_ledger_holds(db, sandbox.id)


async def test_a_crash_mid_batch_leaves_nothing_of_the_batch(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle, tmp_path: Path
) -> None:
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0, validated=True)
    before = await _sequences(db, sandbox.id)
    run = uuid.uuid4().hex[:8]
    keys = [f"{run}-{number}" for number in range(5)]
    marker = tmp_path / "batch-ran"
    url = db.engine.url.render_as_string(hide_password=False)
    arguments = [str(sandbox.id), payer.account_id, payee.account_id, str(marker), *keys]
    crashing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.ledger.crash_batch", url, *arguments
    )
    try:
        async with asyncio.timeout(CRASH_WAIT_S):
            while not marker.exists():  # every command of the batch ran; COMMIT is next
                assert crashing.returncode is None, "the writer exited before its batch ran"
                await asyncio.sleep(0.05)
        assert marker.read_text() == "5"  # the five transfers are one batch
    finally:
        crashing.send_signal(signal.SIGKILL)
        await crashing.wait()

    async with db.session() as session:
        written = await session.scalars(
            sa.select(col(Transfer.id)).where(col(Transfer.label).in_(keys))
        )
        claimed = await session.scalars(
            sa.select(col(IdempotencyRecord.key)).where(
                col(IdempotencyRecord.platform_id) == sandbox.id,
                col(IdempotencyRecord.key).in_(keys),
            )
        )
        assert (list(written), list(claimed)) == ([], [])
    assert await _sequences(db, sandbox.id) == before
    assert await _balance(db, payer.account_id) == 1_000
    await assert_ledger_holds(db, sandbox.id)
    # Nothing was kept, not even the keys: the client's retries apply, once each.
    for key in keys:
        retried = await create_transfer(
            db, platform_id=sandbox.id, new=_transfer(payer, payee, 100, key)
        )
        assert not retried.replay
    assert await _balance(db, payee.account_id) == 500


async def test_a_writer_stopped_mid_batch_answers_that_the_database_is_unavailable(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0, validated=True)
    group = db.group_commit()
    held = asyncio.Event()

    async def hold(_size: int) -> None:
        held.set()
        await asyncio.sleep(3600)

    group.before_commit = hold
    try:
        key = f"stopped-{uuid.uuid4().hex[:8]}"
        new = _transfer(payer, payee, 100, key)
        sent = asyncio.ensure_future(create_transfer(db, platform_id=sandbox.id, new=new))
        await held.wait()
        await group.stop()
        with pytest.raises(Exception) as stopped:  # noqa: PT011 - the kind is what is checked
            await sent
    finally:
        group.before_commit = None
    assert unavailable(stopped.value)
    assert await _balance(db, payer.account_id) == 1_000
    retried = await create_transfer(db, platform_id=sandbox.id, new=new)
    assert not retried.replay  # nothing of the stopped batch was kept, not even the key
    await assert_ledger_holds(db, sandbox.id)


async def test_a_batch_carries_at_most_the_configured_number_of_commands(
    client: httpx.AsyncClient, db: Database, sandbox: PlatformHandle
) -> None:
    payer = await funded_account(client, sandbox, 1_000, validated=True)
    payee = await funded_account(client, sandbox, 0, validated=True)
    group = db.group_commit()
    saved = db.group_commit_policy
    db.group_commit_policy = GroupCommitPolicy(wait_s=0, size_max=2)
    try:
        batches = db.group_commit().batches
        run = uuid.uuid4().hex[:8]
        await asyncio.gather(
            *(
                create_transfer(
                    db, platform_id=sandbox.id, new=_transfer(payer, payee, 10, f"{run}-{n}")
                )
                for n in range(6)
            )
        )
        assert group.batches - batches == 3
    finally:
        db.group_commit_policy = saved
