"""The platform's event log, read through the API a page at a time."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.calls import query
from tests.support.documents import EVENTS_QUERY
from tests.support.platforms import PlatformHandle


async def events(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    types: list[str] | None = None,
    *,
    first: int = 100,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """One page of the platform's events (oldest first), each with its edge cursor checked."""
    variables = {"first": first, "after": after, "types": types}
    page = (await query(client, platform, EVENTS_QUERY, variables))["platform"]["events"]
    for edge in page["edges"]:
        assert edge["cursor"] == edge["node"]["cursor"]
    return [edge["node"] for edge in page["edges"]]


def summary(found: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """Events as (type, previousStatus, status)."""
    return [(event["type"], event["previousStatus"], event["status"]) for event in found]
