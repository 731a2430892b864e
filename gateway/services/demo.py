"""Demo data: a sandbox platform "Demo" with realistic users, persons and funded accounts.

Seeding is idempotent: the platform is found again by name and environment, and users are only
added when it has none. The data is generated from a fixed seed, so every install shows the
same people. Accounts are funded the way real money arrives: by bank-wire pay-ins that
succeeded, each with its two ledger legs (the account and the platform's settlement account),
and every object gets its events, so the ledger and the event log hold from the first query.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.domain.enums import (
    AccountStatus,
    EntryKind,
    Environment,
    EventType,
    PayInMethod,
    PayInStatus,
    PersonKind,
    PersonRole,
    UserKind,
    UserStatus,
    ValidationStatus,
)
from gateway.domain.ids import new_id
from gateway.services.credentials import issue_api_key
from gateway.services.ledger import post, post_settlement
from gateway.services.payments import wire_reference
from gateway.services.platforms import create_platform
from gateway.services.unit_of_work import Tx
from gateway.store import platforms, users
from gateway.store.engine import Database
from gateway.store.ledger_tables import PayIn
from gateway.store.tables import Account, Person, Platform, User

DEMO_PLATFORM_NAME = "Demo"
DEMO_NATURAL_USERS = 24
DEMO_LEGAL_USERS = 6

_FIRST_NAMES = [
    "Camille",
    "Léa",
    "Hugo",
    "Louis",
    "Chloé",
    "Jules",
    "Emma",
    "Lucas",
    "Inès",
    "Nathan",
    "Manon",
    "Arthur",
    "Sofia",
    "Gabriel",
    "Zoé",
    "Adam",
    "Alice",
    "Rayan",
]
_LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "Fournier",
]
_CITIES = [
    ("75011", "Paris", "FR"),
    ("69002", "Lyon", "FR"),
    ("13001", "Marseille", "FR"),
    ("33000", "Bordeaux", "FR"),
    ("1000", "Bruxelles", "BE"),
    ("10115", "Berlin", "DE"),
    ("28001", "Madrid", "ES"),
    ("1012", "Amsterdam", "NL"),
]
_STREETS = [
    "rue de la Paix",
    "avenue Victor Hugo",
    "boulevard Voltaire",
    "rue du Commerce",
    "place de la République",
    "quai des Chartrons",
]
_COMPANIES = [
    ("Atelier Lumière", "company"),
    ("Boulangerie des Quais", "company"),
    ("Les Amis du Vélo", "association"),
    ("Nordwind Logistik", "company"),
    ("Verde Energía", "company"),
    ("Fondation Horizon", "association"),
    ("Pixel & Papier", "company"),
    ("Coopérative du Lac", "company"),
]


@dataclass(frozen=True, slots=True)
class DemoPlatform:
    platform_id: uuid.UUID
    api_key: str
    created: bool


class _Maker:
    """Builds rows for one platform from a seeded random generator."""

    def __init__(self, platform_id: uuid.UUID, rng: random.Random) -> None:
        self.platform_id = platform_id
        self.rng = rng
        self.rows: list[User | Person | Account] = []
        self.funding: list[tuple[Account, int]] = []
        self.serial = 0

    def _address(self) -> dict[str, Any]:
        postal_code, city, country = self.rng.choice(_CITIES)
        return {
            "address_line1": f"{self.rng.randint(1, 120)} {self.rng.choice(_STREETS)}",
            "address_postal_code": postal_code,
            "address_city": city,
            "address_country": country,
            "nationality": country,
        }

    def _natural(self, user_id: uuid.UUID, **extra: Any) -> Person:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=self.rng.randint(0, 18_000))
        return Person(
            id=new_id(),
            platform_id=self.platform_id,
            user_id=user_id,
            kind=PersonKind.NATURAL,
            first_name=self.rng.choice(_FIRST_NAMES),
            last_name=self.rng.choice(_LAST_NAMES),
            birth_date=birth,
            **self._address(),
            **extra,
        )

    def _user(self, kind: UserKind, name: str) -> User:
        self.serial += 1
        login = f"{name.lower().replace(' ', '.')}.{self.serial}"
        email = f"{login}@example.com"
        validated = self.rng.random() < 0.6
        return User(
            id=new_id(),
            platform_id=self.platform_id,
            email=email,
            email_key=email.lower(),
            login=login,
            kind=kind,
            status=UserStatus.ACTIVE,
            validation_status=ValidationStatus.VALIDATED
            if validated
            else ValidationStatus.NOT_SUBMITTED,
            qualified_at=dt.datetime.now(dt.UTC) if validated else None,
        )

    def _accounts(self, user: User, count: int) -> None:
        validated = user.validation_status is ValidationStatus.VALIDATED
        status = AccountStatus.VALIDATED if validated else AccountStatus.CREATED
        for index in range(count):
            account = Account(
                id=new_id(),
                platform_id=self.platform_id,
                user_id=user.id,
                currency="EUR",
                label="Main" if index == 0 else f"Savings {index}",
                status=status,
                balance=0,
            )
            self.rows.append(account)
            self.funding.append((account, self.rng.randint(1_000, 2_500_000)))

    def natural_user(self, accounts: int) -> None:
        holder_names = (self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES))
        user = self._user(UserKind.NATURAL, " ".join(holder_names))
        holder = self._natural(user.id, is_holder=True)
        holder.first_name, holder.last_name = holder_names
        self.rows += [user, holder]
        self._accounts(user, accounts)

    def legal_user(self, accounts: int) -> None:
        legal_name, category = self.rng.choice(_COMPANIES)
        user = self._user(UserKind.LEGAL, legal_name)
        entity = Person(
            id=new_id(),
            platform_id=self.platform_id,
            user_id=user.id,
            kind=PersonKind.LEGAL,
            is_holder=True,
            legal_name=legal_name,
            category=category,
            registration_number=f"{self.rng.randint(100_000_000, 999_999_999)}",
            **self._address(),
        )
        self.rows += [user, entity]
        representative = PersonRole.LEGAL_REPRESENTATIVE.value
        owner = PersonRole.BENEFICIAL_OWNER.value
        shares = [60.0, 40.0] if self.rng.random() < 0.5 else [51.0, 30.0]
        self.rows.append(
            self._natural(
                user.id,
                is_holder=False,
                parent_id=entity.id,
                roles=[representative, owner],
                is_user_representative=True,
                ownership_percentage=shares[0],
            )
        )
        self.rows.append(
            self._natural(
                user.id,
                is_holder=False,
                parent_id=entity.id,
                roles=[owner],
                ownership_percentage=shares[1],
            )
        )
        self._accounts(user, accounts)


async def populate(
    db: Database,
    *,
    platform_id: uuid.UUID,
    natural_users: int,
    legal_users: int,
    accounts_per_user: int = 2,
    seed: int = 2026,
) -> None:
    """Add users with persons and funded EUR accounts to a platform, in one transaction."""
    maker = _Maker(platform_id, random.Random(seed))  # noqa: S311 - demo data, not secrets
    for _ in range(natural_users):
        maker.natural_user(accounts_per_user)
    for _ in range(legal_users):
        maker.legal_user(accounts_per_user)
    async with db.transaction() as session:
        tx = Tx(session=session, platform_id=platform_id)
        for kind in (User, Person, Account):
            rows = [row for row in maker.rows if isinstance(row, kind)]
            session.add_all(rows)
            await session.flush()
            for row in rows:
                _created_event(tx, row)
        for account, amount in maker.funding:
            await _fund(tx, account, amount)
        await session.flush()
        await tx.flush_events()


def _created_event(tx: Tx, row: User | Person | Account) -> None:
    if isinstance(row, User):
        tx.emit(EventType.USER_CREATED, row, user_id=row.id, status=row.validation_status)
    elif isinstance(row, Person):
        tx.emit(EventType.PERSON_CREATED, row, user_id=row.user_id)
    else:
        tx.emit(EventType.ACCOUNT_CREATED, row, user_id=row.user_id, status=row.status)


async def _fund(tx: Tx, account: Account, amount: int) -> None:
    """A bank wire that arrived: a SUCCEEDED pay-in with its two legs."""
    pay_in = PayIn(
        id=new_id(),
        platform_id=tx.platform_id,
        credited_account_id=account.id,
        amount=amount,
        currency=account.currency,
        method=PayInMethod.BANK_WIRE,
        wire_reference=wire_reference(),
        status=PayInStatus.SUCCEEDED,
    )
    tx.session.add(pay_in)
    await post(tx, account, delta=amount, kind=EntryKind.PAY_IN, operation=pay_in)
    await post_settlement(
        tx, currency=account.currency, delta=-amount, kind=EntryKind.PAY_IN, operation=pay_in
    )
    tx.emit(EventType.PAY_IN_CREATED, pay_in, user_id=account.user_id, status=PayInStatus.CREATED)
    tx.emit(
        EventType.PAY_IN_SUCCESSFUL,
        pay_in,
        user_id=account.user_id,
        previous=PayInStatus.PENDING,
        status=pay_in.status,
    )


async def _find_demo_platform(db: Database) -> Platform | None:
    async with db.session() as session:
        return await platforms.platform_by_name(
            session, name=DEMO_PLATFORM_NAME, environment=Environment.SANDBOX
        )


async def _has_users(db: Database, platform_id: uuid.UUID) -> bool:
    async with db.session() as session:
        return await users.has_users(session, platform_id=platform_id)


async def seed_demo(db: Database) -> DemoPlatform:
    """Find or create the demo platform, fill it once, and issue a new API key for it."""
    platform = await _find_demo_platform(db)
    created = platform is None
    if platform is None:
        new = await create_platform(
            db, name=DEMO_PLATFORM_NAME, environment=Environment.SANDBOX, currencies=["EUR"]
        )
        platform, key = new.platform, new.api_key
    else:
        key = await issue_api_key(
            db, platform_id=platform.id, environment=platform.environment, label="demo"
        )
    if not await _has_users(db, platform.id):
        await populate(
            db,
            platform_id=platform.id,
            natural_users=DEMO_NATURAL_USERS,
            legal_users=DEMO_LEGAL_USERS,
        )
    return DemoPlatform(platform_id=platform.id, api_key=key, created=created)
