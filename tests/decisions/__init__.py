"""Operator decisions on PRODUCTION and SANDBOX platforms: users, documents, wires, direct
debits, pay-outs and mandates."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.calls import query
from tests.support.platforms import PlatformHandle

DECISION_EVENTS = """query ($types: [EventType!]) { platform { events(first: 100, types: $types) {
  nodes { type objectId previousStatus status reasons message } } } }"""


async def decision_events(
    client: httpx.AsyncClient, platform: PlatformHandle, *types: str
) -> list[dict[str, Any]]:
    """The platform's events of `types`, oldest first, with their reasons and message."""
    data = await query(client, platform, DECISION_EVENTS, {"types": list(types)})
    found: list[dict[str, Any]] = data["platform"]["events"]["nodes"]
    return found
