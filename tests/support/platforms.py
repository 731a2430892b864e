"""Platforms to test against, made by the same service an operator uses, and their API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.domain.enums import ApiKeyRole, Environment, UserKind, UserStatus, ValidationStatus
from gateway.domain.ids import new_id
from gateway.services.api_keys import create_api_key
from gateway.services.demo import populate
from gateway.services.platforms import create_platform
from gateway.store.engine import Database
from gateway.store.tables import User


@dataclass(frozen=True)
class PlatformHandle:
    id: uuid.UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_platform(
    db: Database,
    *,
    natural_users: int = 0,
    legal_users: int = 0,
    accounts_per_user: int = 2,
    environment: Environment = Environment.SANDBOX,
    seed: int = 7,
) -> PlatformHandle:
    created = await create_platform(
        db, name=f"Test {uuid.uuid4().hex[:8]}", environment=environment, currencies=["EUR"]
    )
    if natural_users or legal_users:
        await populate(
            db,
            platform_id=created.platform.id,
            natural_users=natural_users,
            legal_users=legal_users,
            accounts_per_user=accounts_per_user,
            seed=seed,
        )
    return PlatformHandle(id=created.platform.id, key=created.api_key)


async def key_with_role(db: Database, platform: PlatformHandle, role: ApiKeyRole) -> PlatformHandle:
    """Another API key of the platform, with `role` (the platform's first key is BACKEND)."""
    created = await create_api_key(db, platform_id=platform.id, label=role.value, role=role)
    return PlatformHandle(id=platform.id, key=created.key)


async def platform_with_a_damaged_user(db: Database) -> PlatformHandle:
    """A platform with a user that lacks the holder person every user has: a damaged database,
    not a client's mistake, so reading its holder is an internal error."""
    handle = await make_platform(db)
    broken = User(
        id=new_id(),
        platform_id=handle.id,
        email="ghost@example.com",
        email_key="ghost@example.com",
        login="ghost",
        kind=UserKind.NATURAL,
        status=UserStatus.ACTIVE,
        validation_status=ValidationStatus.NOT_SUBMITTED,
    )
    async with db.transaction() as session:
        session.add(broken)
    return handle
