"""A graceful stop: on SIGTERM a running gateway (`python -m gateway serve`) stops accepting,
finishes the request in flight, then, in the app's shutdown, the webhook delivery it is
sending (sent, and recorded as delivered rather than left claimed), then exits 0.

The request is held in flight by a lock another connection holds on its table (on a
PostgreSQL database of the test's own), the delivery by a receiver that answers only when the
test lets it; both are let go after the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.enums import Environment, EventType
from gateway.services import webhooks
from gateway.services.platforms import create_platform
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.conftest import PlatformHandle, _asyncpg_dsn
from tests.processes import gateway_server
from tests.support.databases import own_postgres_database
from tests.support.documents import CREATE_USER
from tests.support.inputs import natural_person, user_input
from tests.webhooks.receiver import Receiver, serving

WAITS_MAX = 2_000  # 20 s at most for each step to be reached
EXIT_WAIT_S = 60
SHUTTING_DOWN = "Waiting for application shutdown."  # uvicorn's log line


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    async with own_postgres_database() as found:
        yield found


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    for _ in range(WAITS_MAX):
        found = condition()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return
        await asyncio.sleep(0.01)  # bounded polling
    raise AssertionError(f"never happened: {what}")


async def prepare(url: str, receiver: Receiver) -> PlatformHandle:
    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
        created = await create_platform(
            db, name="Stop", environment=Environment.SANDBOX, currencies=["EUR"]
        )
        new = webhooks.NewEndpoint(url=receiver.url, event_types=[EventType.USER_CREATED])
        made = await webhooks.create_endpoint(
            db, platform_id=created.platform.id, new=new, allow_private=True
        )
        receiver.secret = made.secret
    finally:
        await db.dispose()
    return PlatformHandle(id=created.platform.id, key=created.api_key)


def environment(url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MPS_DATABASE_URL": url,
        "MPS_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "MPS_WEBHOOK_DISPATCH_INTERVAL_S": "0.1",
        "MPS_WEBHOOK_REQUEST_TIMEOUT_S": "60",  # the receiver answers when the test says
        "MPS_DOCUMENT_EXPIRY": "false",
        "MPS_SHUTDOWN_GRACE_S": "30",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
    }
    env.pop("MPS_REDIS_URL", None)
    return env


def create_user() -> dict[str, object]:
    return {"query": CREATE_USER, "variables": {"input": user_input({"natural": natural_person()})}}


async def refuses_connections(base_url: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=1) as fresh:
            await fresh.get("/healthz")
    except httpx.ConnectError:
        return True
    return False


async def test_sigterm_finishes_the_request_and_the_delivery_in_flight_then_exits_0(
    own_postgres: tuple[str, asyncpg.Connection], tmp_path: Path
) -> None:
    url, admin = own_postgres
    name = url.rsplit("/", 1)[1]
    async with serving(Receiver(gate=asyncio.Event())) as receiver:
        platform = await prepare(url, receiver)
        with gateway_server(environment(url, tmp_path), tmp_path) as running:
            base_url, server = running.url, running.process
            async with httpx.AsyncClient(base_url=base_url, timeout=EXIT_WAIT_S) as http:
                first = await http.post("/graphql", json=create_user(), headers=platform.headers)
                first_user = first.json()["data"]["createUser"]["user"]["id"]
                await until(lambda: receiver.held == 1, "the delivery reached the receiver")

                holder = await asyncpg.connect(_asyncpg_dsn(url))
                locked = holder.transaction()
                await locked.start()
                await holder.execute("LOCK TABLE users IN EXCLUSIVE MODE")
                sent = asyncio.create_task(
                    http.post("/graphql", json=create_user(), headers=platform.headers)
                )

                async def waiting() -> bool:
                    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                    found = await admin.fetchval(f"{query} AND wait_event_type = 'Lock'", name)
                    return bool(found)

                await until(waiting, "the second request waits for the lock")

                server.send_signal(signal.SIGTERM)
                await until(lambda: refuses_connections(base_url), "no longer accepting")
                assert server.poll() is None  # still finishing what it started
                await locked.rollback()
                await holder.close()
                in_flight = await sent
                assert in_flight.status_code == 200, in_flight.text
                payload = in_flight.json()["data"]["createUser"]
                assert payload["__typename"] == "CreateUserSuccess", payload

                # The app's own shutdown has begun, the delivery still unanswered: it is
                # waited for, not cancelled.
                log = tmp_path / f"server-{base_url.rsplit(':', 1)[1]}.log"
                await until(lambda: SHUTTING_DOWN in log.read_text(), "the app shutting down")
                assert server.poll() is None
                assert receiver.gate is not None
                receiver.gate.set()
            exit_code = await asyncio.to_thread(server.wait, EXIT_WAIT_S)
    assert exit_code == 0
    rows = await admin.fetch(
        "SELECT d.status, d.claim_id, d.attempt_count, e.object_id FROM webhook_deliveries d"
        " JOIN events e ON e.id = d.event_id"
    )
    assert {row["claim_id"] for row in rows} == {None}  # nothing left claimed
    [sent_during_stop] = [row for row in rows if str(row["object_id"]) == first_user]
    assert (sent_during_stop["status"], sent_during_stop["attempt_count"]) == ("SUCCEEDED", 1)
    assert first_user in {event["data"]["objectId"] for event in receiver.accepted.values()}


def in_process(url: str, tmp_path: Path, *, grace_s: int) -> Settings:
    """An app run in the test's process, delivering at once, waiting long on a receiver."""
    return Settings(
        database_url=url,
        redis_url=None,
        documents_dir=tmp_path / "documents",
        gc_tuning=False,
        document_expiry=False,
        webhook_allow_private_urls=True,
        webhook_dispatch_interval_s=0.05,
        webhook_request_timeout_s=60,
        shutdown_grace_s=grace_s,
    )


@contextlib.asynccontextmanager
async def holding_a_delivery(
    settings: Settings, receiver: Receiver, platform: PlatformHandle, *, shutdown_timeout: float
) -> AsyncIterator[None]:
    """The app, started, with its dispatcher held by the receiver on a user's delivery; it
    shuts down (within `shutdown_timeout`, or a TimeoutError) when the block ends."""
    async with LifespanManager(create_app(settings), shutdown_timeout=shutdown_timeout) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            await http.post("/graphql", json=create_user(), headers=platform.headers)
            await until(lambda: receiver.held == 1, "the delivery reached the receiver")
            yield


async def test_a_delivery_beyond_the_grace_is_left_to_its_lease(tmp_path: Path) -> None:
    """A receiver that never answers does not hold the stop for ever: after
    `shutdown_grace_s` the dispatcher is cancelled and its claim left to expire."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'grace.db'}"
    async with serving(Receiver(gate=asyncio.Event())) as receiver:
        platform = await prepare(url, receiver)
        settings = in_process(url, tmp_path, grace_s=1)
        async with holding_a_delivery(settings, receiver, platform, shutdown_timeout=30):
            pass
        assert receiver.gate is not None
        receiver.gate.set()  # the stop is over; let the receiver's server stop too
    db = Database.from_url(url)
    try:
        async with db.reading() as connection:
            found = await connection.execute(
                sa.text("SELECT status, claim_id FROM webhook_deliveries")
            )
            [(status, claim_id)] = found.all()
    finally:
        await db.dispose()
    assert (status, claim_id is not None) == ("PENDING", True)


def dispatchers_running() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and getattr(task.get_coro(), "__name__", "") == "run_dispatcher"
    ]


async def test_a_shutdown_cut_short_still_stops_the_dispatcher(tmp_path: Path) -> None:
    """A server that gives up on the app's shutdown (here the lifespan's own timeout, shorter
    than the grace) cancels it mid-wait: the dispatcher is cancelled all the same, rather than
    left running in the process, claiming deliveries, with no app around it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cut.db'}"
    already = set(dispatchers_running())
    async with serving(Receiver(gate=asyncio.Event())) as receiver:
        platform = await prepare(url, receiver)
        settings = in_process(url, tmp_path, grace_s=30)

        async def served_then_cut_short() -> None:
            async with holding_a_delivery(settings, receiver, platform, shutdown_timeout=0.5):
                assert len(set(dispatchers_running()) - already) == 1

        with pytest.raises(TimeoutError):
            await served_then_cut_short()
        await until(lambda: not set(dispatchers_running()) - already, "the dispatcher stopped")
        assert receiver.gate is not None
        receiver.gate.set()
