"""The credential cache through the real app, on each backend: a known API key or user token
costs no SQL statement, a wrong secret is still refused, and every revocation (a key revoked, a
user's tokens revoked, a user blocked or closed) applies from the next request on.

The app here keeps credentials for 600 s: only the invalidation a revocation announces can
explain a refusal. The shared `settings` turn the cache off; `cached` turns it on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from sqlmodel import col

from gateway.app import create_app
from gateway.domain.credentials import key_prefix
from gateway.services.api_keys import create_api_key, revoke_api_key
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.tables import ApiKey
from tests.conftest import make_platform
from tests.support import StatementCounter, graphql
from tests.support.calls import mutate, success
from tests.support.decisions import operator_of
from tests.support.lifecycle import block_user, close_user, unblock_user
from tests.support.platforms import PlatformHandle
from tests.support.tokens import refused, user_token
from tests.support.users import create_natural_user

TTL_LONG_S = 600.0
REVOKE_TOKENS = (Path(__file__).parents[2] / "queries" / "RevokeUserTokens.graphql").read_text()
TYPENAME = "{ __typename }"
LISTENING_CHECKS_MAX = 1000  # 10 s at most


async def _client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        await _listening(db)  # else its first connection drops what a test has just kept
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


@pytest.fixture
async def cached(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its credential cache on (600 s)."""
    on = settings.model_copy(update={"credential_cache_ttl_s": TTL_LONG_S})
    async for http in _client(db, on):
        yield http


async def _statements_of(
    http: httpx.AsyncClient, statements: StatementCounter, credential: str
) -> int:
    """The SQL statements of one `{ __typename }` request (which reads nothing but its caller)."""
    statements.start()
    await graphql(http, TYPENAME, headers={"Authorization": f"Bearer {credential}"})
    return statements.stop()


async def test_a_known_api_key_costs_no_statement_after_its_first_request(
    cached: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    platform = await make_platform(db)
    assert await _statements_of(cached, statements, platform.key) == 1  # read, then kept
    assert await _statements_of(cached, statements, platform.key) == 0, statements.statements


async def test_a_ttl_of_zero_reads_the_credential_on_every_request(
    client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    platform = await make_platform(db)
    for _ in range(2):
        assert await _statements_of(client, statements, platform.key) == 1


async def test_a_known_user_token_costs_no_statement_after_its_first_request(
    cached: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    platform = await make_platform(db)
    token = await user_token(cached, platform, await create_natural_user(cached, platform))
    assert await _statements_of(cached, statements, token) == 1
    assert await _statements_of(cached, statements, token) == 0, statements.statements
    # Another token of the same user and key: its subject is known, its signature checked.
    other = await user_token(cached, platform, (await _viewer_id(cached, token)))
    assert await _statements_of(cached, statements, other) == 0


async def _viewer_id(http: httpx.AsyncClient, token: str) -> str:
    body = await graphql(http, "{ viewer { id } }", headers={"Authorization": f"Bearer {token}"})
    viewer_id: str = body["data"]["viewer"]["id"]
    return viewer_id


async def test_a_wrong_secret_with_a_known_prefix_is_refused_from_the_cache(
    cached: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    platform = await make_platform(db)
    assert await _statements_of(cached, statements, platform.key) == 1
    prefix = key_prefix(platform.key)
    assert prefix is not None
    forged = f"{prefix}_{'A' * 43}"
    statements.start()
    await graphql(cached, TYPENAME, headers={"Authorization": f"Bearer {forged}"}, status=401)
    assert statements.stop() == 0  # compared with the digest kept, not read again
    tampered = platform.key[:-1] + ("A" if platform.key[-1] != "A" else "B")
    await graphql(cached, TYPENAME, headers={"Authorization": f"Bearer {tampered}"}, status=401)
    await graphql(cached, TYPENAME, headers=platform.headers)  # the real key still works


async def test_a_new_key_works_at_once_and_the_tenant_is_what_the_database_says(
    cached: httpx.AsyncClient, db: Database
) -> None:
    first, second = await make_platform(db), await make_platform(db)
    for platform in (first, second, first, second):  # from the database, then from the cache
        body = await graphql(cached, "{ platform { id } }", headers=platform.headers)
        assert body["data"]["platform"]["id"] == str(platform.id)
    created = await create_api_key(db, platform_id=first.id, label="new")
    body = await graphql(cached, "{ platform { id } }", headers=_bearer(created.key))
    assert body["data"]["platform"]["id"] == str(first.id)


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


async def test_a_key_revoked_by_the_service_is_refused_at_the_next_request_with_its_tokens(
    cached: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    created = await create_api_key(db, platform_id=platform.id, label="to revoke")
    issuer = PlatformHandle(id=platform.id, key=created.key)
    token = await user_token(cached, issuer, await create_natural_user(cached, platform))
    assert not await refused(cached, created.key)
    assert not await refused(cached, token)
    await revoke_api_key(db, reference=created.prefix)
    assert await refused(cached, created.key)
    assert await refused(cached, token), "a token issued by a revoked key"
    assert not await refused(cached, platform.key)


async def test_revoked_user_tokens_are_refused_at_the_next_request(
    cached: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    user_id = await create_natural_user(cached, platform)
    token = await user_token(cached, platform, user_id)
    assert not await refused(cached, token)
    payload = await mutate(cached, platform, REVOKE_TOKENS, {"userId": user_id})
    success(payload, "RevokeUserTokensSuccess")
    assert await refused(cached, token)
    assert not await refused(cached, await user_token(cached, platform, user_id))


async def test_a_blocked_user_is_refused_at_the_next_request_and_only_new_tokens_work_after(
    cached: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    operator = await operator_of(db, platform)
    user_id = await create_natural_user(cached, platform)
    token = await user_token(cached, platform, user_id)
    assert not await refused(cached, token)
    await block_user(cached, operator, user_id, reason="compliance")
    assert await refused(cached, token)
    await unblock_user(cached, operator, user_id)
    assert await refused(cached, token), "tokens issued before the block stay refused"
    assert not await refused(cached, await user_token(cached, platform, user_id))


async def test_a_closed_user_is_refused_at_the_next_request(
    cached: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db)
    user_id = await create_natural_user(cached, platform)
    token = await user_token(cached, platform, user_id)
    assert not await refused(cached, token)
    success(await close_user(cached, platform, user_id), "UserStatusSuccess")
    assert await refused(cached, token)


async def test_each_app_has_a_cache_of_its_own(
    db: Database, settings: Settings, statements: StatementCounter
) -> None:
    platform = await make_platform(db)
    on = settings.model_copy(update={"credential_cache_ttl_s": TTL_LONG_S})
    for _ in range(2):  # the second app starts empty: nothing kept by the first
        async for http in _client(db, on):
            assert await _statements_of(http, statements, platform.key) == 1
            assert await _statements_of(http, statements, platform.key) == 0
        # Stopped, an app hears no invalidation: its cache goes with it.
        assert not db.credential_cache.enabled
        assert len(db.credential_cache) == 0


async def _listening(db: Database) -> None:
    """Wait until the app's carrier listens: once it does, it drops what was kept before."""
    for _ in range(LISTENING_CHECKS_MAX):
        if db.notifications.is_listening():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the app's notification carrier never listened")


class Clock:
    """The cache's clock, moved by the test: expiry without waiting for it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_lost_invalidation_is_bounded_by_the_ttl(db: Database, settings: Settings) -> None:
    """A key revoked straight in the database announces nothing: the instance serves the key
    it kept until the entry expires (its clock moved past the TTL), then reads the revocation."""
    ttl_s = 5.0
    platform = await make_platform(db)
    created = await create_api_key(db, platform_id=platform.id, label="lost")
    async for http in _client(db, settings.model_copy(update={"credential_cache_ttl_s": ttl_s})):
        clock = db.credential_cache.clock = Clock()
        assert not await refused(http, created.key)
        async with db.transaction() as session:
            await session.execute(
                sa.update(ApiKey)
                .where(col(ApiKey.prefix) == created.prefix)
                .values(revoked_at=sa.func.now())
            )
        clock.now += ttl_s - 0.001
        assert not await refused(http, created.key), "nothing announced the revocation"
        clock.now += 0.001
        assert await refused(http, created.key)
        assert not await refused(http, platform.key)
