"""Authentication: API keys (digest at rest, constant-time comparison, never logged) and user
tokens (gateway/services/user_tokens.py).

A credential that passed is kept in the Database's credential cache for a few seconds
(gateway/store/credential_cache.py), so the next requests with it cost no SQL statement; every
change that refuses it (gateway/services/revocations.py) drops it from the cache of every
instance as soon as it commits.
"""

from __future__ import annotations

import uuid

from gateway.domain.credentials import (
    Principal,
    bearer_token,
    digest_matches,
    generate_api_key,
    key_prefix,
)
from gateway.domain.enums import ApiKeyRole, Environment
from gateway.domain.ids import new_id
from gateway.services.user_tokens import authenticate_user_token
from gateway.store import readers
from gateway.store.credential_cache import CachedApiKey
from gateway.store.engine import Database, ReadConnection
from gateway.store.tables import ApiKey, Platform

Caller = tuple[Principal, Platform]  # who calls, and on which platform


async def authenticate(
    db: Database, *, authorization: str | None, reads: ReadConnection | None = None
) -> Caller | None:
    """The caller behind an Authorization header (a platform API key or a user token), or None
    for a missing, unknown, revoked, expired or tampered credential. An API key is looked up
    on `reads` (the request's read connection) when given."""
    token = bearer_token(authorization)
    if token is None:
        return None
    prefix = key_prefix(token)
    if prefix is None:
        return await authenticate_user_token(db, token)
    cache = db.credential_cache
    cached = cache.api_key(prefix)
    if cached is not None:  # the secret is still checked, against the digest read
        return (cached.principal, cached.platform) if digest_matches(token, cached.digest) else None
    generation = cache.generation
    async with reads.use() if reads is not None else db.reading() as connection:
        found = await readers.credential_by_prefix(connection, prefix=prefix)
    if found is None:
        return None
    api_key, platform = found
    if api_key.revoked_at is not None or not digest_matches(token, api_key.digest):
        return None
    principal = Principal(platform_id=platform.id, api_key_id=api_key.id, role=api_key.role)
    kept = CachedApiKey(digest=api_key.digest, principal=principal, platform=platform)
    cache.keep_api_key(prefix, kept, generation=generation)
    return principal, platform


def new_api_key_row(
    *,
    platform_id: uuid.UUID,
    environment: Environment,
    label: str | None,
    role: ApiKeyRole = ApiKeyRole.BACKEND,
) -> tuple[ApiKey, str]:
    """A new key row for the platform and the whole key (to show once)."""
    generated = generate_api_key(environment)
    row = ApiKey(
        id=new_id(),
        platform_id=platform_id,
        prefix=generated.prefix,
        digest=generated.digest,
        label=label,
        role=role,
    )
    return row, generated.key


async def issue_api_key(
    db: Database,
    *,
    platform_id: uuid.UUID,
    environment: Environment,
    label: str | None = None,
    role: ApiKeyRole = ApiKeyRole.BACKEND,
) -> str:
    """Store a new API key for the platform; returns the key, which is never shown again."""
    row, key = new_api_key_row(
        platform_id=platform_id, environment=environment, label=label, role=role
    )
    async with db.transaction() as session:
        session.add(row)
    return key
