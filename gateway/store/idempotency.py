"""Idempotency keys: claimed in the transaction of the request that carries one, settled with
its outcome. A key is claimed by an insert that does nothing on conflict, so two requests
with one key serialise on it (PostgreSQL waits for the first to end) and the second reads
the first's record. A claim may already name the object the request is about to create (its
id chosen in advance): a success then needs no settling. Statements built once
(gateway.store.statements).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway.domain.ids import new_id
from gateway.store.journal_tables import IdempotencyRecord
from gateway.store.statements import UNSYNCED, bind, dialect_of

ACTOR_COLUMNS = ("actor_kind", "actor_key_id", "actor_role", "actor_user_id")


async def claim_idempotency_key(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    key: str,
    operation: str,
    fingerprint: str,
    actor: dict[str, Any],
    object_id: uuid.UUID | None = None,
) -> IdempotencyRecord | None:
    """Insert a record for `key`, or return the one already there (None when ours is new).
    `actor`: the record's `actor_*` columns; `object_id`: the id of the object the request
    will create, if known (the outcome of a success, so nothing is left to settle then).

    On PostgreSQL a concurrent transaction holding the same key makes this insert wait for it
    to commit or roll back; either way the answer is then final.
    """
    values = {
        "p_id": new_id(),
        "p_platform_id": platform_id,
        "p_key": key,
        "p_operation": operation,
        "p_fingerprint": fingerprint,
        "p_object_id": object_id,
        **{f"p_{column}": value for column, value in actor.items()},
    }
    inserted = await session.execute(_claim_idempotency_key(dialect_of(session)), values)
    if inserted.first() is not None:
        return None
    found = {"p_platform_id": platform_id, "p_key": key}
    existing: IdempotencyRecord = (await session.scalars(_idempotency_record(), found)).one()
    return existing


@functools.cache
def _claim_idempotency_key(dialect_name: str) -> Any:
    table: Any = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    columns = ("id", "platform_id", "key", "operation", "fingerprint", "object_id", *ACTOR_COLUMNS)
    values = {column: bind(IdempotencyRecord, column) for column in columns}
    return dialect.insert(table).values(values).on_conflict_do_nothing().returning(table.c.id)


@functools.cache
def _idempotency_record() -> Any:
    return sa.select(IdempotencyRecord).where(
        col(IdempotencyRecord.platform_id) == sa.bindparam("p_platform_id"),
        col(IdempotencyRecord.key) == sa.bindparam("p_key"),
    )


async def settle_idempotency_key(
    session: AsyncSession,
    *,
    platform_id: uuid.UUID,
    key: str,
    object_id: uuid.UUID | None,
    rejection: dict[str, Any] | None,
) -> None:
    parameters = {
        "p_platform_id": platform_id,
        "p_key": key,
        "p_object_id": object_id,
        "p_rejection": rejection,
    }
    await session.execute(_settle_idempotency_key(), parameters)


@functools.cache
def _settle_idempotency_key() -> Any:
    return (
        sa.update(IdempotencyRecord)
        .execution_options(**UNSYNCED)
        .where(
            col(IdempotencyRecord.platform_id) == sa.bindparam("p_platform_id"),
            col(IdempotencyRecord.key) == sa.bindparam("p_key"),
        )
        .values(
            object_id=bind(IdempotencyRecord, "object_id"),
            rejection=bind(IdempotencyRecord, "rejection"),
        )
    )
