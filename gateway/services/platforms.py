"""Platforms: segregated environments with their own keys, currencies and users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.enums import Environment
from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import new_id
from gateway.domain.money import is_currency
from gateway.services.credentials import new_api_key_row
from gateway.store.engine import Database
from gateway.store.tables import Platform

PLATFORM_NAME_LENGTH_MAX = 200


@dataclass(frozen=True, slots=True)
class CreatedPlatform:
    platform: Platform
    api_key: str  # shown once


def check_platform_input(name: str, currencies: Sequence[str]) -> list[str]:
    name = name.strip()
    if not name or len(name) > PLATFORM_NAME_LENGTH_MAX:
        raise InvalidArgument(
            f"The name must have 1 to {PLATFORM_NAME_LENGTH_MAX} characters.", argument="name"
        )
    codes = list(dict.fromkeys(code.strip().upper() for code in currencies)) or ["EUR"]
    unknown = [code for code in codes if not is_currency(code)]
    if unknown:
        raise InvalidArgument(
            f"Not ISO 4217 currencies: {', '.join(unknown)}.", argument="currency"
        )
    return codes


async def create_platform(
    db: Database, *, name: str, environment: Environment, currencies: Sequence[str]
) -> CreatedPlatform:
    """Create a platform and its first API key, in one transaction."""
    codes = check_platform_input(name, currencies)
    platform = Platform(
        id=new_id(), name=name.strip(), environment=environment, allowed_currencies=codes
    )
    key_row, key = new_api_key_row(
        platform_id=platform.id, environment=environment, label="created with the platform"
    )
    async with db.transaction() as session:
        session.add(platform)
        await session.flush()
        session.add(key_row)
    return CreatedPlatform(platform=platform, api_key=key)
