"""The README's production walk-through, run from the documents of queries/: on a PRODUCTION
platform nothing is simulated, the platform's backend (a BACKEND key) onboards and moves money
and its back-office (an OPERATOR key) takes every decision. The steps the README's table lists
(document and key, in order) must be the steps this walk takes, and the amounts the README
quotes must be the ones the gateway answers."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx

from gateway.domain.credentials import key_prefix
from gateway.domain.enums import ApiKeyRole, Environment
from gateway.store.engine import Database
from tests.support.inputs import FR_IBAN
from tests.support.platforms import PlatformHandle, key_with_role, make_platform
from tests.support.walk import Walk

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
START = README.index("## Walk-through on a production platform")
SECTION = README[START : README.index("\n## ", START + 1)]
STEP = re.compile(r"^\| \d+ \| `(\w+)`(?: \(x\d\))? \| (backend|operator) \|", re.MULTILINE)
PDF = (ROOT / "docs" / "samples" / "sample.pdf").read_bytes()
ADDRESS = {"line1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris", "country": "FR"}
ADA = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "birthDate": "1985-12-10",
    "nationality": "FR",
    "address": ADDRESS,
}
LEGAL = {
    "legalName": "Atelier Lumière",
    "category": "company",
    "registrationNumber": "552100554",
    "nationality": "FR",
    "address": ADDRESS,
    "representative": ADA,
}


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def listed_steps() -> list[tuple[str, str]]:
    return [(found[1], found[2]) for found in STEP.finditer(SECTION)]


def taken_steps(walk: Walk) -> list[tuple[str, str]]:
    """The walk's steps, a document sent several times in a row counted once."""
    return [step for step, _ in itertools.groupby(walk.steps)]


async def onboard(walk: Walk) -> dict[str, Any]:
    """A legal user, its three documents, each accepted by compliance, then the user."""
    user = (
        await walk.run(
            "CreateUser", email="finance@atelier.example", login="atelier", person={"legal": LEGAL}
        )
    )["user"]
    entity, representative = user["holder"]["id"], user["holder"]["representatives"][0]["id"]
    documents = [
        (await walk.upload("SubmitDocument", PDF, userId=user["id"], personId=p, type=t))[
            "document"
        ]
        for t, p in [
            ("REGISTRATION_PROOF", entity),
            ("UBO_DECLARATION", entity),
            ("IDENTITY_PROOF", representative),
        ]
    ]
    pending = await walk.run("RequestValidation", userId=user["id"])
    assert pending["user"]["validationStatus"] == "PENDING"
    for document in documents:
        decided = await walk.decide(
            "DecideDocument", documentId=document["id"], outcome="VALIDATED"
        )
        assert decided["document"]["status"] == "VALIDATED"
    validated = await walk.decide("DecideUserValidation", userId=user["id"], outcome="VALIDATED")
    assert validated["user"]["validationStatus"] == "VALIDATED"
    assert validated["user"]["qualifiedAt"]
    return dict(user)


async def move_money(walk: Walk, user_id: str) -> dict[str, str]:
    """A wire announced and recorded, a transfer with a fee, part of it reversed, a pay-out
    that succeeds and then comes back."""
    main, spare = [
        (await walk.run("OpenAccount", userId=user_id, currency="EUR"))["account"]["id"]
        for _ in range(2)
    ]
    pay_in = (
        await walk.run(
            "CreatePayIn",
            creditedAccountId=main,
            method="BANK_WIRE",
            amount=eur(100_000),
            idempotencyKey="prod-fund-1",
        )
    )["payIn"]
    assert pay_in["status"] == "CREATED"
    assert pay_in["wireReference"]
    wire = await walk.decide(
        "RecordWirePayIn",
        payInId=pay_in["id"],
        amountReceived=eur(99_000),
        valueDate="2026-12-04",
        bankReference="FR76-WIRE-0001",
    )
    assert wire["payIn"]["status"] == "SUCCEEDED"
    assert wire["payIn"]["amountReceived"]["decimal"] == "990.00"
    assert wire["payIn"]["creditedAccount"]["balance"]["amount"] == 99_000
    transfer = (
        await walk.run(
            "CreateTransfer",
            debitedAccountId=main,
            creditedAccountId=spare,
            amount=eur(10_000),
            fee=eur(200),
            idempotencyKey="prod-transfer-1",
        )
    )["transfer"]
    assert transfer["fee"]["decimal"] == "2.00"
    assert transfer["debitedAccount"]["balance"]["decimal"] == "890.00"
    assert transfer["creditedAccount"]["balance"]["decimal"] == "98.00"
    reversal = (
        await walk.run(
            "ReverseTransfer",
            transferId=transfer["id"],
            amount=eur(4_000),
            idempotencyKey="prod-reversal-1",
        )
    )["reversal"]
    assert reversal["transfer"]["reversedAmount"]["decimal"] == "40.00"
    bank = (
        await walk.run("AddBankAccount", userId=user_id, ownerName="Atelier Lumière", iban=FR_IBAN)
    )["bankAccount"]
    pay_out = (
        await walk.run(
            "CreatePayOut",
            debitedAccountId=main,
            bankAccountId=bank["id"],
            amount=eur(30_000),
            idempotencyKey="prod-pay-out-1",
        )
    )["payOut"]
    assert pay_out["debitedAccount"]["balance"]["amount"] == 63_000
    sent = await walk.decide("DecidePayOut", payOutId=pay_out["id"], outcome="SUCCEEDED")
    assert sent["payOut"]["status"] == "SUCCEEDED"
    back = await walk.decide(
        "DecidePayOut",
        payOutId=pay_out["id"],
        outcome="RETURNED",
        reason="Account closed at the receiving bank.",
    )
    assert back["payOut"]["status"] == "RETURNED"
    assert back["payOut"]["debitedAccount"]["balance"]["amount"] == 93_000
    return {"main": main, "spare": spare}


async def look_back(walk: Walk, user_id: str, main: str, operator: PlatformHandle) -> None:
    """The fees collected, who validated the user, and the main account's ledger."""
    fees = (await walk.read("FeeAccounts"))["platform"]["feeAccounts"]
    assert [(f["currency"], f["balance"]["decimal"]) for f in fees] == [("EUR", "2.00")]
    history = (await walk.read("ObjectHistory", objectId=user_id))["platform"]["events"]["nodes"]
    assert [event["type"] for event in history] == [
        "USER_CREATED",
        "USER_VALIDATION_REQUESTED",
        "USER_VALIDATED",
    ]
    assert [event["actor"]["role"] for event in history] == ["BACKEND", "BACKEND", "OPERATOR"]
    assert history[-1]["actor"]["apiKey"]["prefix"] == key_prefix(operator.key)
    account = (await walk.read("AccountEntries", id=main))["node"]
    assert account["balance"]["decimal"] == "930.00"
    entries = [(e["kind"], e["amount"]["decimal"]) for e in account["entries"]["nodes"]]
    assert entries == [
        ("PAY_OUT_RETURN", "300.00"),
        ("PAY_OUT", "-300.00"),
        ("TRANSFER_REVERSAL_IN", "40.00"),
        ("TRANSFER_OUT", "-100.00"),
        ("PAY_IN", "990.00"),
    ]


async def test_the_readme_production_walk_through_runs_from_the_queries_documents(
    client: httpx.AsyncClient, db: Database
) -> None:
    platform = await make_platform(db, environment=Environment.PRODUCTION)
    assert key_prefix(platform.key).startswith("mps_live_")  # type: ignore[union-attr]
    operator = await key_with_role(db, platform, ApiKeyRole.OPERATOR)
    walk = Walk(client, platform, operator)
    user = await onboard(walk)
    accounts = await move_money(walk, user["id"])
    await look_back(walk, user["id"], accounts["main"], operator)
    assert taken_steps(walk) == listed_steps()


def test_the_readme_lists_the_steps_and_quotes_the_amounts_the_walk_checks() -> None:
    assert len(listed_steps()) >= 15
    words = " ".join(SECTION.split())
    for quoted in ("990.00", "98.00", "40.00", "2.00", "930.00", "RETURNED"):
        assert quoted in words, quoted
