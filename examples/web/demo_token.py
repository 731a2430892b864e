"""A user token for the example web app: what a platform's backend does when one of its users
opens the platform's frontend.

On the database of `--database-url` (default: `MPS_DATABASE_URL`, else the gateway's own
default), it finds or creates the sandbox platform "Demo" (`mps-gateway demo`, which also
issues a new BACKEND API key), then finds or creates the demo user `web.demo` the way a
platform onboards one: created, identity proof, validation requested and granted by the
sandbox, two EUR accounts ("Main" and "Savings"), and 250.00 EUR wired into "Main" (a pay-in
settled by the sandbox). A second run finds that user, its accounts and its pay-in by login,
label and account (not by idempotency keys, which the gateway forgets after its retention
window) instead of adding new ones. Last it issues a user token for that user
with the new key, and prints it: a token that sees and moves only that user's money, never a
platform key in a browser.

    .venv/bin/python examples/web/demo_token.py --database-url sqlite+aiosqlite:///mps-gateway.db
    .venv/bin/python examples/web/demo_token.py --json   # one JSON line, for scripts and tests
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from gateway.domain import user_tokens
from gateway.domain.enums import DocumentType, PayInMethod, PayInStatus, ValidationStatus
from gateway.domain.inputs import AddressData, NaturalPersonData
from gateway.services.accounts import NewAccount, open_account
from gateway.services.credentials import authenticate
from gateway.services.demo import seed_demo
from gateway.services.kyc import NewDocument, request_validation, submit_document
from gateway.services.payments import NewPayIn, create_pay_in
from gateway.services.sandbox import simulate_pay_in, simulate_validation
from gateway.services.user_tokens import issue_user_token
from gateway.services.users import NewUser, create_user
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.files import DocumentFiles
from gateway.store.ledger_tables import PayIn
from gateway.store.migrate import upgrade
from gateway.store.tables import Account, User

LOGIN = "web.demo"
KEY_PREFIX = "example-web-app"  # of every idempotency key this script sends
ACCOUNT_LABELS = ("Main", "Savings")
FUNDS = 250_00  # EUR cents wired into "Main" once
IDENTITY_PROOF = b"%PDF-1.4\n% the web demo user's identity proof\n%%EOF\n"
APP_URL = "http://127.0.0.1:5173"  # `npm run dev` in examples/web


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_id: str
    account_ids: tuple[str, ...]


def _person() -> NaturalPersonData:
    address = AddressData(line1="12 rue des Lilas", postal_code="69002", city="Lyon", country="FR")
    return NaturalPersonData(
        first_name="Ada",
        last_name="Webb",
        birth_date=dt.date(1990, 5, 17),
        nationality="FR",
        address=address,
    )


async def _validated(db: Database, files: DocumentFiles, user: User) -> None:
    """Take the user through KYC as far as it has not gone yet (a crashed run resumes)."""
    platform_id, user_id = user.platform_id, str(user.id)
    if user.validation_status is ValidationStatus.NOT_SUBMITTED:
        proof = NewDocument(
            user_id=user_id,
            type=DocumentType.IDENTITY_PROOF,
            file_name="identity.pdf",
            content=IDENTITY_PROOF,
        )
        await submit_document(
            db, files, platform_id=platform_id, new=proof, size_max=len(IDENTITY_PROOF)
        )
        await request_validation(db, platform_id=platform_id, user_id=user_id)
    if user.validation_status is not ValidationStatus.VALIDATED:
        await simulate_validation(
            db, platform_id=platform_id, user_id=user_id, outcome=ValidationStatus.VALIDATED
        )


async def _found(db: Database, platform_id: uuid.UUID) -> tuple[User | None, dict[str, str]]:
    """The platform's demo user by login, if a run made it, and its accounts by label: found
    by what they are rather than by idempotency keys, which the gateway forgets after
    MPS_IDEMPOTENCY_RETENTION_HOURS."""
    async with db.session() as session:
        user = await session.scalar(
            sa.select(User).where(col(User.platform_id) == platform_id, col(User.login) == LOGIN)
        )
        if user is None:
            return None, {}
        found = await session.execute(
            sa.select(col(Account.label), col(Account.id))
            .where(col(Account.platform_id) == platform_id, col(Account.user_id) == user.id)
            .order_by(col(Account.created_at))
        )
        accounts: dict[str, str] = {}
        for label, account_id in found.all():
            if label in ACCOUNT_LABELS:
                accounts.setdefault(label, str(account_id))
        return user, accounts


async def demo_user(db: Database, files: DocumentFiles, *, platform_id: uuid.UUID) -> DemoUser:
    """The demo user of the platform, created and funded on the first run only."""
    user, accounts = await _found(db, platform_id)
    if user is None:
        new_user = NewUser(
            email=f"{LOGIN}@example.com",
            login=LOGIN,
            person=_person(),
            idempotency_key=f"{KEY_PREFIX}:user",
        )
        user = (await create_user(db, platform_id=platform_id, new=new_user)).value
    await _validated(db, files, user)
    for label in ACCOUNT_LABELS:
        if label in accounts:
            continue
        new_account = NewAccount(
            user_id=str(user.id),
            currency="EUR",
            label=label,
            idempotency_key=f"{KEY_PREFIX}:account:{label}",
        )
        opened = await open_account(db, platform_id=platform_id, new=new_account)
        accounts[label] = str(opened.value.id)
    main = accounts[ACCOUNT_LABELS[0]]
    pay_in = await _first_pay_in(db, platform_id, main)
    if pay_in is None:  # funded once: a rerun, even long after, wires nothing more
        wire = NewPayIn(
            credited_account_id=main,
            amount=FUNDS,
            currency="EUR",
            method=PayInMethod.BANK_WIRE,
            idempotency_key=f"{KEY_PREFIX}:pay-in",
        )
        pay_in = (await create_pay_in(db, platform_id=platform_id, new=wire)).value
    if pay_in.status in (PayInStatus.CREATED, PayInStatus.PENDING):  # the sandbox plays the bank
        await simulate_pay_in(db, platform_id=platform_id, pay_in_id=str(pay_in.id), succeeded=True)
    return DemoUser(
        user_id=str(user.id), account_ids=tuple(accounts[label] for label in ACCOUNT_LABELS)
    )


async def _first_pay_in(db: Database, platform_id: uuid.UUID, account_id: str) -> PayIn | None:
    async with db.session() as session:
        found: PayIn | None = await session.scalar(
            sa.select(PayIn)
            .where(
                col(PayIn.platform_id) == platform_id,
                col(PayIn.credited_account_id) == uuid.UUID(account_id),
            )
            .order_by(col(PayIn.created_at))
            .limit(1)
        )
        return found


@dataclass(frozen=True, slots=True)
class DemoToken:
    token: str
    expires_at: dt.datetime
    platform_id: uuid.UUID
    user: DemoUser


async def demo_token(settings: Settings, *, expires_in_s: int) -> DemoToken:
    """Seed what is missing, then issue a user token for the demo user."""
    db = Database.from_url(settings.database_url)
    try:
        await upgrade(db.engine)
        platform = await seed_demo(db)
        user = await demo_user(
            db, DocumentFiles(settings.documents_dir), platform_id=platform.platform_id
        )
        caller = await authenticate(db, authorization=f"Bearer {platform.api_key}")
        assert caller is not None, "the key seed_demo has just issued authenticates"
        issued = await issue_user_token(
            db, principal=caller[0], user_id=user.user_id, expires_in_s=expires_in_s
        )
    finally:
        await db.dispose()
    return DemoToken(issued.token, issued.expires_at, platform.platform_id, user)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: MPS_DATABASE_URL, else the gateway's")
    parser.add_argument(
        "--expires-in",
        type=int,
        default=60 * 60,
        help=f"token lifetime in seconds ({user_tokens.EXPIRES_IN_S_MIN} to"
        f" {user_tokens.EXPIRES_IN_S_MAX}; default: one hour)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    demo = asyncio.run(demo_token(settings, expires_in_s=args.expires_in))
    if args.json:
        summary = {
            "token": demo.token,
            "expiresAt": demo.expires_at.isoformat(),
            "platformId": str(demo.platform_id),
            "userId": demo.user.user_id,
            "accountIds": list(demo.user.account_ids),
        }
        print(json.dumps(summary))
        return 0
    print(f"User token for {LOGIN} (expires {demo.expires_at:%Y-%m-%d %H:%M} UTC):")
    print(f"  {demo.token}")
    print(f"Open the example app with it: {APP_URL}/?token={demo.token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
