"""The differential suite's fixtures: the two apps over the session's database of each store
(`twin`), the world they read (`world`), and the run's tallies, printed at the end.

Both apps get the session's settings, changed alike: nothing that writes in the background
(settler, webhook dispatcher, document expiry), and query limits wide enough for the generated
documents (the limits have tests of their own; a refusal by a limit is compared all the same).
Only `compiled_reads` differs. The fixtures are package-scoped: built once per store, and torn
down (webhook endpoints deleted) before the rest of the session goes on.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.errors import NotFound
from gateway.graphql.compiled import STATS
from gateway.services.webhooks import delete_endpoint
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.compiled.harness import Tally, Twin
from tests.compiled.seed import World, build_world

# Tallies of the run by (store, credential, batch), printed in the terminal summary.
TALLIES: dict[tuple[str, str, str], Tally] = {}


def twin_settings(settings: Settings, *, compiled_reads: bool) -> Settings:
    return settings.model_copy(
        update={
            "compiled_reads": compiled_reads,
            "webhook_delivery": False,
            "settler_delay_s": None,
            "document_expiry": False,
            "query_bytes_max": 1_000_000,
            "query_tokens_max": 100_000,
            "query_aliases_max": 1_000,
            "query_cost_max": 10_000_000,
        }
    )


def store_name(db: Database) -> str:
    return db.engine.url.get_backend_name()


@pytest.fixture(scope="package")
async def twin(db: Database, settings: Settings) -> AsyncIterator[Twin]:
    async with AsyncExitStack() as stack:
        clients = []
        for compiled_reads in (True, False):
            app = create_app(twin_settings(settings, compiled_reads=compiled_reads), db=db)
            manager = await stack.enter_async_context(LifespanManager(app))
            transport = httpx.ASGITransport(app=manager.app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://gateway")
                )
            )
        yield Twin(compiled=clients[0], general=clients[1])


@pytest.fixture(scope="package")
async def world(twin: Twin, db: Database) -> AsyncIterator[World]:
    built = await build_world(twin.general, db, store_name(db))
    yield built
    platform_id = uuid.UUID(built.ids["Platform"][0])
    for endpoint in built.endpoints:
        with contextlib.suppress(NotFound):
            await delete_endpoint(db, platform_id=platform_id, endpoint_id=endpoint)


@pytest.fixture
def tally(world: World, request: pytest.FixtureRequest) -> Iterator[Tally]:
    """This test's tally, added to the run's under (store, credential, test name)."""
    found = Tally()
    yield found
    credential = getattr(request.node, "callspec", None)
    name = credential.params.get("credential", "all") if credential else "all"
    key = (world.store, str(name), request.node.originalname)
    TALLIES.setdefault(key, Tally()).add(found)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLIES:
        return
    terminalreporter.section("compiled reads: differential comparisons")
    total = Tally()
    for (store, credential, test), found in sorted(TALLIES.items()):
        terminalreporter.write_line(f"{store:10} {credential:10} {test}: {found.summary()}")
        total.add(found)
    terminalreporter.write_line(f"all: {total.summary()}")
    terminalreporter.write_line(f"executors of this process: {STATS.summary()}")
