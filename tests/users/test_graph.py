"""Reading the graph: connections, filters, nested persons and accounts, nodes."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from gateway.domain.enums import UserKind, UserStatus, ValidationStatus
from gateway.domain.ids import new_id
from gateway.services.demo import populate
from gateway.store.engine import Database
from gateway.store.tables import User
from tests.conftest import PlatformHandle, make_platform
from tests.support import data, graphql

USERS_PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $filter: UserFilter) {
  platform { users(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id email kind validationStatus } }
    nodes { id }
  } }
}
"""


async def _users(client: httpx.AsyncClient, platform: PlatformHandle, **args: Any) -> Any:
    return (await data(client, USERS_PAGE, args, headers=platform.headers))["platform"]["users"]


async def test_paging_forward_visits_every_user_once_in_creation_order(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await _users(client, platform, first=4, after=after)
        assert page["totalCount"] == 11
        assert [edge["node"]["id"] for edge in page["edges"]] == [n["id"] for n in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [node["id"] for node in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 11
    assert seen == sorted(seen, key=uuid.UUID)


async def test_paging_backward_with_last_and_before_mirrors_forward(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    everyone = [node["id"] for node in (await _users(client, platform, first=100))["nodes"]]
    tail = await _users(client, platform, last=4)
    assert [node["id"] for node in tail["nodes"]] == everyone[-4:]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    before = await _users(client, platform, last=4, before=tail["pageInfo"]["startCursor"])
    assert [node["id"] for node in before["nodes"]] == everyone[-8:-4]
    assert before["pageInfo"]["hasNextPage"] is True


async def test_a_cursor_keeps_its_place_when_users_are_added(
    client: httpx.AsyncClient, db: Database, platform: PlatformHandle
) -> None:
    first_page = await _users(client, platform, first=5)
    before_insert = await _users(
        client, platform, first=100, after=first_page["pageInfo"]["endCursor"]
    )
    await populate(db, platform_id=platform.id, natural_users=3, legal_users=0, seed=99)
    after_insert = await _users(
        client, platform, first=100, after=first_page["pageInfo"]["endCursor"]
    )
    old = [node["id"] for node in before_insert["nodes"]]
    new = [node["id"] for node in after_insert["nodes"]]
    assert new[: len(old)] == old, "rows already listed after the cursor keep their order"
    assert len(new) == len(old) + 3
    assert after_insert["totalCount"] == 14


async def test_an_empty_page_still_counts_the_users(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    last = (await _users(client, platform, first=100))["pageInfo"]["endCursor"]
    page = await _users(client, platform, first=10, after=last)
    assert page["nodes"] == []
    assert page["totalCount"] == 11
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }
    zero = await _users(client, platform, first=0)
    assert zero["nodes"] == []
    assert zero["pageInfo"]["hasNextPage"] is True


async def test_users_filter_by_email_case_insensitively_by_kind_and_by_status(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    everyone = (await _users(client, platform, first=100))["edges"]
    email = everyone[0]["node"]["email"]
    by_email = await _users(client, platform, filter={"email": email.upper()})
    assert [node["id"] for node in by_email["nodes"]] == [everyone[0]["node"]["id"]]
    legal = await _users(client, platform, filter={"kind": "LEGAL"})
    assert legal["totalCount"] == 3
    validated = await _users(client, platform, filter={"validationStatus": "VALIDATED"})
    expected = [e for e in everyone if e["node"]["validationStatus"] == "VALIDATED"]
    assert validated["totalCount"] == len(expected)
    both = await _users(client, platform, filter={"kind": "LEGAL", "email": "nobody@example.com"})
    assert both["totalCount"] == 0


async def test_a_legal_user_shows_its_entity_representative_and_owners(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = """{ platform { users(filter: {kind: LEGAL}, first: 1) { nodes {
        holder { __typename id ... on LegalPerson {
            legalName category user { id }
            representatives { isUserRepresentative roles legalPerson { id } }
            beneficialOwners { ownershipPercentage }
        } }
        persons { __typename id }
    } } } }"""
    user = (await data(client, query, headers=platform.headers))["platform"]["users"]["nodes"][0]
    holder = user["holder"]
    assert holder["__typename"] == "LegalPerson"
    assert user["persons"][0] == {"__typename": "LegalPerson", "id": holder["id"]}
    assert [p["__typename"] for p in user["persons"][1:]] == ["NaturalPerson", "NaturalPerson"]
    representative = holder["representatives"][0]
    assert representative["isUserRepresentative"] is True
    assert "LEGAL_REPRESENTATIVE" in representative["roles"]
    assert representative["legalPerson"] == {"id": holder["id"]}
    shares = [owner["ownershipPercentage"] for owner in holder["beneficialOwners"]]
    assert len(shares) == 2
    assert all(share > 25 for share in shares)


async def test_nested_accounts_page_per_user_after_a_cursor(
    client: httpx.AsyncClient, db: Database
) -> None:
    handle = await make_platform(db, natural_users=3, accounts_per_user=3)
    query = """query ($after: String) { platform { users { nodes {
        accounts(first: 1, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage }
          edges { cursor node { id user { id } } } }
        id
    } } } }"""
    users = (await data(client, query, headers=handle.headers))["platform"]["users"]["nodes"]
    cursor = users[0]["accounts"]["edges"][0]["cursor"]
    again = await data(client, query, {"after": cursor}, headers=handle.headers)
    pages = [user["accounts"] for user in again["platform"]["users"]["nodes"]]
    assert pages[0]["edges"][0]["node"]["user"]["id"] == users[0]["id"]
    assert pages[0]["edges"][0]["cursor"] != cursor
    assert pages[0]["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}
    assert all(page["totalCount"] == 3 for page in pages)


async def test_every_node_type_is_found_by_id(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = """{ platform { id accounts(first: 1) { nodes { id user { id holder { id } } } } } }"""
    found = (await data(client, query, headers=platform.headers))["platform"]
    account = found["accounts"]["nodes"][0]
    ids = {
        "Platform": found["id"],
        "Account": account["id"],
        "User": account["user"]["id"],
        "Person": account["user"]["holder"]["id"],
    }
    result = await data(
        client,
        "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": list(ids.values())},
        headers=platform.headers,
    )
    typenames = [node["__typename"] for node in result["nodes"]]
    assert typenames[:3] == ["Platform", "Account", "User"]
    assert typenames[3] in ("NaturalPerson", "LegalPerson")
    assert [node["id"] for node in result["nodes"]] == list(ids.values())


async def test_money_is_integer_minor_units_with_an_iso_decimal(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = """{ platform { accounts(first: 5) {
        nodes { currency balance { amount currency decimal } } } } }"""
    accounts = (await data(client, query, headers=platform.headers))["platform"]["accounts"][
        "nodes"
    ]
    for account in accounts:
        balance = account["balance"]
        assert isinstance(balance["amount"], int)
        assert balance["currency"] == account["currency"] == "EUR"
        assert balance["decimal"] == f"{balance['amount'] // 100}.{balance['amount'] % 100:02d}"


async def test_the_viewer_is_null_under_a_platform_key(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    assert await data(client, "{ viewer { id } }", headers=platform.headers) == {"viewer": None}


async def test_an_internal_error_is_masked_for_the_client_and_logged_with_a_reference(
    client: httpx.AsyncClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    handle = await make_platform(db)
    broken = User(
        id=new_id(),
        platform_id=handle.id,
        email="ghost@example.com",
        email_key="ghost@example.com",
        login="ghost",
        kind=UserKind.NATURAL,
        status=UserStatus.ACTIVE,
        validation_status=ValidationStatus.NOT_SUBMITTED,
    )  # a user without its holder person: a damaged database, not the caller's fault
    async with db.transaction() as session:
        session.add(broken)
    with caplog.at_level(logging.ERROR, logger="gateway.graphql"):
        body = await graphql(
            client,
            "{ platform { users { nodes { email holder { id } } } } }",
            headers=handle.headers,
        )
    [error] = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "holder" not in error["message"]
    assert str(broken.id) not in str(body)
    reference = error["extensions"]["reference"]
    assert any(reference in record.getMessage() for record in caplog.records)
