"""A Redis that hangs (stopped with SIGSTOP, not dead) costs a request at most one short
timeout: the rate limiter and the persisted query store then do without it for a while (their
circuit breakers), and a commit's notification goes to it in the background."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from starlette.routing import WebSocketRoute

from gateway.app import create_app
from gateway.graphql.runtime.persisted_store import RedisDocuments
from gateway.graphql.runtime.rate_limits import RateLimitPolicy, RateLimits
from gateway.graphql.runtime.view import GraphQLView
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.notify import CHANNEL, RedisNotifications, encode
from tests.conftest import PlatformHandle
from tests.support.persisted import apq, codes, fresh_query
from tests.support.redis_server import redis_server

WAITS_MAX = 2_000  # 20 s at most for a listener to notice
BREAK_LONG_S = 600.0  # a breaker that stays open for the whole test, whatever its pace


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis server of this test's own, which it may freeze."""
    with redis_server() as server:
        yield server


async def test_a_frozen_redis_is_asked_once_then_left_alone(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, url = own_redis
    policy = RateLimitPolicy(window_s=60, requests=1_000, subscriptions=0, failed_authentications=0)
    limits = RateLimits(policy, redis_url=url)
    limits.breaker.break_s = BREAK_LONG_S
    try:
        assert await limits.admit_request("key") is None
        assert limits.storage_calls == 1
        os.kill(server.pid, signal.SIGSTOP)
        for _ in range(20):
            assert await limits.admit_request("key") is None  # let through, never refused
        assert limits.storage_calls == 2  # one that timed out, then the breaker
        os.kill(server.pid, signal.SIGCONT)
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await limits.aclose()


async def test_a_commit_is_announced_here_at_once_and_to_a_frozen_redis_in_the_background(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    """The request that committed never waits on Redis: this instance hears at once, the
    publish to the others runs apart and is given up after `PUBLISH_TIMEOUT_S`."""
    server, url = own_redis
    notifications = RedisNotifications(url)
    heard: list[tuple[uuid.UUID, int]] = []
    notifications.local.listeners.append(
        lambda platform_id, sequence: heard.append((platform_id, sequence))
    )
    platform_id = uuid.uuid4()
    os.kill(server.pid, signal.SIGSTOP)
    try:
        await notifications.publish(platform_id, 7)
        assert heard == [(platform_id, 7)]  # this instance, at once
        assert len(notifications.sending) == 1  # the others', still on its way
        await notifications.flush()  # given up after the timeout, not for ever
        assert notifications.sending == set()
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await notifications.stop()


async def test_a_frozen_redis_is_a_persisted_query_miss_once_then_left_alone(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, url = own_redis
    store = RedisDocuments(url, size_max=10, ttl_s=60, key_prefix=f"test:{uuid.uuid4().hex}")
    store.breaker.break_s = BREAK_LONG_S
    try:
        await store.put("a" * 64, "{ a }")
        assert await store.get("a" * 64) == "{ a }"
        assert store.breaker.calls == 2
        os.kill(server.pid, signal.SIGSTOP)
        for _ in range(20):
            assert await store.get("a" * 64) is None  # a miss: the client sends the document
            await store.put("b" * 64, "{ b }")  # not kept, no error
        assert store.breaker.calls == 3  # one that timed out, then the breaker
        assert store.breaker.is_open
    finally:
        os.kill(server.pid, signal.SIGCONT)
        await store.aclose()


def view_of(app: object) -> GraphQLView:
    routes = getattr(app, "routes", [])
    [view] = [route.endpoint for route in routes if isinstance(route, WebSocketRoute)]
    assert isinstance(view, GraphQLView)
    return view


async def test_persisted_queries_are_answered_while_redis_is_frozen(
    own_redis: tuple[subprocess.Popen[bytes], str],
    db: Database,
    settings: Settings,
    platform: PlatformHandle,
) -> None:
    """Rate limits and persisted queries both on the frozen Redis: every request is answered
    (a hash alone misses, a hash with its document runs), and each asks Redis once in all."""
    server, url = own_redis
    app = create_app(settings.model_copy(update={"redis_url": url}), db=db)
    view = view_of(app)
    store = view.persisted.store
    assert isinstance(store, RedisDocuments)
    store.breaker.break_s = view.rate_limits.breaker.break_s = BREAK_LONG_S
    queries = [fresh_query() for _ in range(10)]
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            os.kill(server.pid, signal.SIGSTOP)
            try:
                for query in queries:
                    by_hash, sent = [
                        await http.post("/graphql", json=body, headers=platform.headers)
                        for body in (
                            {"extensions": apq(query)},
                            {"query": query, "extensions": apq(query)},
                        )
                    ]
                    assert (by_hash.status_code, codes(by_hash)) == (
                        200,
                        ["PERSISTED_QUERY_NOT_FOUND"],
                    )
                    assert (sent.status_code, codes(sent)) == (200, [])
            finally:
                os.kill(server.pid, signal.SIGCONT)
    assert store.breaker.calls == 1
    assert view.rate_limits.storage_calls == 1


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(WAITS_MAX):
        if condition():
            return
        await asyncio.sleep(0.01)  # bounded polling
    raise AssertionError("never came true")


async def test_a_listener_gives_a_frozen_redis_up_and_listens_again_when_it_thaws(
    own_redis: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, url = own_redis
    notifications = RedisNotifications(url, heartbeat_s=0.05, pong_wait_s=0.05)
    heard: list[tuple[uuid.UUID, int]] = []
    await notifications.start(lambda platform_id, sequence: heard.append((platform_id, sequence)))
    publisher = redis.Redis.from_url(url)
    try:
        await until(notifications.is_listening)
        os.kill(server.pid, signal.SIGSTOP)
        await until(lambda: not notifications.is_listening())  # a carrier down: polling serves
        os.kill(server.pid, signal.SIGCONT)
        await until(notifications.is_listening)
        platform_id = uuid.uuid4()
        publisher.publish(CHANNEL, encode(platform_id, 9))
        await until(lambda: bool(heard))
        assert heard == [(platform_id, 9)]
        os.kill(server.pid, signal.SIGSTOP)
        await notifications.stop()  # returns while Redis is frozen
    finally:
        os.kill(server.pid, signal.SIGCONT)
        publisher.close()
        await notifications.stop()
