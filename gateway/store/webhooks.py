"""Webhook endpoints inside a write transaction: counted, found and row-locked.

A deleted endpoint keeps its row (`deleted_at`) for the delivery log; "live" means not deleted.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.store.journal_tables import WebhookEndpoint


async def live_endpoint_count(session: AsyncSession, *, platform_id: uuid.UUID) -> int:
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            col(WebhookEndpoint.platform_id) == platform_id,
            col(WebhookEndpoint.deleted_at).is_(None),
        )
    )
    return int(count or 0)


async def lock_live_endpoint(
    session: AsyncSession, *, platform_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint | None:
    """The platform's live endpoint with that id, row-locked, or None."""
    endpoint: WebhookEndpoint | None = await session.scalar(
        sa.select(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.platform_id) == platform_id,
            col(WebhookEndpoint.id) == endpoint_id,
            col(WebhookEndpoint.deleted_at).is_(None),
        )
        .with_for_update()
    )
    return endpoint


async def lock_endpoint(session: AsyncSession, *, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    """The endpoint with that id, row-locked, deleted or not, or None."""
    endpoint: WebhookEndpoint | None = await session.scalar(
        sa.select(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id).with_for_update()
    )
    return endpoint
