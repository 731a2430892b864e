"""A small ledger to filter, built through the API, and the filtered reads of each connection.

`busy_ledger` makes a payer (funded by a settled wire of 10 000), a payee, transfers of the
given amounts from one to the other, and returns their ids in creation order; each read helper
sends one filtered, ordered page and returns the nodes (or the whole connection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import graphql
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_TRANSFER
from tests.support.inputs import transfer_input
from tests.support.payments import Funded, funded_account
from tests.support.platforms import PlatformHandle

CONNECTION = """
  totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor }
  nodes { id createdAt %s }
"""
PLATFORM_LIST = """
query List($first: Int, $after: String, $last: Int, $before: String, $filter: %(filter)s,
           $orderBy: CreatedAtOrder) {
  platform {
    %(field)s(first: $first, after: $after, last: $last, before: $before, filter: $filter,
              orderBy: $orderBy) { %(connection)s }
  }
}
"""
FIELDS = {
    "transfers": ("TransferFilter", "status amount { amount }"),
    "payIns": ("PayInFilter", "status method amount { amount }"),
    "payOuts": ("PayOutFilter", "status amount { amount }"),
}
EVENTS = """
query Events($first: Int, $after: String, $filter: EventFilter, $orderBy: CreatedAtOrder) {
  platform { events(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor }
    nodes { id type status occurredAt objectId }
  } }
}
"""
ENTRIES = """
query Entries($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
              $filter: LedgerEntryFilter, $orderBy: CreatedAtOrder) {
  node(id: $id) { ... on Account {
    entries(first: $first, after: $after, last: $last, before: $before, filter: $filter,
            orderBy: $orderBy) { %s }
  } }
}
""" % (CONNECTION % "kind amount { amount }")


@dataclass(frozen=True)
class Ledger:
    payer: Funded
    payee: Funded
    transfers: list[str]  # in creation order


async def transfer(
    client: httpx.AsyncClient, platform: PlatformHandle, payer: Funded, payee: Funded, amount: int
) -> str:
    input = transfer_input(payer.account_id, payee.account_id, amount)
    payload = await mutate(client, platform, CREATE_TRANSFER, input)
    transfer_id: str = success(payload, "CreateTransferSuccess")["transfer"]["id"]
    return transfer_id


async def busy_ledger(
    client: httpx.AsyncClient, platform: PlatformHandle, amounts: list[int]
) -> Ledger:
    payer = await funded_account(client, platform, 10_000, validated=True)
    payee = await funded_account(client, platform, 0, validated=True)
    ids = [await transfer(client, platform, payer, payee, amount) for amount in amounts]
    return Ledger(payer, payee, ids)


def order(direction: str | None) -> dict[str, Any] | None:
    return None if direction is None else {"direction": direction}


def list_document(field: str) -> str:
    filter_type, leaves = FIELDS[field]
    return PLATFORM_LIST % {
        "filter": filter_type,
        "field": field,
        "connection": CONNECTION % leaves,
    }


async def page(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    field: str,
    *,
    filter: dict[str, Any] | None = None,
    direction: str | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    """One page of a platform list (transfers, payIns, payOuts) as a connection."""
    variables = {"filter": filter, "orderBy": order(direction), **arguments}
    found = await query(client, platform, list_document(field), variables)
    connection: dict[str, Any] = found["platform"][field]
    return connection


async def ids(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    field: str,
    *,
    filter: dict[str, Any] | None = None,
    direction: str | None = None,
) -> list[str]:
    found = await page(client, platform, field, filter=filter, direction=direction, first=100)
    return [node["id"] for node in found["nodes"]]


async def entries_page(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    *,
    filter: dict[str, Any] | None = None,
    direction: str | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    variables = {"id": account_id, "filter": filter, "orderBy": order(direction), **arguments}
    found = await query(client, platform, ENTRIES, variables)
    connection: dict[str, Any] = found["node"]["entries"]
    return connection


async def events_page(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    *,
    filter: dict[str, Any] | None = None,
    direction: str | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    variables = {"filter": filter, "orderBy": order(direction), **arguments}
    found = await query(client, platform, EVENTS, variables)
    connection: dict[str, Any] = found["platform"]["events"]
    return connection


async def error_of(
    client: httpx.AsyncClient, platform: PlatformHandle, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The one error of a read that must fail."""
    body = await graphql(client, document, variables, headers=platform.headers)
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error
