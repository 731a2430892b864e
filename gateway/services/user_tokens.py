"""User tokens: issued and revoked by a platform's backend (with its API key), checked on
every request that presents one. See gateway/domain/user_tokens.py for the token itself.

The signature and lifetime are checked on every request without SQL; what the database says of
the token's subject (the platform's secret, the issuing key not revoked, the user active, its
`tokens_valid_after`) comes from the credential cache when a token of that subject passed a
moment ago (gateway/store/credential_cache.py). Revoking a user's tokens drops that from every
instance's cache (gateway/services/revocations.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.domain import user_tokens
from gateway.domain.credentials import Principal
from gateway.domain.enums import UserStatus
from gateway.domain.errors import InvalidState, ValidationFailed
from gateway.services import revocations
from gateway.services.lookups import find
from gateway.store import credentials
from gateway.store.column_types import utcnow
from gateway.store.credential_cache import CachedTokenSubject
from gateway.store.engine import Database
from gateway.store.notify import Invalidation
from gateway.store.tables import Platform, User


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


def _check_lifetime(expires_in_s: int) -> None:
    low, high = user_tokens.EXPIRES_IN_S_MIN, user_tokens.EXPIRES_IN_S_MAX
    if not low <= expires_in_s <= high:
        raise ValidationFailed.one("expiresInSeconds", f"Must be between {low} and {high} seconds.")


async def issue_user_token(
    db: Database,
    *,
    principal: Principal,
    user_id: str,
    expires_in_s: int = user_tokens.EXPIRES_IN_S_DEFAULT,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """A token acting for one active user of the caller's platform."""
    _check_lifetime(expires_in_s)
    async with db.transaction() as session:
        user = await find(
            session, User, platform_id=principal.platform_id, id_text=user_id, what="user"
        )
        if user.status != UserStatus.ACTIVE:
            raise InvalidState(f"The user is {user.status.value}: no token can act for it.")
        secret = await credentials.user_token_secret(
            session, platform_id=principal.platform_id, new=user_tokens.new_secret()
        )
    subject = user_tokens.TokenSubject(
        platform_id=principal.platform_id, user_id=user.id, api_key_id=principal.api_key_id
    )
    token, expires_at = user_tokens.issue(
        secret=secret, subject=subject, now=now or utcnow(), expires_in_s=expires_in_s
    )
    return IssuedToken(token=token, expires_at=expires_at, user=user)


async def revoke_user_tokens(
    db: Database, *, principal: Principal, user_id: str, now: dt.datetime | None = None
) -> User:
    """Refuse, from now on, every token issued so far for the user."""
    async with db.transaction() as session:
        user = await find(
            session, User, platform_id=principal.platform_id, id_text=user_id, what="user"
        )
        at = now or utcnow()
        await credentials.revoke_user_tokens(
            session, platform_id=principal.platform_id, user_id=user.id, at=at
        )
        user.tokens_valid_after = at
        await revocations.in_transaction(session, Invalidation.user(user.id))
    await revocations.announce(db, Invalidation.user(user.id))
    return user


async def authenticate_user_token(db: Database, token: str) -> tuple[Principal, Platform] | None:
    """The user a token acts for, or None when it fails any check (see the domain module)."""
    claimed = user_tokens.claimed_subject(token)
    if claimed is None:
        return None
    cache = db.credential_cache
    cached = cache.token_subject(claimed)
    if cached is not None:
        return _admitted(token, claimed, cached)
    generation = cache.generation
    found = await _subject_state(db, claimed)
    if found is None:
        return None
    admitted = _admitted(token, claimed, found)
    if admitted is not None:
        cache.keep_token_subject(claimed, found, generation=generation)
    return admitted


async def _subject_state(
    db: Database, claimed: user_tokens.TokenSubject
) -> CachedTokenSubject | None:
    """What the database says of the subject, if tokens may act for it at all."""
    async with db.session() as session:
        found = await credentials.token_rows(
            session,
            platform_id=claimed.platform_id,
            user_id=claimed.user_id,
            api_key_id=claimed.api_key_id,
        )
    if found is None:
        return None
    platform, api_key, user = found
    if platform.user_token_secret is None:
        return None
    if api_key.revoked_at is not None or user.status != UserStatus.ACTIVE:
        return None
    return CachedTokenSubject(platform=platform, tokens_valid_after=user.tokens_valid_after)


def _admitted(
    token: str, claimed: user_tokens.TokenSubject, state: CachedTokenSubject
) -> tuple[Principal, Platform] | None:
    """The token's principal if its signature, lifetime and issue instant pass."""
    platform = state.platform
    if platform.user_token_secret is None:
        return None
    verified = user_tokens.verify(token, secret=platform.user_token_secret)
    if verified is None or verified.subject != claimed:
        return None
    valid_after = state.tokens_valid_after
    if valid_after is not None and verified.issued_at <= valid_after:
        return None
    principal = Principal(
        platform_id=platform.id, api_key_id=claimed.api_key_id, user_id=claimed.user_id
    )
    return principal, platform
