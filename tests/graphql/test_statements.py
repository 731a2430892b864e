"""A deep query costs a constant number of SQL statements, whatever the platform's size."""

from __future__ import annotations

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support import StatementCounter, data

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
