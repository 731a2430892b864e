"""The README's walk-through, as written, then every mutation document of queries/.

The walk-through's GraphQL document, its variables object and its upload command are read
from README.md and run against the gateway the way a person runs them: each operation by
name with the whole variables object, the ids filled in as steps print them, the three KYC
documents uploaded as the README's multipart request with docs/samples/sample.pdf. It runs
twice on one platform, the second time with the e-mail, login and keys changed as the README
says (with the first run's key, the second run's pay-in is refused), and once with the
sandbox settler deciding before each simulate step, which must then answer the
INVALID_STATE rejection the README describes. Every step's answer must be a success (or that
rejection), with no GraphQL error.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.domain.enums import ApiKeyRole, Environment
from gateway.services.platforms import create_platform
from gateway.services.sandbox import settle_due
from gateway.settings import Settings
from gateway.store.engine import Database
from gateway.store.migrate import upgrade
from tests.conftest import PlatformHandle
from tests.support.platforms import key_with_role
from tests.support.walk import MUTATIONS, Walk

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README[README.index("## Walk-through") : README.index("\n## ", README.index("## Walk-"))]


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, re.DOTALL)


DOCUMENT = fenced("graphql")[0]
VARIABLES: dict[str, Any] = json.loads(fenced("json")[0])
UPLOAD_COMMAND = fenced("sh")[0]


def quoted(pattern: str) -> str:
    """The first group of `pattern` in the README's upload command."""
    found = re.search(pattern, UPLOAD_COMMAND, re.MULTILINE)
    assert found is not None, (pattern, UPLOAD_COMMAND)
    return found[1]


SUBMIT = quoted(r"^\s*SUBMIT='(.*)'$")
OPERATIONS_FORMAT = quoted(r"printf '(.*?)'")
FILE_MAP = quoted(r"'map=(.*?)'")
UPLOADS = re.findall(r'^\s*upload (\w+) "\$(\w+)" (\S+)$', UPLOAD_COMMAND, re.MULTILINE)
FILES = {path: (ROOT / path).read_bytes() for _, _, path in UPLOADS}
KEYS = ("fundKey", "transferKey", "payOutKey")
SETTLED_FIRST = "The pay-in cannot go from SUCCEEDED to SUCCEEDED."
REQUIREMENTS = [
    "REGISTRATION_PROOF of Atelier Lumière (holder) is missing.",
    "UBO_DECLARATION of Atelier Lumière (holder) is missing.",
    "IDENTITY_PROOF of Ada Lovelace (legal representative) is missing.",
]

ADDRESS = {"line1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris", "country": "FR"}
ADA = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "birthDate": "1985-12-10",
    "nationality": "FR",
    "address": ADDRESS,
}
PDF = (ROOT / "docs" / "samples" / "sample.pdf").read_bytes()

Settle = Callable[[], Awaitable[None]]


class ReadmeWalk:
    """The playground's way: one document, one variables object, an operation by name."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], run: int) -> None:
        self.client = client
        self.headers = headers
        self.variables = copy.deepcopy(VARIABLES)
        if run > 1:  # what the README asks of a second run: new keys, a new e-mail and login
            for key in KEYS:
                self.variables[key] = self.variables[key].replace("-1", f"-{run}")
            self.variables["input"]["email"] = f"compta{run}@atelier.example"
            self.variables["input"]["login"] = f"atelier{run}"

    async def data(self, name: str) -> Any:
        body = {"query": DOCUMENT, "variables": self.variables, "operationName": name}
        response = await self.client.post("/graphql", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert "errors" not in answer, answer
        return answer["data"]

    async def mutate(self, name: str, answer: str = "Success") -> Any:
        payload = next(iter((await self.data(name)).values()))
        assert payload["__typename"].endswith(answer), (name, payload)
        return payload

    async def upload(self, document_type: str, person_id: str, path: str) -> Any:
        values = (SUBMIT, self.variables["userId"], person_id, document_type)
        response = await self.client.post(
            "/graphql",
            data={"operations": OPERATIONS_FORMAT % values, "map": FILE_MAP},
            files={"0": (Path(path).name, FILES[path], "application/pdf")},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        payload = response.json()["data"]["submitDocument"]
        assert payload["__typename"] == "SubmitDocumentSuccess", payload
        assert payload["document"]["status"] == "CREATED"
        return payload["document"]


async def decide(walk: ReadmeWalk, name: str, settle: Settle | None) -> None:
    """A simulate step: a success, or, when the settler decided first, INVALID_STATE."""
    if settle is None:
        await walk.mutate(name)
        return
    await settle()
    rejection = await walk.mutate(name, "InvalidStateRejection")
    assert rejection["code"] == "INVALID_STATE"
    if name == "WireArrives":
        assert rejection["message"] == SETTLED_FIRST


async def onboard(walk: ReadmeWalk, settle: Settle | None) -> None:
    """Steps 1 to 3: create the legal user, upload its three documents, validate it."""
    user = (await walk.mutate("CreateUser"))["user"]
    assert [r["message"] for r in user["requirements"]] == REQUIREMENTS
    walk.variables["userId"] = user["id"]
    persons = {
        "HOLDER_ID": user["holder"]["id"],
        "REPRESENTATIVE_ID": user["holder"]["representatives"][0]["id"],
    }
    uploaded = [
        (await walk.upload(kind, persons[person], path))["type"] for kind, person, path in UPLOADS
    ]
    assert uploaded == ["REGISTRATION_PROOF", "UBO_DECLARATION", "IDENTITY_PROOF"]
    assert (await walk.mutate("RequestValidation"))["user"]["validationStatus"] == "PENDING"
    await decide(walk, "Validate", settle)


async def move_money(walk: ReadmeWalk, settle: Settle | None) -> None:
    """Steps 4 to 7: two accounts, a pay-in, a transfer run twice, a pay-out."""
    for name in ("accountId", "spareAccountId"):
        walk.variables[name] = (await walk.mutate("OpenAccount"))["account"]["id"]
    pay_in = (await walk.mutate("Fund"))["payIn"]
    assert pay_in["wireReference"]
    walk.variables["payInId"] = pay_in["id"]
    await decide(walk, "WireArrives", settle)
    first, again = [await walk.mutate("Transfer") for _ in range(2)]
    assert (first["idempotentReplay"], again["idempotentReplay"]) == (False, True)
    assert again["transfer"]["debitedAccount"]["balance"]["decimal"] == "975.00"
    bank = (await walk.mutate("AddBankAccount"))["bankAccount"]
    walk.variables["bankAccountId"] = bank["id"]
    walk.variables["payOutId"] = (await walk.mutate("PayOut"))["payOut"]["id"]
    if settle is not None:
        await settle()


async def walk_through(walk: ReadmeWalk, settle: Settle | None = None) -> None:
    await onboard(walk, settle)
    await move_money(walk, settle)
    status = await walk.data("Status")
    assert status["user"]["validationStatus"] == "VALIDATED"
    assert status["payIn"]["status"] == "SUCCEEDED"
    assert status["payOut"]["status"] == ("CREATED" if settle is None else "SUCCEEDED")
    ledger = (await walk.data("Ledger"))["node"]
    assert ledger["balance"]["decimal"] == "900.00"
    amounts = [entry["amount"]["decimal"] for entry in ledger["entries"]["nodes"]]
    assert amounts == ["-75.00", "-25.00", "1000.00"]


def test_the_readme_quotes_what_the_gateway_answers() -> None:
    words = " ".join(SECTION.split())
    for text in [*REQUIREMENTS, SETTLED_FIRST]:
        assert text in words, text
    assert len(UPLOADS) == 3
    assert {path for _, _, path in UPLOADS} == {"docs/samples/sample.pdf"}
    assert (ROOT / "docs/samples/sample.pdf").read_bytes().startswith(b"%PDF-")


async def test_the_readme_walk_through_runs_as_written_and_again_with_new_keys(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    first = ReadmeWalk(client, platform.headers, run=1)
    await walk_through(first)
    second = ReadmeWalk(client, platform.headers, run=2)
    await walk_through(second)

    second.variables["fundKey"] = first.variables["fundKey"]
    rejection = await second.mutate("Fund", "IdempotencyConflictRejection")
    assert rejection["code"] == "IDEMPOTENCY_CONFLICT"


FIRST_LOOK = re.search(r"```graphql\n(query FirstLook.*?)```", README, re.DOTALL)


async def test_the_readme_first_query_selects_the_id_of_every_object(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    assert FIRST_LOOK is not None
    body = {"query": FIRST_LOOK[1]}
    answer = (await client.post("/graphql", json=body, headers=platform.headers)).json()

    assert "errors" not in answer, answer
    users = answer["data"]["platform"]["users"]["nodes"]
    assert answer["data"]["platform"]["id"]
    assert len(users) == 5
    for user in users:
        objects = [user, user["holder"], *user["accounts"]["nodes"]]
        objects += user["holder"].get("representatives", [])
        assert all(item["id"] for item in objects), user


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A database of its own: the settler sweeps every sandbox platform of its database."""
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'walk.db'}")
    await upgrade(database.engine)
    yield database
    await database.dispose()


async def test_the_readme_walk_through_holds_when_the_settler_decides_first(
    own_database: Database, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=own_database.engine.url.render_as_string(hide_password=False),
        documents_dir=tmp_path / "documents",
        gc_tuning=False,
    )
    created = await create_platform(
        own_database, name="Walk", environment=Environment.SANDBOX, currencies=["EUR"]
    )
    headers = {"Authorization": f"Bearer {created.api_key}"}

    async def settle() -> None:
        assert await settle_due(own_database, delay_s=0) == 1

    app = create_app(settings, db=own_database)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            await walk_through(ReadmeWalk(client, headers, run=1), settle)


async def walk_money_back(walk: Walk, transfer_id: str, pay_in_id: str) -> None:
    """Reverse part of the transfer, refund part of the pay-in twice (one by one and in bulk),
    and decide the refunds: by the sandbox, then by an operator."""
    reversal = await walk.run(
        "ReverseTransfer", transferId=transfer_id, amount=eur(500), idempotencyKey="back-1"
    )
    assert reversal["reversal"]["transfer"]["reversedAmount"]["amount"] == 500
    item = {"transferId": transfer_id, "amount": eur(500), "idempotencyKey": "back-2"}
    (reversed_again,) = (await walk.run("ReverseTransfers", items=[item]))["results"]
    assert reversed_again["__typename"] == "ReverseTransferSuccess", reversed_again
    refund = await walk.run(
        "RefundPayIn", payInId=pay_in_id, amount=eur(1_000), idempotencyKey="refund-1"
    )
    await walk.run("SimulateRefund", refundId=refund["refund"]["id"], outcome="SUCCEEDED")
    item = {"payInId": pay_in_id, "amount": eur(1_000), "idempotencyKey": "refund-2"}
    bulk = await walk.run("RefundPayIns", items=[item])
    (result,) = bulk["results"]
    await walk.decide("DecideRefund", refundId=result["refund"]["id"], outcome="FAILED")


# Managing a webhook endpoint needs a receiver that takes deliveries (or refuses them, to be
# disabled): tests/webhooks/test_management.py runs these documents against a real one.
WEBHOOK_MANAGEMENT = {
    "EnableWebhookEndpoint",
    "RotateWebhookSecret",
    "ReplayWebhookDelivery",
    "ReplayWebhookDeliveries",
}


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


async def test_every_mutation_document_of_queries_runs_in_one_walk(
    client: httpx.AsyncClient, db: Database, platform: PlatformHandle
) -> None:
    walk = Walk(client, platform, await key_with_role(db, platform, ApiKeyRole.OPERATOR))
    legal = {
        "legalName": "Atelier Lumière",
        "category": "company",
        "registrationNumber": "552100554",
        "nationality": "FR",
        "address": ADDRESS,
        "representative": ADA,
    }
    user = (
        await walk.run(
            "CreateUser", email="compta@atelier.example", login="atelier", person={"legal": legal}
        )
    )["user"]
    user_id, entity_id = user["id"], user["holder"]["id"]
    representative_id = user["holder"]["representatives"][0]["id"]
    await walk.run(
        "AddPerson",
        userId=user_id,
        person={**ADA, "firstName": "Grace"},
        roles=["BENEFICIAL_OWNER"],
        ownershipPercentage=60.0,
    )
    documents = [
        await walk.upload(
            "SubmitDocument", PDF, userId=user_id, personId=person_id, type=document_type
        )
        for document_type, person_id in [
            ("REGISTRATION_PROOF", entity_id),
            ("UBO_DECLARATION", entity_id),
            ("IDENTITY_PROOF", representative_id),
        ]
    ]
    await walk.run("RequestValidation", userId=user_id)
    await walk.decide(
        "DecideDocument", documentId=documents[0]["document"]["id"], outcome="VALIDATED"
    )
    await walk.run("SimulateValidation", userId=user_id, outcome="VALIDATED")
    main = (await walk.run("OpenAccount", userId=user_id, currency="EUR", label="Main"))["account"]
    spare = (await walk.run("OpenAccount", userId=user_id, currency="EUR"))["account"]
    pay_in = (
        await walk.run(
            "CreatePayIn",
            creditedAccountId=main["id"],
            method="BANK_WIRE",
            amount={"amount": 100_000, "currency": "EUR"},
            idempotencyKey="fund-1",
        )
    )["payIn"]
    assert pay_in["wireReference"]
    await walk.run("SimulatePayIn", payInId=pay_in["id"], outcome="SUCCEEDED")
    transfer = await walk.run(
        "CreateTransfer",
        debitedAccountId=main["id"],
        creditedAccountId=spare["id"],
        idempotencyKey="move-1",
        amount={"amount": 2_500, "currency": "EUR"},
    )
    assert transfer["transfer"]["debitedAccount"]["balance"]["amount"] == 97_500
    bank = (
        await walk.run(
            "AddBankAccount",
            userId=user_id,
            ownerName="Atelier Lumière",
            iban="FR14 2004 1010 0505 0001 3M02 606",
        )
    )["bankAccount"]
    pay_out = (
        await walk.run(
            "CreatePayOut",
            debitedAccountId=main["id"],
            bankAccountId=bank["id"],
            amount={"amount": 7_500, "currency": "EUR"},
            idempotencyKey="out-1",
        )
    )["payOut"]
    assert pay_out["debitedAccount"]["balance"]["amount"] == 90_000
    await walk.run("SimulatePayOut", payOutId=pay_out["id"], outcome="SUCCEEDED")
    await walk_money_back(walk, transfer["transfer"]["id"], pay_in["id"])
    mandate = (await walk.run("CreateMandate", userId=user_id, bankAccountId=bank["id"]))["mandate"]
    await walk.run("SimulateMandate", mandateId=mandate["id"], outcome="SUCCEEDED")
    await _operator_walk(walk, user_id, main["id"], bank["id"])
    await walk.run("BlockAccount", accountId=spare["id"])
    await walk.run("UnblockAccount", accountId=spare["id"])
    empty = (await walk.run("OpenAccount", userId=user_id, currency="EUR"))["account"]
    await walk.run("CloseAccount", accountId=empty["id"])
    token = await walk.run("CreateUserToken", userId=user_id, expiresInSeconds=600)
    assert token["user"]["id"] == user_id
    await walk.run("RevokeUserTokens", userId=user_id)
    await walk_the_lifecycle(walk, user_id, representative_id, documents[2], mandate)
    assert walk.ran == set(MUTATIONS) - WEBHOOK_MANAGEMENT, set(MUTATIONS) - walk.ran


async def walk_the_lifecycle(
    walk: Walk,
    user_id: str,
    representative_id: str,
    proof: dict[str, Any],
    mandate: dict[str, Any],
) -> None:
    await walk.run("UpdateUser", userId=user_id, login="atelier-lumiere")
    await walk.run("UpdatePerson", personId=representative_id, address={**ADDRESS, "city": "Lyon"})
    await walk.run("CancelMandate", mandateId=mandate["id"])
    await walk.decide("BlockUser", userId=user_id, reason="Compliance review")
    await walk.decide("UnblockUser", userId=user_id)
    await walk.decide("MarkDocumentOutOfDate", documentId=proof["document"]["id"])
    person = {"natural": ADA}
    other = (
        await walk.run(
            "CreateUser", email="ada@atelier.example", login="ada-closing", person=person
        )
    )["user"]
    await walk.run("CloseUser", userId=other["id"])


async def _operator_walk(walk: Walk, user_id: str, account_id: str, bank_id: str) -> None:
    """The operator's documents: a wire recorded and one failed, a mandate decided and its
    direct debit settled, a pay-out settled, and another user's validation decided."""
    eur = {"amount": 1_000, "currency": "EUR"}
    wires = [
        (
            await walk.run(
                "CreatePayIn",
                creditedAccountId=account_id,
                method="BANK_WIRE",
                amount=eur,
                idempotencyKey=key,
            )
        )["payIn"]["id"]
        for key in ("fund-2", "fund-3")
    ]
    received = await walk.decide(
        "RecordWirePayIn", payInId=wires[0], amountReceived=eur, valueDate="2026-12-04"
    )
    assert received["payIn"]["amountReceived"]["amount"] == 1_000
    await walk.decide("FailWirePayIn", payInId=wires[1], reason="Never arrived.")
    mandate = await walk.run("CreateMandate", userId=user_id, bankAccountId=bank_id)
    mandate_id = mandate["mandate"]["id"]
    await walk.decide("DecideMandate", mandateId=mandate_id, outcome="ACTIVE")
    debit = await walk.run(
        "CreatePayIn",
        creditedAccountId=account_id,
        method="DIRECT_DEBIT",
        mandateId=mandate_id,
        amount=eur,
        idempotencyKey="debit-1",
    )
    await walk.decide("SettleDirectDebit", payInId=debit["payIn"]["id"], outcome="SUCCEEDED")
    pay_out = await walk.run(
        "CreatePayOut",
        debitedAccountId=account_id,
        bankAccountId=bank_id,
        amount=eur,
        idempotencyKey="out-2",
    )
    await walk.decide("DecidePayOut", payOutId=pay_out["payOut"]["id"], outcome="SUCCEEDED")
    other = await walk.run(
        "CreateUser",
        email="ada@lovelace.example",
        login="ada",
        person={"natural": {**ADA, "nationality": "GB", "address": ADDRESS}},
    )
    other_id = other["user"]["id"]
    await walk.upload("SubmitDocument", PDF, userId=other_id, type="IDENTITY_PROOF")
    await walk.run("RequestValidation", userId=other_id)
    await walk.decide("DecideUserValidation", userId=other_id, outcome="VALIDATED")
