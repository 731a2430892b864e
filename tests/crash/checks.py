"""What must hold after a storm, whatever was done to the processes under it: nothing lost,
nothing applied twice, and every answer the clients got true of the database.

Read twice: through the gateway's own GraphQL (the operations of `queries/`), as a client
would check its books, and straight from the tables (`tests/ledger/invariants.py` and the
queries below), which no bug of the API's reads can hide.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from gateway.domain.enums import EventType
from gateway.store.engine import Database
from gateway.store.journal_tables import Event, IdempotencyRecord
from gateway.store.ledger_tables import Transfer
from tests.crash.storm import UNEXPECTED, Storm
from tests.ledger.invariants import assert_ledger_holds
from tests.support.platforms import PlatformHandle

QUERIES = Path(__file__).resolve().parents[2] / "queries"
PLATFORM_ACCOUNTS = (QUERIES / "PlatformAccounts.graphql").read_text()
ACCOUNT_ENTRIES = (QUERIES / "AccountEntries.graphql").read_text()
PLATFORM_EVENTS = (QUERIES / "PlatformEvents.graphql").read_text()
PAGE_SIZE = 100
PAGES_MAX = 1_000


async def _data(
    http: httpx.AsyncClient, platform: PlatformHandle, query: str, **variables: Any
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=platform.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _pages(
    http: httpx.AsyncClient,
    platform: PlatformHandle,
    query: str,
    path: list[str],
    *,
    after: str | None = None,
    **variables: Any,
) -> list[dict[str, Any]]:
    """Every node of a connection (after `after`), following `endCursor` (bounded)."""
    nodes: list[dict[str, Any]] = []
    for _ in range(PAGES_MAX):
        found: Any = await _data(http, platform, query, first=PAGE_SIZE, after=after, **variables)
        for name in path:
            found = found[name]
        nodes.extend(found["nodes"])
        if not found["pageInfo"]["hasNextPage"]:
            return nodes
        after = found["pageInfo"]["endCursor"]
    raise AssertionError(f"more than {PAGES_MAX} pages")


async def balances(base_url: str, platform: PlatformHandle) -> dict[str, int]:
    """Each account's balance, by id, read through `PlatformAccounts`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        accounts = await _pages(http, platform, PLATFORM_ACCOUNTS, ["platform", "accounts"])
    return {account["id"]: account["balance"]["amount"] for account in accounts}


async def events_after(
    base_url: str, platform: PlatformHandle, cursor: str | None = None
) -> list[dict[str, Any]]:
    """The platform's events after `cursor` (all without one), oldest first, read through
    `PlatformEvents`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        return await _pages(http, platform, PLATFORM_EVENTS, ["platform", "events"], after=cursor)


async def _check_through_graphql(
    base_url: str, platform: PlatformHandle, before: dict[str, int], transfers: int
) -> list[str]:
    """Balances summed as before; each one the sum of its entries and the newest entry's
    balanceAfter; one TRANSFER_SUCCESSFUL event per transfer."""
    problems = []
    after = await balances(base_url, platform)
    if set(after) != set(before) or sum(after.values()) != sum(before.values()):
        problems.append(f"the balances summed {sum(before.values())}, now {sum(after.values())}")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for account_id, balance in after.items():
            entries = await _pages(
                http, platform, ACCOUNT_ENTRIES, ["node", "entries"], id=account_id
            )
            total = sum(entry["amount"]["amount"] for entry in entries)
            newest = entries[0]["balanceAfter"]["amount"] if entries else 0
            if not balance == total == newest:
                problems.append(
                    f"account {account_id}: balance {balance}, its entries sum to {total},"
                    f" the newest says {newest}"
                )
        events = await _data(
            http, platform, PLATFORM_EVENTS, first=1, types=["TRANSFER_SUCCESSFUL"]
        )
    announced = events["platform"]["events"]["totalCount"]
    if announced != transfers:
        problems.append(f"{announced} TRANSFER_SUCCESSFUL events for {transfers} transfers")
    return problems


async def _check_keys(db: Database, storm: Storm) -> list[str]:
    """Each key applied at most once, exactly once when an answer said so, and as answered:
    its idempotency record names the transfer every success named, and the transfers table
    holds those transfers (with the key's accounts and amount) and no other."""
    problems = []
    platform_id = storm.platform.id
    async with db.session() as session:
        found = await session.execute(
            sa.select(col(IdempotencyRecord.key), col(IdempotencyRecord.object_id)).where(
                col(IdempotencyRecord.platform_id) == platform_id
            )
        )
        records = {row.key: row for row in found}
        found = await session.execute(
            sa.select(
                col(Transfer.id),
                col(Transfer.debited_account_id),
                col(Transfer.credited_account_id),
                col(Transfer.amount),
            ).where(col(Transfer.platform_id) == platform_id)
        )
        transfers = {str(row.id): row for row in found}
    claimed: set[str] = set()
    for key, record in storm.keys.items():
        stored = records.get(key)
        if len(record.transfer_ids) > 1:
            problems.append(f"key {key}: answered with transfers {sorted(record.transfer_ids)}")
        if stored is None:
            problems.append(f"key {key}: no idempotency record, answers {record.answers}")
            continue
        if not record.succeeded:
            if stored.object_id is not None:
                problems.append(f"key {key}: answered a rejection, but applied")
            continue
        transfer_id = next(iter(record.transfer_ids))
        claimed.add(transfer_id)
        row = transfers.get(transfer_id)
        if str(stored.object_id) != transfer_id:
            problems.append(f"key {key}: answered {transfer_id}, recorded {stored.object_id}")
        if row is None:
            problems.append(f"key {key}: answered transfer {transfer_id}, which does not exist")
        elif (str(row.debited_account_id), str(row.credited_account_id), row.amount) != (
            record.input["debitedAccountId"],
            record.input["creditedAccountId"],
            record.input["amount"]["amount"],
        ):
            problems.append(f"key {key}: transfer {transfer_id} is not what the key asked for")
    extra = set(transfers) - claimed
    if extra:
        problems.append(f"{len(extra)} transfer(s) that no key's answer names: {sorted(extra)[:5]}")
    return problems


async def _check_events(db: Database, platform_id: uuid.UUID) -> list[str]:
    """The platform's log numbered 1..n without a gap; one TRANSFER_SUCCESSFUL per transfer."""
    problems = []
    async with db.session() as session:
        found = await session.execute(
            sa.select(col(Event.sequence), col(Event.type), col(Event.object_id))
            .where(col(Event.platform_id) == platform_id)
            .order_by(col(Event.sequence))
        )
        events = list(found)
        transfers = await session.scalars(
            sa.select(col(Transfer.id)).where(col(Transfer.platform_id) == platform_id)
        )
        expected = Counter(transfers)
    sequences = [event.sequence for event in events]
    if sequences != list(range(1, len(events) + 1)):
        problems.append(f"the event log's sequence has gaps or repeats: {sequences[-5:]}")
    announced = Counter(
        event.object_id for event in events if event.type is EventType.TRANSFER_SUCCESSFUL
    )
    if announced != expected:
        wrong = (announced - expected) + (expected - announced)
        problems.append(
            f"TRANSFER_SUCCESSFUL events do not match the transfers one for one"
            f" ({len(wrong)} off, e.g. {sorted(wrong)[:3]})"
        )
    return problems


async def assert_storm_left_everything_whole(
    *,
    storm: Storm,
    database_url: str,
    base_url: str,
    balances_before: dict[str, int],
) -> None:
    """Every check of the module docstring, each problem listed before failing."""
    db = Database.from_url(database_url)
    try:
        summary = await assert_ledger_holds(db, storm.platform.id)
        problems = await _check_keys(db, storm)
        problems += await _check_events(db, storm.platform.id)
    finally:
        await db.dispose()
    successes = sum(record.succeeded for record in storm.keys.values())
    if summary.transfers != successes:
        problems.append(f"{summary.transfers} transfers for {successes} successful keys")
    problems += await _check_through_graphql(
        base_url, storm.platform, balances_before, summary.transfers
    )
    problems += storm.unexpected[:20]
    shown = "\n  ".join(problems)
    assert not problems, f"{len(problems)} problem(s) after the storm {storm.counts}:\n  {shown}"
    assert storm.counts[UNEXPECTED] == 0
