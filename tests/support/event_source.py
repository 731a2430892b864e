"""Server-sent events read as a browser's EventSource reads them: blocks of `field: value`
lines ended by an empty line; `retry:` and `id:` apply even to a block without data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.domain.pagination import decode_event_cursor

EVENTS = """subscription ($after: String, $types: [EventType!]) {
  events(after: $after, types: $types) { cursor type objectId } }"""
# No `cursor` selected: the id must not depend on the selection.
EVENT_TYPES = """subscription ($types: [EventType!]) { events(types: $types) { type objectId } }"""
USERS_CREATED = {"types": ["USER_CREATED"]}
RECEIVE_TIMEOUT_S = 10


@dataclass(frozen=True, slots=True)
class Block:
    event: str | None
    data: str
    id: str | None
    retry: int | None

    @property
    def payload(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.data)
        return found


async def blocks(response: httpx.Response) -> AsyncIterator[Block]:
    fields: dict[str, list[str]] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                retry = fields.get("retry", [None])[-1]
                yield Block(
                    event=fields.get("event", [None])[-1],
                    data="\n".join(fields.get("data", [])),
                    id=fields.get("id", [None])[-1],
                    retry=int(retry) if retry is not None else None,
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value.removeprefix(" "))


async def next_blocks(stream: AsyncIterator[Block], count: int) -> list[Block]:
    """The next `count` `next` events (other blocks skipped)."""
    found: list[Block] = []
    async for block in stream:
        if block.event == "next":
            found.append(block)
            if len(found) == count:
                break
    assert len(found) == count, f"the stream ended after {len(found)} of {count} events"
    return found


def sequence(platform_id: Any, cursor: str) -> int:
    return decode_event_cursor(cursor, platform_id=platform_id, argument="id")


def get_params(
    document: str, variables: dict[str, Any] | None = None, **extra: str
) -> dict[str, str]:
    """The query string of a subscription over GET (graphql-sse, distinct connections)."""
    params = {"query": document, **extra}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    return params
