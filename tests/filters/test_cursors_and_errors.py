"""Listing cursors: stable across inserts, bound to their order and filter; bad bounds are
BAD_USER_INPUT errors naming the field; page limits stay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PlatformHandle
from tests.filters.ledger import (
    ENTRIES,
    busy_ledger,
    entries_page,
    error_of,
    list_document,
    order,
    page,
    transfer,
)
from tests.support.calls import query


async def _walk(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    *,
    direction: str,
    filter: dict[str, Any],
    between_pages: Any = None,
) -> list[str]:
    """Every id of the filtered transfers, two a page, running `between_pages` after the first."""
    seen: list[str] = []
    after = None
    while True:
        found = await page(
            client, platform, "transfers", filter=filter, direction=direction, first=2, after=after
        )
        seen += [node["id"] for node in found["nodes"]]
        if between_pages is not None:
            await between_pages()
            between_pages = None
        if not found["pageInfo"]["hasNextPage"]:
            return seen
        after = found["pageInfo"]["endCursor"]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_a_row_inserted_between_pages_is_neither_repeated_nor_skipped(
    client: httpx.AsyncClient, sandbox: PlatformHandle, direction: str
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 200, 300, 400, 500])
    wanted = {"amount": {"min": 150}}
    inserted: list[str] = []

    async def insert() -> None:
        inserted.append(await transfer(client, sandbox, ledger.payer, ledger.payee, 600))

    seen = await _walk(client, sandbox, direction=direction, filter=wanted, between_pages=insert)

    assert len(seen) == len(set(seen))
    before = ledger.transfers[1:]
    if direction == "ASC":  # the new row is the newest: it comes last, on a later page
        assert seen == [*before, *inserted]
    else:  # newest first: the new row sorts before the pages already read, and stays out
        assert seen == before[::-1]


async def test_pages_backwards_with_last_and_before_mirror_the_forward_ones(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 200, 300, 400])
    newest_first: dict[str, Any] = {"filter": {"amount": {"min": 1}}, "direction": "DESC"}
    last_two = await page(client, sandbox, "transfers", last=2, **newest_first)
    assert [node["id"] for node in last_two["nodes"]] == ledger.transfers[1::-1]
    assert last_two["pageInfo"]["hasPreviousPage"] is True
    before = last_two["pageInfo"]["startCursor"]
    earlier = await page(client, sandbox, "transfers", last=2, before=before, **newest_first)
    assert [node["id"] for node in earlier["nodes"]] == ledger.transfers[:1:-1]
    assert earlier["pageInfo"]["hasPreviousPage"] is False


async def test_an_entries_page_resumes_after_its_cursor(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100, 200, 300])
    account = ledger.payer.account_id
    debits = {"kind": "TRANSFER_OUT"}
    first = await entries_page(client, sandbox, account, filter=debits, direction="ASC", first=2)
    cursor = first["pageInfo"]["endCursor"]
    rest = await entries_page(
        client, sandbox, account, filter=debits, direction="ASC", first=2, after=cursor
    )
    amounts = [n["amount"]["amount"] for n in first["nodes"] + rest["nodes"]]
    assert amounts == [-100, -200, -300]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)


async def test_a_cursor_of_one_order_or_filter_is_refused_under_another(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    await busy_ledger(client, sandbox, [100, 200, 300])
    wanted = {"amount": {"min": 1}}
    descending = await page(client, sandbox, "transfers", filter=wanted, direction="DESC", first=1)
    cursor = descending["pageInfo"]["endCursor"]
    plain = await page(client, sandbox, "transfers", first=1)
    document = list_document("transfers")

    other_order = {"filter": wanted, "orderBy": order("ASC"), "after": cursor}
    other_filter = {"filter": {"amount": {"min": 2}}, "orderBy": order("DESC"), "after": cursor}
    no_listing = {"after": cursor}
    plain_cursor = {"filter": wanted, "after": plain["pageInfo"]["endCursor"]}
    for variables in (other_order, other_filter, no_listing, plain_cursor):
        error = await error_of(client, sandbox, document, variables)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "`after` was issued" in error["message"], error
    broken = await error_of(client, sandbox, document, {"filter": wanted, "after": "bogus"})
    assert broken["message"] == "`after` is not a valid cursor."


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        (
            {"createdAt": {"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}},
            "`filter.createdAt.from` must not be after `filter.createdAt.to`.",
        ),
        ({"amount": {"min": 500, "max": 100}}, "`filter.amount.min` must not exceed"),
        ({"amount": {"min": -1}}, "`filter.amount.min` must not be negative"),
        ({"amount": {"max": -5}}, "`filter.amount.max` must not be negative"),
    ],
)
async def test_bounds_that_make_no_sense_are_bad_user_input(
    client: httpx.AsyncClient, sandbox: PlatformHandle, filter: dict[str, Any], message: str
) -> None:
    for field in ("transfers", "payIns", "payOuts"):
        error = await error_of(client, sandbox, list_document(field), {"filter": filter})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["message"].startswith(message), error
        assert error["path"] == ["platform", field]


async def test_entries_take_negative_bounds_but_not_crossed_ones(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    ledger = await busy_ledger(client, sandbox, [100])
    account = ledger.payer.account_id
    debits = await entries_page(client, sandbox, account, filter={"amount": {"max": -1}})
    assert [node["amount"]["amount"] for node in debits["nodes"]] == [-100]
    crossed = {"id": account, "filter": {"amount": {"min": -1, "max": -100}}}
    error = await error_of(client, sandbox, ENTRIES, crossed)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("`filter.amount.min` must not exceed")


async def test_malformed_filter_values_are_refused_before_any_read(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    document = list_document("transfers")
    for filter in (
        {"createdAt": {"from": "yesterday"}},
        {"amount": {"min": 1.5}},
        {"amount": {"min": "100"}},
        {"status": "LOST"},
    ):
        error = await error_of(client, sandbox, document, {"filter": filter})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    long_status = {"status": "S" * 33}
    events = "query($f: EventFilter) { platform { events(filter: $f) { totalCount } } }"
    error = await error_of(client, sandbox, events, {"f": long_status})
    assert error["message"].startswith("`filter.status` may hold at most 32 characters")


async def test_page_limits_stay_under_a_filter(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    document = list_document("payOuts")
    for arguments in ({"first": 101}, {"last": 101}, {"first": -1}, {"first": 1, "last": 1}):
        variables = {"filter": {"status": "SUCCEEDED"}, "orderBy": order("DESC"), **arguments}
        error = await error_of(client, sandbox, document, variables)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error


async def test_an_event_cursor_of_a_listing_is_bound_to_its_types_too(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    await busy_ledger(client, sandbox, [100, 200])
    document = """
    query ($after: String, $types: [EventType!]) {
      platform { events(first: 1, after: $after, types: $types, orderBy: {direction: DESC}) {
        pageInfo { endCursor } nodes { type }
      } }
    }"""
    transfers = {"types": ["TRANSFER_SUCCESSFUL"]}
    first = await query(client, sandbox, document, transfers)
    cursor = first["platform"]["events"]["pageInfo"]["endCursor"]
    again = await query(client, sandbox, document, {**transfers, "after": cursor})
    assert [node["type"] for node in again["platform"]["events"]["nodes"]] == [
        "TRANSFER_SUCCESSFUL"
    ]
    error = await error_of(client, sandbox, document, {"after": cursor})
    assert "`after` was issued under another `orderBy` or `filter`" in error["message"]
