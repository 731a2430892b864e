"""A deep query costs a constant number of SQL statements, whatever the platform's size."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support import StatementCounter, data, graphql

WHOLE_PLATFORM = """
query WholePlatform {
  platform {
    id name
    users(first: 100) {
      totalCount
      nodes {
        id email kind validationStatus
        holder {
          id nationality address { city country }
          ... on NaturalPerson { firstName lastName birthDate }
          ... on LegalPerson {
            legalName representatives { firstName } beneficialOwners { ownershipPercentage }
          }
        }
        persons { id ... on NaturalPerson { roles legalPerson { id legalName } } }
        accounts(first: 10) {
          totalCount
          nodes { id currency status balance { amount currency decimal } user { id } }
        }
      }
    }
  }
}
"""
STATEMENTS_MAX = 6


async def _statements_for(
    client: httpx.AsyncClient, db: Database, users: int, statements: StatementCounter
) -> tuple[int, int]:
    legal = users // 5
    handle = await make_platform(db, natural_users=users - legal, legal_users=legal)
    await data(client, "{ __typename }", headers=handle.headers)  # warm the connection pool
    statements.start()
    result = await data(client, WHOLE_PLATFORM, headers=handle.headers)
    count = statements.stop()
    listed = result["platform"]["users"]["nodes"]
    assert len(listed) == users
    assert all(len(user["accounts"]["nodes"]) == 2 for user in listed)
    return count, len(listed)


async def test_the_whole_platform_costs_the_same_statements_for_10_or_100_users(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    small, _ = await _statements_for(client, db, 10, statements)
    large, _ = await _statements_for(client, db, 100, statements)
    assert small == large
    assert large <= STATEMENTS_MAX, statements.statements


@pytest.mark.parametrize("first", [1, 10])
async def test_nested_accounts_are_paginated_per_user_in_one_statement(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter, first: int
) -> None:
    handle = await make_platform(db, natural_users=5, accounts_per_user=3)
    query = """query ($first: Int!) { platform { users { nodes {
        accounts(first: $first) { totalCount pageInfo { hasNextPage hasPreviousPage } nodes { id } }
    } } } }"""
    await data(client, "{ __typename }", headers=handle.headers)
    statements.start()
    result = await data(client, query, {"first": first}, headers=handle.headers)
    count = statements.stop()
    assert count == 3  # credential, users page, every user's accounts page
    for user in result["platform"]["users"]["nodes"]:
        accounts = user["accounts"]
        assert accounts["totalCount"] == 3
        assert len(accounts["nodes"]) == min(first, 3)
        assert accounts["pageInfo"] == {"hasNextPage": first < 3, "hasPreviousPage": False}


async def test_a_users_page_prefetches_each_accounts_page_its_selection_asks_for(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    handle = await make_platform(db, natural_users=4, accounts_per_user=3)
    query = """query ($n: Int!) { platform { users { edges { node {
        ... on User { one: accounts(first: 1) { nodes { id } } }
        many: accounts(first: $n) { totalCount nodes { id } }
        holder { id }
    } } } } }"""
    await data(client, "{ __typename }", headers=handle.headers)
    statements.start()
    result = await data(client, query, {"n": 3}, headers=handle.headers)
    count = statements.stop()
    assert count == 5  # credential, users page, persons, one accounts page per distinct page
    for edge in result["platform"]["users"]["edges"]:
        user = edge["node"]
        assert len(user["one"]["nodes"]) == 1
        assert len(user["many"]["nodes"]) == user["many"]["totalCount"] == 3
        assert user["one"]["nodes"][0] == user["many"]["nodes"][0]


async def test_a_bad_nested_page_argument_is_reported_on_the_users_field_not_the_page(
    client: httpx.AsyncClient, db: Database
) -> None:
    handle = await make_platform(db, natural_users=2)
    body = await graphql(
        client,
        "{ platform { users { nodes { email accounts(first: -1) { totalCount } } } } }",
        headers=handle.headers,
    )
    assert body["errors"]
    for error in body["errors"]:  # the prefetch leaves the refusal to the field that has it
        assert error["path"][:3] == ["platform", "users", "nodes"]
        assert error["path"][-1] == "accounts"
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_request_takes_one_pooled_connection_per_level_of_its_query(
    client: httpx.AsyncClient, db: Database
) -> None:
    handle = await make_platform(db, natural_users=8, legal_users=2)
    checkouts: list[object] = []

    def checked_out(connection: object, *_args: object) -> None:
        checkouts.append(connection)

    pool = db.read_engine.sync_engine.pool
    sa.event.listen(pool, "checkout", checked_out)
    try:
        result = await data(client, WHOLE_PLATFORM, headers=handle.headers)
    finally:
        sa.event.remove(pool, "checkout", checked_out)
    assert len(result["platform"]["users"]["nodes"]) == 10
    # the credential; the users page; the persons and accounts pages, queued together on one
    # (persons' legal persons and accounts' users are already loaded): one pre-ping each
    assert len(checkouts) == 3
