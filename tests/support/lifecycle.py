"""The user lifecycle through the API: an operator blocks, unblocks and closes users."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.calls import mutate, success
from tests.support.documents import BLOCK_USER, CLOSE_USER, UNBLOCK_USER
from tests.support.platforms import PlatformHandle


async def block_user(
    client: httpx.AsyncClient, operator: PlatformHandle, user_id: str, reason: str | None = None
) -> dict[str, Any]:
    payload = await mutate(client, operator, BLOCK_USER, {"userId": user_id, "reason": reason})
    user: dict[str, Any] = success(payload, "UserStatusSuccess")["user"]
    return user


async def unblock_user(
    client: httpx.AsyncClient, operator: PlatformHandle, user_id: str
) -> dict[str, Any]:
    payload = await mutate(client, operator, UNBLOCK_USER, {"userId": user_id})
    user: dict[str, Any] = success(payload, "UserStatusSuccess")["user"]
    return user


async def close_user(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str
) -> dict[str, Any]:
    """closeUser's payload (success or rejection)."""
    return await mutate(client, platform, CLOSE_USER, {"userId": user_id})
