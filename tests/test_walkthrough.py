"""The README's walk-through, run with the documents of queries/: onboard a legal user,
validate it, fund an account, transfer, pay out; then every other mutation document.

Each step must succeed (its payload is the `...Success` member); at the end every mutation
document in queries/ has been run at least once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import PlatformHandle

QUERIES = Path(__file__).resolve().parent.parent / "queries"
MUTATIONS = {
    path.stem: path.read_text()
    for path in sorted(QUERIES.glob("*.graphql"))
    if "\nmutation " in path.read_text()
}
ADDRESS = {"line1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris", "country": "FR"}
ADA = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "birthDate": "1985-12-10",
    "nationality": "FR",
    "address": ADDRESS,
}
PDF = b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF\n"


class Walk:
    def __init__(self, client: httpx.AsyncClient, platform: PlatformHandle) -> None:
        self.client = client
        self.headers = platform.headers
        self.ran: set[str] = set()

    async def run(self, name: str, **input_fields: Any) -> Any:
        response = await self.client.post(
            "/graphql",
            json={"query": MUTATIONS[name], "variables": {"input": input_fields}},
            headers=self.headers,
        )
        return self._payload(name, response)

    async def upload(self, name: str, content: bytes, **input_fields: Any) -> Any:
        operations = {
            "query": MUTATIONS[name],
            "variables": {"input": {**input_fields, "file": None}},
        }
        response = await self.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("proof.pdf", content, "application/pdf")},
            headers=self.headers,
        )
        return self._payload(name, response)

    def _payload(self, name: str, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert payload["__typename"].endswith("Success"), (name, payload)
        self.ran.add(name)
        return payload


async def test_the_readme_walk_through_runs_every_mutation_document(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    walk = Walk(client, platform)
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
    for document_type, person_id in [
        ("REGISTRATION_PROOF", entity_id),
        ("UBO_DECLARATION", entity_id),
        ("IDENTITY_PROOF", representative_id),
    ]:
        await walk.upload(
            "SubmitDocument", PDF, userId=user_id, personId=person_id, type=document_type
        )
    await walk.run("RequestValidation", userId=user_id)
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
    mandate = (await walk.run("CreateMandate", userId=user_id, bankAccountId=bank["id"]))["mandate"]
    await walk.run("SimulateMandate", mandateId=mandate["id"], outcome="SUCCEEDED")
    await walk.run("BlockAccount", accountId=spare["id"])
    await walk.run("UnblockAccount", accountId=spare["id"])
    empty = (await walk.run("OpenAccount", userId=user_id, currency="EUR"))["account"]
    await walk.run("CloseAccount", accountId=empty["id"])
    token = await walk.run("CreateUserToken", userId=user_id, expiresInSeconds=600)
    assert token["user"]["id"] == user_id
    await walk.run("RevokeUserTokens", userId=user_id)
    assert walk.ran == set(MUTATIONS), set(MUTATIONS) - walk.ran
