"""Identifiers: every object is a UUID, unique across types.

New ids are UUIDv7: time-ordered, so ordering by id is ordering by creation, and keyset
pagination on the id alone is stable under inserts.
"""

from __future__ import annotations

import uuid

from uuid_utils import compat


def new_id() -> uuid.UUID:
    return compat.uuid7()


def parse_id(value: str) -> uuid.UUID | None:
    """The UUID written in `value` (canonical hyphenated form, any case), or None."""
    if len(value) != 36:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
