"""Fixtures of the mutation tests: empty platforms, and a document store in a temporary folder.

The shared `settings` would store KYC files under `./mps-documents` (the working directory);
here it is overridden so every upload of the session lands in a temporary folder that the
tests can inspect.
"""

from __future__ import annotations

import uuid

import pytest

from gateway.domain.enums import Environment
from gateway.services.platforms import create_platform
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform


@pytest.fixture(scope="session")
def settings(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=str(db.engine.url),
        migrate_on_start=True,
        documents_dir=tmp_path_factory.mktemp("documents"),
    )


@pytest.fixture
async def sandbox(db: Database) -> PlatformHandle:
    """An empty SANDBOX platform allowing EUR only."""
    return await make_platform(db)


@pytest.fixture
async def other_sandbox(db: Database) -> PlatformHandle:
    """A second empty SANDBOX platform: nothing of `sandbox` may be visible from it."""
    return await make_platform(db)


@pytest.fixture
async def production(db: Database) -> PlatformHandle:
    """An empty PRODUCTION platform: simulate* is forbidden there."""
    return await make_platform(db, environment=Environment.PRODUCTION)


@pytest.fixture
async def eur_usd(db: Database) -> PlatformHandle:
    """A SANDBOX platform allowing EUR and USD, for currency mismatches."""
    created = await create_platform(
        db,
        name=f"EUR+USD {uuid.uuid4().hex[:8]}",
        environment=Environment.SANDBOX,
        currencies=["EUR", "USD"],
    )
    return PlatformHandle(id=created.platform.id, key=created.api_key)
