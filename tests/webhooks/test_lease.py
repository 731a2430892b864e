"""A dispatcher holds what it claimed for a short lease, renewed while it sends: another
instance never takes a live claim, and takes a dead instance's within one lease."""

from __future__ import annotations

import asyncio

from gateway.domain.enums import EventType
from gateway.services.deliveries import claim_due, enqueue, record
from gateway.services.demo import populate
from gateway.services.webhook_dispatcher import hold
from gateway.services.webhook_requests import AttemptResult
from gateway.store.column_types import utcnow
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.webhooks.conftest import Endpoints, policy
from tests.webhooks.receiver import Receiver

LEASE_S = 0.3


async def test_a_live_claim_is_renewed_and_a_dead_one_is_taken_over(
    db: Database, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await populate(db, platform_id=platform.id, natural_users=2, legal_users=0)
    short = policy(lease_s=LEASE_S)
    await enqueue(db, policy=short)
    mine = await claim_due(db, policy=short)
    assert len(mine) == 2

    holding = asyncio.create_task(hold(db, mine, short))
    try:
        await asyncio.sleep(LEASE_S * 4)  # four leases: renewed three times in each
        assert await claim_due(db, policy=short) == []  # another instance takes nothing
    finally:
        holding.cancel()
        await asyncio.gather(holding, return_exceptions=True)

    await asyncio.sleep(LEASE_S * 1.5)  # the holder is gone: its lease runs out
    theirs = await claim_due(db, policy=short)
    assert {item.delivery_id for item in theirs} == {item.delivery_id for item in mine}
    late = AttemptResult(attempted_at=utcnow(), status_code=200, error=None, duration_ms=1)
    assert not await record(db, mine[0], late, policy=short)  # the dead claim records nothing
