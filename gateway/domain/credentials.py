"""Platform API keys.

A key reads `mps_test_<lookup>_<secret>` (sandbox) or `mps_live_<lookup>_<secret>` (production):
the environment shows in the key itself, the 12-character lookup part finds the stored row, and
the secret is 256 bits from the operating system's CSPRNG. Only a SHA-256 digest of the whole
key is stored (the key has full entropy, so a slow hash adds nothing), it is compared in constant
time, and the key itself is shown once, at creation, and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from gateway.domain.enums import ActorKind, ApiKeyRole, Environment

_ENVIRONMENT_PREFIX = {Environment.SANDBOX: "mps_test_", Environment.PRODUCTION: "mps_live_"}
_LOOKUP_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
LOOKUP_LENGTH = 12
KEY_LENGTH_MAX = 128


@dataclass(frozen=True, slots=True)
class NewApiKey:
    prefix: str  # stored and shown in listings: environment + lookup part
    key: str  # the whole secret key, shown once
    digest: str


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as events, ledger entries and idempotency records store it: an API
    key (its id and role), a user acting through a token issued with `api_key_id`, the
    sandbox settler, or the system."""

    kind: ActorKind
    api_key_id: uuid.UUID | None = None
    role: ApiKeyRole | None = None
    user_id: uuid.UUID | None = None


SYSTEM = Actor(ActorKind.SYSTEM)
SETTLER = Actor(ActorKind.SETTLER)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a platform through one of its API keys, or, with `user_id` set, one user
    of that platform through a user token issued with that key."""

    platform_id: uuid.UUID
    api_key_id: uuid.UUID
    user_id: uuid.UUID | None = None
    role: ApiKeyRole = ApiKeyRole.BACKEND  # the key's; a user token is issued by a BACKEND key

    @property
    def actor(self) -> Actor:
        if self.user_id is not None:
            return Actor(ActorKind.USER, api_key_id=self.api_key_id, user_id=self.user_id)
        return Actor(ActorKind.API_KEY, api_key_id=self.api_key_id, role=self.role)

    @property
    def credential(self) -> str:
        """A stable name for the credential, for rate limits and logs (never a secret)."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"key:{self.api_key_id}"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key(environment: Environment) -> NewApiKey:
    lookup = "".join(secrets.choice(_LOOKUP_ALPHABET) for _ in range(LOOKUP_LENGTH))
    prefix = f"{_ENVIRONMENT_PREFIX[environment]}{lookup}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(prefix=prefix, key=key, digest=key_digest(key))


def key_prefix(key: str) -> str | None:
    """The stored prefix of a presented key, or None when it cannot be one of ours."""
    if len(key) > KEY_LENGTH_MAX or not key.isascii():
        return None
    for environment_prefix in _ENVIRONMENT_PREFIX.values():
        if key.startswith(environment_prefix):
            prefix = key[: len(environment_prefix) + LOOKUP_LENGTH]
            rest = key[len(prefix) :]
            return prefix if rest.startswith("_") and len(rest) > 1 else None
    return None


def digest_matches(key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(key_digest(key), stored_digest)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
