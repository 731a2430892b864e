"""The tenant matrices' world: a victim owning one object of every kind, the parties that
attack it (another platform's credentials, another user's token), and API keys of every role
on both platforms. Built once per test module (module-scoped fixtures)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlmodel import col

from gateway.app import create_app
from gateway.domain.enums import ApiKeyRole
from gateway.domain.errors import NotFound
from gateway.graphql.schema import build_schema
from gateway.services.deliveries import enqueue
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.webhooks import delete_endpoint
from gateway.settings import Settings
from gateway.store.delivery_tables import WebhookDelivery
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.security.matrix import platform_list_fields, platform_lists_document
from tests.security.parties import (
    ATTACKER_ROLES,
    VICTIM_ROLES,
    Party,
    add_webhook_endpoint,
    build_party,
    ids_seen,
    user_token,
)
from tests.security.probes import platform_tables
from tests.support.platforms import key_with_role

SCHEMA = build_schema()._schema
ANOTHER_PLATFORM, ANOTHER_USER = "another-platform", "another-user"
VICTIM, OTHER = "victim", "other"  # the platforms, as `World.keys` names them


@dataclass(frozen=True)
class World:
    victim: Party  # acting with the victim platform's API key
    secrets: frozenset[str]  # every id of the victim's, as its platform's key reads them
    attackers: Mapping[str, Party]  # by credential name, each acting with that credential
    tables: list[sa.Table]
    # Credentials by (platform, role): an API key of each role of the victim's platform and of
    # the other platform, and the victim user's own token (role USER_TOKEN on VICTIM).
    keys: Mapping[tuple[str, str], PlatformHandle]

    @property
    def platform_id(self) -> uuid.UUID:
        return self.victim.handle.id


def quiet(settings: Settings) -> Settings:
    """No webhook dispatcher writing to the victim's platform behind the snapshots, and room
    for the matrix's generated documents, which read every field (the query limits have
    their own tests; they are no part of the scope)."""
    return settings.model_copy(
        update={
            "webhook_delivery": False,
            "events_poll_interval_s": 0.2,
            "query_bytes_max": 1_000_000,
            "query_tokens_max": 100_000,
            "query_aliases_max": 1_000,
            "query_cost_max": 10_000_000,
        }
    )


@pytest.fixture(scope="module")
async def http(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(create_app(quiet(settings), db=db)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def build_victim(http: httpx.AsyncClient, key: PlatformHandle, db: Database) -> Party:
    """The party, with a webhook endpoint registered first, so that it is owed deliveries of
    the party's events (enqueued here: no dispatcher runs, none is sent)."""
    endpoint = await add_webhook_endpoint(http, key)
    party = await build_party(http, key, legal=True)
    delivery = await a_delivery(db, uuid.UUID(endpoint))
    objects = {
        **party.objects,
        "webhook_endpoint": endpoint,
        "webhook_delivery": delivery,
        "platform": str(key.id),
    }
    return Party(handle=key, objects=objects)


async def a_delivery(db: Database, endpoint_id: uuid.UUID) -> str:
    await enqueue(db, policy=DeliveryPolicy())
    async with db.session() as session:
        found = await session.scalar(
            sa.select(col(WebhookDelivery.id))
            .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
            .order_by(col(WebhookDelivery.id))
            .limit(1)
        )
    assert found is not None, "the endpoint is owed no delivery"
    return str(found)


async def role_keys(db: Database, key: PlatformHandle) -> dict[str, PlatformHandle]:
    """The platform's API keys by role: its first key (BACKEND) and one of each other role."""
    keys = {ApiKeyRole.BACKEND.value: key}
    for role in (ApiKeyRole.OPERATOR, ApiKeyRole.READONLY):
        keys[role.value] = await key_with_role(db, key, role)
    return keys


@pytest.fixture(scope="module")
async def world(http: httpx.AsyncClient, db: Database) -> AsyncIterator[World]:
    """The victim's world; its webhook endpoint is deleted afterwards, so that no dispatcher of
    a later test ever tries the deliveries it is owed (to a host that does not exist)."""
    key = await make_platform(db)
    victim = await build_victim(http, key, db)
    # Read before the other user exists: every id the platform's key sees is the victim's.
    lists = platform_lists_document(SCHEMA, platform_list_fields(SCHEMA), 3)
    seen = await ids_seen(http, key, lists)
    secrets = (seen | set(victim.objects.values())) - {str(key.id)}
    other_key = await make_platform(db)
    other_platform = await build_party(http, other_key, legal=False)
    neighbour = await build_party(http, key, legal=False)
    token = await user_token(http, key, neighbour.objects["user"])
    assert set(victim.objects) == VICTIM_ROLES
    assert set(other_platform.objects) == set(neighbour.objects) == ATTACKER_ROLES
    keys = {(VICTIM, role): handle for role, handle in (await role_keys(db, key)).items()}
    keys |= {(OTHER, role): handle for role, handle in (await role_keys(db, other_key)).items()}
    keys[(VICTIM, "USER_TOKEN")] = await user_token(http, key, victim.objects["user"])
    yield World(
        victim=victim,
        secrets=frozenset(secrets),
        attackers={
            ANOTHER_PLATFORM: other_platform,
            ANOTHER_USER: Party(handle=token, objects=neighbour.objects),
        },
        tables=await platform_tables(db.engine),
        keys=keys,
    )
    with contextlib.suppress(NotFound):
        await delete_endpoint(
            db, platform_id=key.id, endpoint_id=victim.objects["webhook_endpoint"]
        )
