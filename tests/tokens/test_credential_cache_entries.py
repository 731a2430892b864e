"""The credential cache itself: bounded, expiring, forgetting what an invalidation names, and
never keeping what a lookup read before an invalidation arrived."""

from __future__ import annotations

import uuid

from gateway.domain.credentials import Principal
from gateway.domain.enums import Environment
from gateway.domain.ids import new_id
from gateway.domain.user_tokens import TokenSubject
from gateway.store.credential_cache import CachedApiKey, CachedTokenSubject, CredentialCache
from gateway.store.notify import EVERYTHING, Invalidation
from gateway.store.tables import Platform


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _platform() -> Platform:
    return Platform(id=new_id(), name="P", environment=Environment.SANDBOX, user_token_secret="s")


def _key(api_key_id: uuid.UUID | None = None) -> CachedApiKey:
    platform = _platform()
    principal = Principal(platform_id=platform.id, api_key_id=api_key_id or new_id())
    return CachedApiKey(digest="d", principal=principal, platform=platform)


def _subject(api_key_id: uuid.UUID | None = None) -> TokenSubject:
    return TokenSubject(platform_id=new_id(), user_id=new_id(), api_key_id=api_key_id or new_id())


TOKEN_STATE = CachedTokenSubject(platform=_platform(), tokens_valid_after=None)


def test_an_entry_expires_after_the_ttl() -> None:
    clock = Clock()
    cache = CredentialCache(ttl_s=5, clock=clock)
    cache.keep_api_key("p", _key(), generation=cache.generation)
    clock.now = 4.999
    assert cache.api_key("p") is not None
    clock.now = 5.0
    assert cache.api_key("p") is None
    assert len(cache) == 0


def test_a_ttl_of_zero_keeps_nothing() -> None:
    cache = CredentialCache(ttl_s=0)
    cache.keep_api_key("p", _key(), generation=cache.generation)
    assert cache.api_key("p") is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first_when_full() -> None:
    cache = CredentialCache(ttl_s=60, entries_max=3)
    for prefix in "abc":
        cache.keep_api_key(prefix, _key(), generation=cache.generation)
    assert cache.api_key("a") is not None  # used: "b" is now the oldest
    cache.keep_api_key("d", _key(), generation=cache.generation)
    assert len(cache) == 3
    assert cache.api_key("b") is None
    assert all(cache.api_key(prefix) is not None for prefix in "acd")


def test_a_lookup_that_began_before_an_invalidation_is_not_kept() -> None:
    cache = CredentialCache(ttl_s=60)
    began = cache.generation
    cache.invalidate(Invalidation.api_key(new_id()))  # any key: the read may predate it
    cache.keep_api_key("p", _key(), generation=began)
    assert cache.api_key("p") is None
    cache.keep_api_key("p", _key(), generation=cache.generation)
    assert cache.api_key("p") is not None


def test_a_revoked_key_drops_itself_and_the_tokens_it_issued_only() -> None:
    cache = CredentialCache(ttl_s=60)
    revoked, kept = new_id(), new_id()
    issued, other = _subject(revoked), _subject(kept)
    cache.keep_api_key("revoked", _key(revoked), generation=cache.generation)
    cache.keep_api_key("kept", _key(kept), generation=cache.generation)
    cache.keep_token_subject(issued, TOKEN_STATE, generation=cache.generation)
    cache.keep_token_subject(other, TOKEN_STATE, generation=cache.generation)
    cache.invalidate(Invalidation.api_key(revoked))
    assert cache.api_key("revoked") is None
    assert cache.token_subject(issued) is None
    assert cache.api_key("kept") is not None
    assert cache.token_subject(other) is not None


def test_a_user_invalidation_drops_that_users_tokens_only() -> None:
    cache = CredentialCache(ttl_s=60)
    issuer = new_id()
    first, second = _subject(issuer), _subject(issuer)
    cache.keep_api_key("issuer", _key(issuer), generation=cache.generation)
    cache.keep_token_subject(first, TOKEN_STATE, generation=cache.generation)
    cache.keep_token_subject(second, TOKEN_STATE, generation=cache.generation)
    cache.invalidate(Invalidation.user(first.user_id))
    assert cache.token_subject(first) is None
    assert cache.token_subject(second) is not None
    assert cache.api_key("issuer") is not None
    cache.invalidate(EVERYTHING)
    assert len(cache) == 0


def test_invalidations_travel_as_text_and_nothing_else_decodes() -> None:
    for invalidation in (Invalidation.api_key(new_id()), Invalidation.user(new_id())):
        assert Invalidation.decode(invalidation.encode()) == invalidation
        assert Invalidation.decode(invalidation.encode().encode()) == invalidation
    for garbage in ("all:None", "user:nope", "key", "", f"platform:{new_id()}"):
        assert Invalidation.decode(garbage) is None
