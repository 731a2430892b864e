"""User tokens through the API: issued by a platform key, and whether the gateway takes one."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.calls import mutate, success
from tests.support.documents import document
from tests.support.platforms import PlatformHandle

CREATE_TOKEN = document("CreateUserToken")


def as_user(platform: PlatformHandle, token: str) -> PlatformHandle:
    return PlatformHandle(id=platform.id, key=token)


async def user_token(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, **input: Any
) -> str:
    payload = await mutate(client, platform, CREATE_TOKEN, {"userId": user_id, **input})
    token: str = success(payload, "CreateUserTokenSuccess")["token"]
    return token


async def refused(client: httpx.AsyncClient, token: str) -> bool:
    """True when the gateway answers 401 UNAUTHENTICATED to the token."""
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code == 401:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return True
    assert response.status_code == 200, response.text
    return False
