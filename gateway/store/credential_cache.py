"""What authentication read from the database about a credential, kept briefly in memory so
that a request with a known API key or user token costs no SQL statement.

- An API key is kept under its public prefix with its digest: the secret a request presents
  is still compared with the digest (in constant time), so a wrong secret with a known prefix
  is refused as before. The key itself is never kept.
- A user token is verified (its signature, its lifetime) on every request without SQL; what
  is kept, under the subject it names (platform, user, issuing key), is only what the database
  says about that subject: the platform's record (its signing secret included) and the user's
  `tokens_valid_after`. The token itself is never kept.
- Only credentials that passed are kept: an unknown prefix, a revoked key or a blocked user is
  read again on the next request, so a new key works at once.
- Each entry expires `ttl_s` after it was read; the cache holds at most `entries_max`, the
  least recently used going first. A TTL of 0 turns the cache off.
- An `Invalidation` (gateway/store/notify.py), heard from any instance once a change commits,
  drops the entries it names at once: an API key's (and the tokens it issued) or a user's
  tokens. A read that began before an invalidation is not kept (the `generation` it started
  at is gone), so a lookup racing a revocation never stores what the revocation undid.

One cache per application (`create_app` makes it, per Database): nothing is global.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from gateway.domain.credentials import Principal
from gateway.domain.user_tokens import TokenSubject
from gateway.store.notify import Invalidation, InvalidationScope
from gateway.store.tables import Platform

ENTRIES_MAX = 4096


@dataclass(frozen=True, slots=True)
class CachedApiKey:
    """A verified API key: its digest (never the key), the principal and the platform read."""

    digest: str
    principal: Principal
    platform: Platform  # the platform's record, as the lookup returned it


@dataclass(frozen=True, slots=True)
class CachedTokenSubject:
    """What the database says of a token's subject that passed: active user, key not revoked."""

    platform: Platform  # the platform's row (with its token-signing secret)
    tokens_valid_after: dt.datetime | None


@dataclass(frozen=True, slots=True)
class _Entry:
    value: CachedApiKey | CachedTokenSubject
    expires_at: float
    api_key_id: uuid.UUID
    user_id: uuid.UUID | None


class CredentialCache:
    """A bounded LRU of verified credentials with a short expiry; see the module docstring."""

    def __init__(
        self,
        *,
        ttl_s: float,
        entries_max: int = ENTRIES_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.entries_max = entries_max
        self.clock = clock
        self.generation = 0  # counts invalidations: a read started before one is not kept
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def __len__(self) -> int:
        return len(self._entries)

    def api_key(self, prefix: str) -> CachedApiKey | None:
        value = self._get(("api_key", prefix))
        return value if isinstance(value, CachedApiKey) else None

    def token_subject(self, subject: TokenSubject) -> CachedTokenSubject | None:
        value = self._get(("token", subject))
        return value if isinstance(value, CachedTokenSubject) else None

    def keep_api_key(self, prefix: str, value: CachedApiKey, *, generation: int) -> None:
        principal = value.principal
        self._put(("api_key", prefix), value, generation, principal.api_key_id, None)

    def keep_token_subject(
        self, subject: TokenSubject, value: CachedTokenSubject, *, generation: int
    ) -> None:
        key = ("token", subject)
        self._put(key, value, generation, subject.api_key_id, subject.user_id)

    def invalidate(self, invalidation: Invalidation) -> None:
        """Forget what the invalidation names (a carrier's listener: synchronous, no I/O)."""
        self.generation += 1
        if invalidation.scope is InvalidationScope.ALL:
            self._entries.clear()
            return
        by_key = invalidation.scope is InvalidationScope.API_KEY
        stale = [
            key
            for key, entry in self._entries.items()
            if (entry.api_key_id if by_key else entry.user_id) == invalidation.id
        ]
        for key in stale:
            del self._entries[key]

    def _get(self, key: Hashable) -> CachedApiKey | CachedTokenSubject | None:
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.value

    def _put(
        self,
        key: Hashable,
        value: CachedApiKey | CachedTokenSubject,
        generation: int,
        api_key_id: uuid.UUID,
        user_id: uuid.UUID | None,
    ) -> None:
        if not self.enabled or generation != self.generation:
            return
        expires_at = self.clock() + self.ttl_s
        self._entries[key] = _Entry(value, expires_at, api_key_id, user_id)
        self._entries.move_to_end(key)
        while len(self._entries) > self.entries_max:
            self._entries.popitem(last=False)
