"""The events tests' server: a real gateway on a free loopback port, with short timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.settings import Settings
from gateway.store.engine import Database
from tests.support.server import LiveServer, serve


@pytest.fixture
async def live(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    quick = settings.model_copy(
        update={
            "ws_connection_init_timeout_s": 0.5,
            "ws_subscriptions_per_connection_max": 3,
            "events_poll_interval_s": 0.2,
        }
    )
    async for server in serve(quick, db):
        yield server
