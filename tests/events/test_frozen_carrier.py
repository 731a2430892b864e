"""Redis, the carrier of event notifications between instances, hangs (SIGSTOP) or dies: a
WebSocket subscriber on one instance still receives what another instance commits, from the
hub's poll of the event log (`MPS_EVENTS_POLL_INTERVAL_S`, 0.2 s here; the wait for each event
is bounded by the client's receive timeout, never measured)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support.redis_server import freeze, redis_server, thaw
from tests.support.server import LiveServer, serve
from tests.support.websocket import events, init, socket, subscribe

CREATE_USER = """mutation ($input: CreateUserInput!) { createUser(input: $input) {
  ... on CreateUserSuccess { user { id } } } }"""


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with redis_server() as server:
        yield server


@pytest.fixture
def on_own_redis(settings: Settings, own_redis: tuple[subprocess.Popen[bytes], str]) -> Settings:
    return settings.model_copy(
        update={
            "redis_url": own_redis[1],
            "events_poll_interval_s": 0.2,
            "migrate_on_start": False,
        }
    )


@pytest.fixture
async def subscriber_side(db: Database, on_own_redis: Settings) -> AsyncIterator[LiveServer]:
    async for server in serve(on_own_redis, db):
        yield server


@pytest.fixture
async def writer_side(on_own_redis: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another instance: a database handle and a carrier of its own, so that only Redis or
    the subscriber's poll can bring what it commits to the subscriber."""
    async with LifespanManager(create_app(on_own_redis)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://writer") as http:
            yield http


def new_user() -> dict[str, object]:
    login = f"u{uuid.uuid4().hex[:12]}"
    address = {"line1": "1 rue", "postalCode": "75001", "city": "Paris", "country": "FR"}
    person = {
        "firstName": "Ada",
        "lastName": "Byron",
        "birthDate": "1990-01-01",
        "nationality": "FR",
        "address": address,
    }
    input = {"email": f"{login}@example.com", "login": login, "person": {"natural": person}}
    return {"query": CREATE_USER, "variables": {"input": input}}


async def test_a_subscriber_receives_what_another_instance_commits_while_redis_hangs_or_dies(
    db: Database,
    own_redis: tuple[subprocess.Popen[bytes], str],
    subscriber_side: LiveServer,
    writer_side: httpx.AsyncClient,
) -> None:
    server, _url = own_redis
    platform = await make_platform(db)
    async with socket(subscriber_side) as ws:
        freeze(server)
        try:
            await init(ws, platform)
            await subscribe(ws, "frozen", types=["USER_CREATED"])
            created = []
            for _ in range(2):
                answer = await writer_side.post(
                    "/graphql", json=new_user(), headers=platform.headers
                )
                created.append(answer.json()["data"]["createUser"]["user"]["id"])
            received = await events(ws, 2)
            assert [event["objectId"] for event in received] == created
        finally:
            thaw(server)

        server.kill()  # Redis dies: refused connections now
        server.wait(timeout=10)
        answer = await writer_side.post("/graphql", json=new_user(), headers=platform.headers)
        [event] = await events(ws, 1)
        assert event["objectId"] == answer.json()["data"]["createUser"]["user"]["id"]
