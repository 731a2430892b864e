"""Users and persons, created and read back through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.calls import mutate, query, success
from tests.support.documents import ADD_PERSON, CREATE_USER, USER_QUERY
from tests.support.inputs import legal_person, natural_person, user_input
from tests.support.platforms import PlatformHandle


@dataclass(frozen=True)
class LegalUser:
    id: str
    holder_id: str
    representative_id: str


async def create_natural_user(
    client: httpx.AsyncClient, platform: PlatformHandle, **overrides: Any
) -> str:
    payload = await mutate(
        client, platform, CREATE_USER, user_input({"natural": natural_person()}, **overrides)
    )
    user_id: str = success(payload, "CreateUserSuccess")["user"]["id"]
    return user_id


async def create_legal_user(client: httpx.AsyncClient, platform: PlatformHandle) -> LegalUser:
    payload = await mutate(client, platform, CREATE_USER, user_input({"legal": legal_person()}))
    user = success(payload, "CreateUserSuccess")["user"]
    [representative] = user["holder"]["representatives"]
    return LegalUser(user["id"], user["holder"]["id"], representative["id"])


async def add_person(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    user_id: str,
    roles: list[str],
    **overrides: Any,
) -> dict[str, Any]:
    person = natural_person(firstName="Alan", lastName="Turing")
    input = {"userId": user_id, "person": person, "roles": roles, **overrides}
    added: dict[str, Any] = success(
        await mutate(client, platform, ADD_PERSON, input), "AddPersonSuccess"
    )["person"]
    return added


async def read_user(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str
) -> dict[str, Any]:
    user: dict[str, Any] = (await query(client, platform, USER_QUERY, {"id": user_id}))["node"]
    assert user["__typename"] == "User", user
    return user
