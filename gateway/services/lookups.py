"""Finding the objects a mutation names: in the caller's platform, or `NotFound`.

An id of another platform, an id of the wrong type and a malformed id all read as "not
found", so a caller learns nothing about objects outside its scope.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from gateway.domain.errors import NotFound
from gateway.domain.ids import parse_id
from gateway.store import rows
from gateway.store.engine import Session

M = TypeVar("M")


def object_id(text: str, what: str) -> uuid.UUID:
    key = parse_id(text)
    if key is None:
        raise NotFound(f"No {what} with id {text[:64]!r}.")
    return key


async def find(
    session: Session,
    model: type[M],
    *,
    platform_id: uuid.UUID,
    id_text: str,
    what: str,
    lock: bool = False,
) -> M:
    """The row of `model` with that id in the platform (row-locked if asked), or NotFound."""
    row = await rows.row_in_platform(
        session, model, platform_id=platform_id, key=object_id(id_text, what), lock=lock
    )
    if row is None:
        raise NotFound(f"No {what} with id {id_text[:64]!r}.")
    return row
