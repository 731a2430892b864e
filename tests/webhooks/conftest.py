"""Fixtures for webhook delivery: a live receiver, endpoints cleaned up after each test, and
helpers that drive the dispatcher pass by pass (bounded) and read its state back."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.enums import EventType
from gateway.domain.errors import NotFound
from gateway.services import webhooks
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.demo import populate
from gateway.services.webhook_dispatcher import PassReport, dispatch_once
from gateway.services.webhook_requests import new_client
from gateway.store.delivery_tables import WebhookAttempt, WebhookDelivery
from gateway.store.engine import Database
from gateway.store.journal_tables import Event, WebhookEndpoint
from gateway.store.tables import Platform
from tests.conftest import PlatformHandle
from tests.support import data
from tests.support.documents import document
from tests.webhooks.receiver import Receiver, serving

CREATE_ENDPOINT = document("CreateWebhookEndpoint")

# Retries at once, passes back to back: one attempt per due delivery per pass.
FAST = DeliveryPolicy(
    retry_schedule_s=(0.0,) * 11, interval_s=0.01, timeout_s=5.0, allow_private_urls=True
)
PASSES_MAX = 30
WAIT_MAX_S = 20.0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as live:
        yield live


@dataclass
class Endpoints:
    """Creates endpoints (private URLs allowed) and deletes them after the test, so no
    pending delivery outlives it."""

    db: Database
    created: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)

    async def create(
        self,
        platform_id: uuid.UUID,
        receiver: Receiver | None = None,
        *,
        types: Sequence[EventType] = (),
        url: str | None = None,
    ) -> WebhookEndpoint:
        new = webhooks.NewEndpoint(url=url or (receiver.url if receiver else ""), event_types=types)
        made = await webhooks.create_endpoint(
            self.db, platform_id=platform_id, new=new, allow_private=True
        )
        if receiver is not None:
            receiver.secret = made.secret
        self.created.append((platform_id, made.endpoint.id))
        return made.endpoint

    async def delete_all(self) -> None:
        for platform_id, endpoint_id in self.created:
            with contextlib.suppress(NotFound):
                await webhooks.delete_endpoint(
                    self.db, platform_id=platform_id, endpoint_id=str(endpoint_id)
                )


@pytest.fixture
async def endpoints(db: Database) -> AsyncIterator[Endpoints]:
    made = Endpoints(db)
    yield made
    await made.delete_all()


async def run_passes(
    db: Database,
    until: Callable[[], bool],
    *,
    policy: DeliveryPolicy = FAST,
    passes_max: int = PASSES_MAX,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Run dispatcher passes until `until()` holds; the number of passes it took."""
    async with new_client(policy) as own:
        for done in range(1, passes_max + 1):
            await dispatch_once(db, client=client or own, policy=policy)
            if until():
                return done
    raise AssertionError(f"still not done after {passes_max} passes")


async def passes(db: Database, count: int, *, policy: DeliveryPolicy = FAST) -> list[PassReport]:
    async with new_client(policy) as client:
        return [await dispatch_once(db, client=client, policy=policy) for _ in range(count)]


async def add_users(
    db: Database, platform_id: uuid.UUID, count: int, *, seed: int = 11, accounts: int = 1
) -> None:
    """`count` natural users of the platform (with `accounts` accounts each): their events."""
    await populate(
        db,
        platform_id=platform_id,
        natural_users=count,
        legal_users=0,
        accounts_per_user=accounts,
        seed=seed,
    )


async def last_sequence(db: Database, platform_id: uuid.UUID) -> int:
    async with db.session() as session:
        found = await session.scalar(
            sa.select(col(Platform.event_sequence)).where(col(Platform.id) == platform_id)
        )
        return int(found or 0)


async def events_of(
    db: Database, platform_id: uuid.UUID, *, after: int, types: Sequence[EventType] = ()
) -> list[Event]:
    async with db.session() as session:
        statement = sa.select(Event).where(
            col(Event.platform_id) == platform_id, col(Event.sequence) > after
        )
        if types:
            statement = statement.where(col(Event.type).in_(types))
        found = await session.scalars(statement.order_by(col(Event.sequence)))
        return list(found.all())


async def deliveries_of(db: Database, endpoint_id: uuid.UUID) -> list[WebhookDelivery]:
    async with db.session() as session:
        found = await session.scalars(
            sa.select(WebhookDelivery)
            .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
            .order_by(col(WebhookDelivery.id))
        )
        return list(found.all())


async def attempts_of(db: Database, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    async with db.session() as session:
        found = await session.scalars(
            sa.select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id) == delivery_id)
            .order_by(col(WebhookAttempt.attempt))
        )
        return list(found.all())


async def endpoint_row(db: Database, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    async with db.session() as session:
        row = await session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        return row


def policy(**changes: object) -> DeliveryPolicy:
    return replace(FAST, **changes)  # type: ignore[arg-type]


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, within_s: float = WAIT_MAX_S
) -> None:
    """Wait until `check` holds: state kept by another task or in the database, so polled."""
    async with asyncio.timeout(within_s):
        while True:
            holds = check()
            if await holds if inspect.isawaitable(holds) else holds:
                return
            await asyncio.sleep(0.01)


async def create_endpoint(
    http: httpx.AsyncClient, platform: PlatformHandle, receiver: Receiver, endpoints: Endpoints
) -> str:
    """An endpoint of `platform` created through the graph for `receiver` (USER_CREATED), its
    secret handed to the receiver and the endpoint to `endpoints` for clean-up."""
    variables = {"input": {"url": receiver.url, "eventTypes": ["USER_CREATED"]}}
    created = (await data(http, CREATE_ENDPOINT, variables, headers=platform.headers))[
        "createWebhookEndpoint"
    ]
    receiver.secret = created["secret"]
    endpoint_id: str = created["endpoint"]["id"]
    endpoints.created.append((platform.id, uuid.UUID(endpoint_id)))
    return endpoint_id
