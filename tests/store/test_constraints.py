"""The database itself refuses what the services must never write."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from gateway.domain.enums import AccountStatus, PersonKind, UserKind, UserStatus, ValidationStatus
from gateway.domain.ids import new_id
from gateway.store.engine import Database
from gateway.store.tables import Account, Person, User
from tests.conftest import make_platform


def _user(platform_id: uuid.UUID, email: str, login: str) -> User:
    return User(
        id=new_id(),
        platform_id=platform_id,
        email=email,
        email_key=email.lower(),
        login=login,
        kind=UserKind.NATURAL,
        status=UserStatus.ACTIVE,
        validation_status=ValidationStatus.NOT_SUBMITTED,
    )


def _person(platform_id: uuid.UUID, user_id: uuid.UUID, **extra: Any) -> Person:
    fields: dict[str, Any] = {
        "kind": PersonKind.NATURAL,
        "is_holder": True,
        "first_name": "Ada",
        "last_name": "Byron",
        "birth_date": dt.date(1990, 1, 1),
        "nationality": "FR",
        "address_line1": "1 rue",
        "address_postal_code": "75001",
        "address_city": "Paris",
        "address_country": "FR",
    }
    fields.update(extra)
    return Person(id=new_id(), platform_id=platform_id, user_id=user_id, **fields)


async def _insert(db: Database, *rows: Any) -> None:
    async with db.transaction() as session:
        for row in rows:
            session.add(row)
            await session.flush()


async def test_emails_are_unique_per_platform_ignoring_case(db: Database) -> None:
    handle = await make_platform(db)
    await _insert(db, _user(handle.id, "Ada@Example.com", "ada"))
    with pytest.raises(IntegrityError):
        await _insert(db, _user(handle.id, "ada@example.COM", "ada2"))


async def test_the_same_email_may_live_on_two_platforms(db: Database) -> None:
    first, second = await make_platform(db), await make_platform(db)
    await _insert(db, _user(first.id, "same@example.com", "same"))
    await _insert(db, _user(second.id, "same@example.com", "same"))


async def test_logins_are_unique_per_platform(db: Database) -> None:
    handle = await make_platform(db)
    await _insert(db, _user(handle.id, "one@example.com", "taken"))
    with pytest.raises(IntegrityError):
        await _insert(db, _user(handle.id, "two@example.com", "taken"))


async def test_the_email_key_must_be_the_lower_case_email(db: Database) -> None:
    handle = await make_platform(db)
    user = _user(handle.id, "Mixed@Example.com", "mixed")
    user.email_key = "Mixed@Example.com"
    with pytest.raises(IntegrityError):
        await _insert(db, user)


async def test_a_user_has_one_holder_only(db: Database) -> None:
    handle = await make_platform(db)
    user = _user(handle.id, "holder@example.com", "holder")
    await _insert(db, user, _person(handle.id, user.id))
    with pytest.raises(IntegrityError):
        await _insert(db, _person(handle.id, user.id))


async def test_a_row_cannot_point_at_another_platforms_user(db: Database) -> None:
    first, second = await make_platform(db), await make_platform(db)
    user = _user(first.id, "cross@example.com", "cross")
    await _insert(db, user)
    with pytest.raises(IntegrityError):
        await _insert(db, _person(second.id, user.id))
    account = Account(
        id=new_id(),
        platform_id=second.id,
        user_id=user.id,
        currency="EUR",
        status=AccountStatus.CREATED,
    )
    with pytest.raises(IntegrityError):
        await _insert(db, account)


async def test_a_balance_never_goes_below_zero(db: Database) -> None:
    handle = await make_platform(db)
    user = _user(handle.id, "poor@example.com", "poor")
    account = Account(
        id=new_id(),
        platform_id=handle.id,
        user_id=user.id,
        currency="EUR",
        status=AccountStatus.CREATED,
        balance=-1,
    )
    with pytest.raises(IntegrityError):
        await _insert(db, user, account)


@pytest.mark.parametrize("share", [0.0, -5.0, 100.5])
async def test_ownership_percentage_is_within_0_and_100(db: Database, share: float) -> None:
    handle = await make_platform(db)
    user = _user(handle.id, "own@example.com", "own")
    with pytest.raises(IntegrityError):
        await _insert(
            db, user, _person(handle.id, user.id, is_holder=False, ownership_percentage=share)
        )


async def test_a_natural_person_needs_its_names(db: Database) -> None:
    handle = await make_platform(db)
    user = _user(handle.id, "anon@example.com", "anon")
    with pytest.raises(IntegrityError):
        await _insert(db, user, _person(handle.id, user.id, first_name=None))
