"""User tokens: short-lived signed credentials that act for one user of a platform.

A platform's backend asks for one (`createUserToken`, with its API key) and hands it to its
frontend. The token is a JWT (RFC 7519, HS256, via PyJWT) signed with a secret of the platform
that never leaves the gateway's database, and names:

- `pid` the platform, `sub` the user, `kid` the API key that issued it;
- `iat`/`exp` its lifetime (at most a day; 15 minutes unless asked otherwise), `jti` a random id.

It is refused when expired, tampered with, signed by another platform's secret, issued by a key
since revoked, for a user who is blocked or closed, or issued at or before the user's
`tokens_valid_after` instant (`revokeUserTokens`). Nothing is stored per token.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

import jwt

AUDIENCE = "mps-gateway"
ALGORITHM = "HS256"
TOKEN_LENGTH_MAX = 1024
EXPIRES_IN_S_DEFAULT = 15 * 60
EXPIRES_IN_S_MIN = 60
EXPIRES_IN_S_MAX = 24 * 60 * 60
_REQUIRED = ["exp", "iat", "sub", "pid", "kid", "jti"]


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """Who a token claims to act for; trusted only once `verify` has checked the signature."""

    platform_id: uuid.UUID
    user_id: uuid.UUID
    api_key_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: TokenSubject
    issued_at: dt.datetime


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def issue(
    *, secret: str, subject: TokenSubject, now: dt.datetime, expires_in_s: int
) -> tuple[str, dt.datetime]:
    """A signed token for the subject and the instant it expires."""
    expires_at = now + dt.timedelta(seconds=expires_in_s)
    claims = {
        "aud": AUDIENCE,
        "sub": str(subject.user_id),
        "pid": str(subject.platform_id),
        "kid": str(subject.api_key_id),
        "iat": now.timestamp(),
        "exp": int(expires_at.timestamp()),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at.replace(microsecond=0)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def claimed_subject(token: str) -> TokenSubject | None:
    """The subject a token names, before any check (to find the platform's secret)."""
    if len(token) > TOKEN_LENGTH_MAX or token.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    if header.get("alg") != ALGORITHM:
        return None
    platform_id, user_id, api_key_id = (_uuid(claims.get(name)) for name in ("pid", "sub", "kid"))
    if platform_id is None or user_id is None or api_key_id is None:
        return None
    return TokenSubject(platform_id=platform_id, user_id=user_id, api_key_id=api_key_id)


def verify(token: str, *, secret: str) -> VerifiedToken | None:
    """The token's subject when its signature, audience and lifetime hold; else None."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": _REQUIRED},
        )
    except jwt.PyJWTError:
        return None
    subject = claimed_subject(token)
    issued_at = claims.get("iat")
    if subject is None or not isinstance(issued_at, int | float):
        return None
    return VerifiedToken(subject=subject, issued_at=dt.datetime.fromtimestamp(issued_at, dt.UTC))
