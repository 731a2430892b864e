"""The webhook dispatcher: the loop that turns the event log into signed POSTs.

A pass enqueues what endpoints are owed, then claims due deliveries batch by batch (at most
`batches_per_pass_max` batches of `claim_batch_max`), sends each batch concurrently, and
records every result before it claims the next batch, renewing the batch's lease while it
sends. A delivery whose result could not be recorded is logged and left to its lease; a failed
pass is logged and the next one runs.

Delivery is at least once and unordered: a crash between an answer and its record sends the
event again, and a retried event may arrive after later ones.

Stopping (`stopping` set, when the app shuts down): the batch being sent is sent and its
results recorded, no further batch is claimed, and the loop ends; so a graceful stop leaves
nothing claimed. The app bounds the wait (`MPS_SHUTDOWN_GRACE_S`) and cancels beyond it,
leaving what is still claimed to its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import httpx
from opentelemetry.trace import Tracer

from gateway.services import instruments
from gateway.services.deliveries import Claimed, claim_due, enqueue, measure_backlog, record, renew
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.webhook_requests import new_client
from gateway.services.webhook_traces import traced_attempt
from gateway.store.engine import Database

logger = logging.getLogger("gateway.webhooks")


@dataclass
class PassReport:
    enqueued: int = 0
    attempted: int = 0
    succeeded: int = 0


async def _deliver(
    db: Database,
    client: httpx.AsyncClient,
    item: Claimed,
    policy: DeliveryPolicy,
    tracer: Tracer | None,
) -> bool:
    result = await traced_attempt(tracer, client, item, policy)
    recorded = await record(db, item, result, policy=policy)
    instruments.webhook_attempted(succeeded=result.succeeded, recorded=recorded)
    if not recorded:
        logger.warning(
            "webhook delivery %s: claim lost before its result was recorded", item.delivery_id
        )
    elif not result.succeeded:
        logger.info(
            "webhook delivery %s failed: %s",
            item.delivery_id,
            result.error or f"HTTP {result.status_code}",
        )
    return result.succeeded


async def hold(db: Database, claimed: list[Claimed], policy: DeliveryPolicy) -> None:
    """Renew the batch's lease every third of it while its attempts run: a live instance
    keeps what it sends, a dead one lets it go within `lease_s`."""
    claim_id = claimed[0].claim_id
    while True:
        await asyncio.sleep(policy.lease_s / 3)
        try:
            await renew(db, claim_id, policy=policy)
        except Exception:
            logger.warning("webhook claim %s: lease not renewed", claim_id, exc_info=True)


async def dispatch_once(
    db: Database,
    *,
    client: httpx.AsyncClient,
    policy: DeliveryPolicy,
    stopping: asyncio.Event | None = None,
    tracer: Tracer | None = None,
) -> PassReport:
    """One pass: enqueue what endpoints are owed, then send what is due, batch by batch (and
    no further batch once `stopping` is set); each attempt in a span of `tracer`'s when given
    (gateway.services.webhook_traces)."""
    report = PassReport(enqueued=await enqueue(db, policy=policy))
    await measure_backlog(db)
    for _ in range(policy.batches_per_pass_max):
        if stopping is not None and stopping.is_set():
            break
        claimed = await claim_due(db, policy=policy)
        holding = asyncio.create_task(hold(db, claimed, policy)) if claimed else None
        try:
            outcomes = await asyncio.gather(
                *(_deliver(db, client, item, policy, tracer) for item in claimed),
                return_exceptions=True,
            )
        finally:
            if holding is not None:
                holding.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await holding
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                logger.error("webhook delivery failed to record", exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                report.attempted += 1
                report.succeeded += outcome
        if len(claimed) < policy.claim_batch_max:
            break
    return report


async def _pause(stopping: asyncio.Event, interval_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=interval_s)


async def run_dispatcher(
    db: Database,
    *,
    policy: DeliveryPolicy,
    stopping: asyncio.Event | None = None,
    tracer: Tracer | None = None,
) -> None:
    """Deliver until `stopping` is set (the batch being sent is finished first) or until
    cancelled; a failed pass is logged and the next one runs.

    The dispatcher opens a connection pool of its own on `db`'s database, so deliveries never
    wait for connections behind requests (nor requests behind deliveries). Its first pass comes
    one interval after the start, so a process that lives less than that opens nothing.
    """
    stopping = stopping or asyncio.Event()
    await _pause(stopping, policy.interval_s)
    if stopping.is_set():
        return
    own = db.with_own_pools()
    try:
        async with new_client(policy) as client:
            while not stopping.is_set():
                try:
                    await dispatch_once(
                        own, client=client, policy=policy, stopping=stopping, tracer=tracer
                    )
                except Exception:
                    logger.exception("webhook dispatch pass failed")
                await _pause(stopping, policy.interval_s)
    finally:
        if own is not db:
            await own.dispose()
