"""Stand-ins for the outside world on sandbox platforms: compliance decisions, mandate
activation, pay-in, pay-out and refund settlement. On a production platform every one of them is
`Forbidden` and changes nothing: there, decisions come from operators or upstream connectors.
Each is a thin caller of the services operators use (kyc.decide_validation, settlement.py):
one state machine, whoever decides.

The settler (off unless configured) makes these decisions by itself for items older than a
delay, so statuses move in front of a person trying the playground. Several gateway
instances may run it at once: each decision locks its row and re-checks its state, and a
decision already taken elsewhere is skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from gateway.domain.credentials import SETTLER
from gateway.domain.enums import (
    Environment,
    MandateStatus,
    PayInStatus,
    PayOutStatus,
    RefundStatus,
    ValidationStatus,
)
from gateway.domain.errors import Forbidden, Rejected
from gateway.services import refunds, settlement
from gateway.services.acting import acting_as
from gateway.services.kyc import decide_validation
from gateway.services.lookups import find
from gateway.services.unit_of_work import Tx, perform
from gateway.store import sandbox as sandbox_queue
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from gateway.store.ledger_tables import DirectDebitMandate, PayIn, PayOut, Refund
from gateway.store.tables import Model, Platform, User

logger = logging.getLogger("gateway.sandbox")
M = TypeVar("M", bound=Model)
SETTLER_BATCH_MAX = 100


async def _sandbox_only(tx: Tx) -> None:
    platform = await tx.session.get(Platform, tx.platform_id)
    assert platform is not None
    if platform.environment is not Environment.SANDBOX:
        raise Forbidden("Simulations run on sandbox platforms only.")


async def _simulate(
    db: Database,
    platform_id: uuid.UUID,
    operation: str,
    model: type[M],
    work: Callable[[Tx], Awaitable[M]],
) -> M:
    async def guarded(tx: Tx) -> M:
        await _sandbox_only(tx)
        return await work(tx)

    outcome = await perform(
        db,
        platform_id=platform_id,
        operation=operation,
        key=None,
        payload={},
        model=model,
        work=guarded,
    )
    return outcome.value


async def simulate_validation(
    db: Database,
    *,
    platform_id: uuid.UUID,
    user_id: str,
    outcome: ValidationStatus,
    reason: str | None = None,
) -> User:
    async def work(tx: Tx) -> User:
        user = await find(
            tx.session, User, platform_id=tx.platform_id, id_text=user_id, what="user", lock=True
        )
        return await decide_validation(tx, user, outcome, message=reason)

    return await _simulate(db, platform_id, "simulateValidation", User, work)


async def simulate_refund(
    db: Database,
    *,
    platform_id: uuid.UUID,
    refund_id: str,
    succeeded: bool,
    reason: str | None = None,
) -> Refund:
    """Stand in for the payer's bank on a refund."""

    async def work(tx: Tx) -> Refund:
        refund = await find(
            tx.session,
            Refund,
            platform_id=tx.platform_id,
            id_text=refund_id,
            what="refund",
            lock=True,
        )
        return await refunds.settle_refund(tx, refund, succeeded, reason)

    return await _simulate(db, platform_id, "simulateRefund", Refund, work)


async def simulate_mandate(
    db: Database, *, platform_id: uuid.UUID, mandate_id: str, succeeded: bool
) -> DirectDebitMandate:
    async def work(tx: Tx) -> DirectDebitMandate:
        mandate = await find(
            tx.session,
            DirectDebitMandate,
            platform_id=tx.platform_id,
            id_text=mandate_id,
            what="mandate",
            lock=True,
        )
        return await settlement.settle_mandate(tx, mandate, succeeded, None)

    return await _simulate(db, platform_id, "simulateMandate", DirectDebitMandate, work)


async def simulate_pay_in(
    db: Database,
    *,
    platform_id: uuid.UUID,
    pay_in_id: str,
    succeeded: bool,
    reason: str | None = None,
) -> PayIn:
    async def work(tx: Tx) -> PayIn:
        pay_in = await find(
            tx.session,
            PayIn,
            platform_id=tx.platform_id,
            id_text=pay_in_id,
            what="pay-in",
            lock=True,
        )
        return await settlement.settle_pay_in(tx, pay_in, succeeded, reason)

    return await _simulate(db, platform_id, "simulatePayIn", PayIn, work)


async def simulate_pay_out(
    db: Database,
    *,
    platform_id: uuid.UUID,
    pay_out_id: str,
    succeeded: bool,
    reason: str | None = None,
) -> PayOut:
    async def work(tx: Tx) -> PayOut:
        pay_out = await find(
            tx.session,
            PayOut,
            platform_id=tx.platform_id,
            id_text=pay_out_id,
            what="pay-out",
            lock=True,
        )
        return await settlement.settle_pay_out(tx, pay_out, succeeded, reason)

    return await _simulate(db, platform_id, "simulatePayOut", PayOut, work)


async def _due(
    db: Database, model: Any, status: Any, statuses: list[Any], since: dt.datetime, batch_max: int
) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    """Every due item, a batch at a time in id order: an item the settler cannot decide stays
    pending, and must not hide the items after it from every later sweep."""
    after: uuid.UUID | None = None
    while True:
        async with db.session() as session:
            batch = await sandbox_queue.due_sandbox_items(
                session,
                model=model,
                status=status,
                statuses=statuses,
                since=since,
                after=after,
                limit=batch_max,
            )
        for item in batch:
            yield item
        if len(batch) < batch_max:
            return
        after = batch[-1][1]


async def settle_due(db: Database, *, delay_s: float, batch_max: int = SETTLER_BATCH_MAX) -> int:
    """One sweep of the settler: decide every sandbox item older than `delay_s` (success),
    reading them `batch_max` at a time; its decisions are recorded as the SETTLER's."""
    with acting_as(SETTLER):
        return await _settle_due(db, delay_s=delay_s, batch_max=batch_max)


async def _settle_due(db: Database, *, delay_s: float, batch_max: int) -> int:
    since = utcnow() - dt.timedelta(seconds=delay_s)
    decided = 0
    sweeps: list[tuple[Any, Any, list[Any], Any]] = [
        (
            User,
            User.validation_status,
            [ValidationStatus.PENDING],
            lambda p, i: simulate_validation(
                db, platform_id=p, user_id=str(i), outcome=ValidationStatus.VALIDATED
            ),
        ),
        (
            DirectDebitMandate,
            DirectDebitMandate.status,
            [MandateStatus.CREATED],
            lambda p, i: simulate_mandate(db, platform_id=p, mandate_id=str(i), succeeded=True),
        ),
        (
            PayIn,
            PayIn.status,
            [PayInStatus.CREATED, PayInStatus.PENDING],
            lambda p, i: simulate_pay_in(db, platform_id=p, pay_in_id=str(i), succeeded=True),
        ),
        (
            PayOut,
            PayOut.status,
            [PayOutStatus.CREATED, PayOutStatus.PENDING],
            lambda p, i: simulate_pay_out(db, platform_id=p, pay_out_id=str(i), succeeded=True),
        ),
        (
            Refund,
            Refund.status,
            [RefundStatus.CREATED, RefundStatus.PENDING],
            lambda p, i: simulate_refund(db, platform_id=p, refund_id=str(i), succeeded=True),
        ),
    ]
    for model, status, statuses, decide in sweeps:
        async for platform_id, item_id in _due(db, model, status, statuses, since, batch_max):
            try:
                await decide(platform_id, item_id)
                decided += 1
            except Rejected as rejection:
                logger.info("settler skipped %s %s: %s", model.__name__, item_id, rejection)
    return decided


async def run_settler(db: Database, *, delay_s: float, interval_s: float = 1.0) -> None:
    """Sweep forever (until cancelled); errors are logged, never fatal."""
    while True:
        try:
            await settle_due(db, delay_s=delay_s)
        except Exception:
            logger.exception("settler sweep failed")
        await asyncio.sleep(interval_s)
