"""Tenant boundary, from the outside: platform B's key never sees platform A's data."""

from __future__ import annotations

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support import data, graphql

A_IDS = """{ platform { id
  users(first: 100) { nodes { id email persons { id } } }
  accounts(first: 100) { nodes { id } }
} }"""


@pytest.fixture
async def victim(db: Database) -> PlatformHandle:
    return await make_platform(db, natural_users=4, legal_users=2, seed=11)


@pytest.fixture
async def intruder(db: Database) -> PlatformHandle:
    return await make_platform(db, natural_users=2, legal_users=1, seed=12)


async def _victim_ids(client: httpx.AsyncClient, victim: PlatformHandle) -> dict[str, list[str]]:
    found = (await data(client, A_IDS, headers=victim.headers))["platform"]
    users = found["users"]["nodes"]
    return {
        "platform": [found["id"]],
        "users": [user["id"] for user in users],
        "persons": [person["id"] for user in users for person in user["persons"]],
        "accounts": [account["id"] for account in found["accounts"]["nodes"]],
        "emails": [user["email"] for user in users],
    }


async def test_node_and_nodes_on_another_platforms_ids_read_like_unknown_ids(
    client: httpx.AsyncClient, victim: PlatformHandle, intruder: PlatformHandle
) -> None:
    ids = await _victim_ids(client, victim)
    every_id = ids["platform"] + ids["users"] + ids["persons"] + ids["accounts"]
    assert len(every_id) > 20
    for node_id in every_id:
        result = await data(
            client,
            "query ($id: ID!) { node(id: $id) { id __typename } }",
            {"id": node_id},
            headers=intruder.headers,
        )
        assert result == {"node": None}
    result = await data(
        client,
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": every_id[:100]},
        headers=intruder.headers,
    )
    assert result == {"nodes": [None] * len(every_id[:100])}


async def test_the_owner_does_see_those_ids(
    client: httpx.AsyncClient, victim: PlatformHandle
) -> None:
    ids = await _victim_ids(client, victim)
    every_id = ids["platform"] + ids["users"] + ids["persons"] + ids["accounts"]
    result = await data(
        client,
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": every_id},
        headers=victim.headers,
    )
    assert [node["id"] for node in result["nodes"]] == every_id


async def test_another_platforms_users_and_accounts_are_never_listed(
    client: httpx.AsyncClient, victim: PlatformHandle, intruder: PlatformHandle
) -> None:
    ids = await _victim_ids(client, victim)
    mine = (await data(client, A_IDS, headers=intruder.headers))["platform"]
    assert mine["id"] == str(intruder.id)
    listed_users = {user["id"] for user in mine["users"]["nodes"]}
    listed_accounts = {account["id"] for account in mine["accounts"]["nodes"]}
    assert len(listed_users) == 3
    assert listed_users.isdisjoint(ids["users"])
    assert listed_accounts.isdisjoint(ids["accounts"])


async def test_filtering_by_another_platforms_email_finds_nothing(
    client: httpx.AsyncClient, victim: PlatformHandle, intruder: PlatformHandle
) -> None:
    ids = await _victim_ids(client, victim)
    for email in ids["emails"]:
        result = await data(
            client,
            "query ($e: String) { platform { users(filter: {email: $e}) { totalCount } } }",
            {"e": email},
            headers=intruder.headers,
        )
        assert result["platform"]["users"]["totalCount"] == 0


async def test_a_cursor_from_another_platform_reveals_nothing_of_it(
    client: httpx.AsyncClient, victim: PlatformHandle, intruder: PlatformHandle
) -> None:
    ids = await _victim_ids(client, victim)
    cursor_query = "{ platform { users(first: 1) { edges { cursor } } } }"
    victim_cursor = (await data(client, cursor_query, headers=victim.headers))["platform"]["users"][
        "edges"
    ][0]["cursor"]
    result = await data(
        client,
        "query ($a: String) { platform { users(after: $a, first: 100) { nodes { id } } } }",
        {"a": victim_cursor},
        headers=intruder.headers,
    )
    assert {node["id"] for node in result["platform"]["users"]["nodes"]}.isdisjoint(ids["users"])


async def test_an_event_cursor_of_another_platform_is_a_clear_error(
    client: httpx.AsyncClient, victim: PlatformHandle, intruder: PlatformHandle
) -> None:
    query = "query ($a: String) { platform { events(first: 1, after: $a) { nodes { cursor } } } }"
    cursor = (await data(client, query, headers=victim.headers))["platform"]["events"]["nodes"][0][
        "cursor"
    ]
    body = await graphql(client, query, {"a": cursor}, headers=intruder.headers)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "another scope" in body["errors"][0]["message"]
    own = await data(client, query, {"a": cursor}, headers=victim.headers)
    assert own["platform"]["events"]["nodes"][0]["cursor"] != cursor
