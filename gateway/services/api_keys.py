"""Platform API keys, as operators manage them: create, list, revoke.

- A new key takes the platform's environment (`mps_test_` in the sandbox, `mps_live_` in
  production); its whole value is returned once, by `create_api_key`, and never again.
- A key has a role: BACKEND (the platform's server, the default), OPERATOR (the back-office's
  decisions) or READONLY (reporting); it never changes. Issue another key for another role.
- A listing carries the public prefix, the label, the role and the dates of each key: never the
  secret, never its digest.
- Revoking sets `revoked_at` once. Revoking again changes nothing (the first time is kept).
  Authentication keeps a key it verified in each instance's credential cache for a few
  seconds; the revocation drops it (and the user tokens it issued) from every instance's cache
  as it commits (gateway/services/revocations.py), so the very next request made with a
  revoked key is refused (on SQLite, where no carrier links processes, a key revoked by the
  command line applies once the entry expires). Revoking a platform's last active key is
  allowed: the caller is told how many active keys remain, and may warn.

A key is named by its id or by its prefix (`mps_test_` + 12 characters), both shown in listings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from gateway.domain.credentials import key_prefix
from gateway.domain.enums import ApiKeyRole, Environment
from gateway.domain.errors import InvalidArgument, NotFound
from gateway.domain.ids import parse_id
from gateway.services import revocations
from gateway.services.credentials import issue_api_key
from gateway.store import credentials as credential_rows
from gateway.store import readers
from gateway.store.column_types import utcnow
from gateway.store.engine import Database, Session
from gateway.store.notify import Invalidation
from gateway.store.tables import ApiKey, Platform

LABEL_LENGTH_MAX = 200  # the column's length


@dataclass(frozen=True, slots=True)
class ApiKeySummary:
    """What may be shown about a key: everything but its secret and digest."""

    id: uuid.UUID
    platform_id: uuid.UUID
    prefix: str
    label: str | None
    role: ApiKeyRole
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    platform_id: uuid.UUID
    environment: Environment
    prefix: str
    label: str | None
    role: ApiKeyRole
    key: str  # shown once


@dataclass(frozen=True, slots=True)
class RevokedApiKey:
    key: ApiKeySummary
    newly_revoked: bool  # False when it was revoked already (nothing changed)
    active_keys_left: int  # the platform's keys still usable afterwards


def _summary(row: ApiKey) -> ApiKeySummary:
    return ApiKeySummary(
        id=row.id,
        platform_id=row.platform_id,
        prefix=row.prefix,
        label=row.label,
        role=row.role,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def check_label(label: str | None) -> str | None:
    """The label as stored: trimmed, None when blank; printable and at most 200 characters."""
    label = (label or "").strip()
    if len(label) > LABEL_LENGTH_MAX or not label.isprintable():
        raise InvalidArgument(
            f"The label must have at most {LABEL_LENGTH_MAX} printable characters.",
            argument="label",
        )
    return label or None


async def _platform(db: Database, platform_id: uuid.UUID) -> Platform:
    async with db.session() as session:
        platform = await readers.platform_by_id(session, platform_id=platform_id)
    if platform is None:
        raise NotFound(f"No platform with id {platform_id}.")
    return platform


async def create_api_key(
    db: Database,
    *,
    platform_id: uuid.UUID,
    label: str | None = None,
    role: ApiKeyRole = ApiKeyRole.BACKEND,
) -> CreatedApiKey:
    """Issue a new key for the platform, in the platform's environment, with its role (what
    it may do: gateway/graphql/access.py); the key is shown once."""
    label = check_label(label)
    platform = await _platform(db, platform_id)
    key = await issue_api_key(
        db, platform_id=platform.id, environment=platform.environment, label=label, role=role
    )
    prefix = key_prefix(key)
    assert prefix is not None, "an issued key always has a prefix"
    return CreatedApiKey(
        platform_id=platform.id,
        environment=platform.environment,
        prefix=prefix,
        label=label,
        role=role,
        key=key,
    )


async def list_api_keys(db: Database, *, platform_id: uuid.UUID) -> list[ApiKeySummary]:
    """Every key of the platform, revoked ones included, oldest first."""
    await _platform(db, platform_id)
    async with db.session() as session:
        rows = await readers.api_keys_of_platform(session, platform_id=platform_id)
    return [_summary(row) for row in rows]


def parse_key_reference(reference: str) -> uuid.UUID | str:
    """A key id (UUID) or a key prefix, from what an operator typed; InvalidArgument otherwise.

    A whole key is refused with its prefix in the message: the secret is not needed to revoke.
    """
    reference = reference.strip()
    key_id = parse_id(reference)
    if key_id is not None:
        return key_id
    if key_prefix(f"{reference}_x") == reference:
        return reference
    prefix = key_prefix(reference)
    if prefix is not None:
        raise InvalidArgument(
            f"That is a whole API key: pass its prefix, {prefix}, or its id instead.",
            argument="key",
        )
    raise InvalidArgument(
        "Expected a key id (a UUID) or a key prefix (mps_test_ or mps_live_ and 12 characters).",
        argument="key",
    )


async def revoke_api_key(db: Database, *, reference: str) -> RevokedApiKey:
    """Revoke the key named by its id or prefix; revoking a revoked key changes nothing."""
    parsed = parse_key_reference(reference)

    async def work(session: Session) -> RevokedApiKey:
        if isinstance(parsed, uuid.UUID):
            row = await readers.api_key_by_id(session, api_key_id=parsed)
        else:
            found = await readers.credential_by_prefix(session, prefix=parsed)
            row = None if found is None else found[0]
        if row is None:
            raise NotFound(f"No API key with id or prefix {reference.strip()!r}.")
        before, now = _summary(row), utcnow()
        revoked_at = await credential_rows.revoke_api_key(session, api_key_id=row.id, at=now)
        assert revoked_at is not None, "the key was read in this transaction"
        await revocations.in_transaction(session, Invalidation.api_key(row.id))
        left = await readers.active_api_key_count(session, platform_id=row.platform_id)
        summary = dataclasses.replace(before, revoked_at=revoked_at)
        return RevokedApiKey(key=summary, newly_revoked=revoked_at == now, active_keys_left=left)

    revoked = await db.write(work)
    await revocations.announce(db, Invalidation.api_key(revoked.key.id))
    return revoked
