"""Decisions run on both environments: `any_platform` is a PRODUCTION, then a SANDBOX one."""

from __future__ import annotations

import pytest

from gateway.domain.enums import Environment
from gateway.store.engine import Database
from tests.support.platforms import PlatformHandle, make_platform


@pytest.fixture(params=[Environment.PRODUCTION, Environment.SANDBOX], ids=lambda e: e.value)
async def any_platform(db: Database, request: pytest.FixtureRequest) -> PlatformHandle:
    """An empty platform of each environment: decisions work alike on both."""
    environment: Environment = request.param
    return await make_platform(db, environment=environment)
