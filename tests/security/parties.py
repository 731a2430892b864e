"""The tenant matrix's parties: a user owning one object of every kind (by role), built through
the API, with the credential (platform key or user token) that acts on them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, entries, open_account
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_PAY_OUT, CREATE_TRANSFER, document
from tests.support.inputs import DE_IBAN, FR_IBAN, pay_out_input, transfer_input
from tests.support.kyc import request_validation, simulate_validation, submit_document
from tests.support.money_back import refund_input, refunded, reversal_input, reverse
from tests.support.payments import create_mandate, fund, simulate_mandate
from tests.support.users import create_legal_user, create_natural_user, read_user

# ---- parties -------------------------------------------------------------------------

# What each builder makes; the guard test checks the matrix needs no more than this.
ATTACKER_ROLES = frozenset(
    {
        "user",
        "holder",
        "person",
        "account",
        "second_account",
        "ledger_entry",
        "transfer",
        "pay_in",
        "pay_out",
        "bank_account",
        "mandate",
        "document",
        "event",
        "reversal",
        "refund",
    }
)
VICTIM_ROLES = ATTACKER_ROLES | {
    "representative",
    "webhook_endpoint",
    "webhook_delivery",
    "platform",
}

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CREATE_TOKEN = document("CreateUserToken")
CREATE_ENDPOINT = document("CreateWebhookEndpoint")
TRANSFER_EVENTS = """query ($first: Int, $after: String) { platform {
  events(first: $first, after: $after, types: [TRANSFER_SUCCESSFUL]) {
    pageInfo { hasNextPage endCursor } nodes { id objectId } } } }"""


@dataclass(frozen=True)
class Party:
    """A user and its objects (by role), with the credential that acts on them."""

    handle: PlatformHandle  # a platform key or a user token, with its platform's id
    objects: Mapping[str, str]

    def of_type(self, typename: str, roles: Mapping[str, str]) -> str | None:
        role = roles.get(typename)
        return None if role is None else self.objects.get(role)


async def build_party(client: httpx.AsyncClient, key: PlatformHandle, *, legal: bool) -> Party:
    """A VALIDATED user with two accounts, a settled pay-in (partly refunded: a refund in
    flight), a transfer between them (partly reversed), a bank account with an ACTIVE mandate,
    a pending pay-out and KYC documents; LEGAL (a legal holder and a natural representative)
    or NATURAL."""
    objects = await _onboarded(client, key, legal=legal)
    user_id = objects["user"]
    account, second = (
        await open_account(client, key, user_id),
        await open_account(client, key, user_id),
    )
    objects |= {"account": account, "second_account": second}
    objects["pay_in"] = await fund(client, key, account, 10_000)
    transfer = await mutate(client, key, CREATE_TRANSFER, transfer_input(account, second, 1_000))
    objects["transfer"] = success(transfer, "CreateTransferSuccess")["transfer"]["id"]
    iban = DE_IBAN if legal else FR_IBAN
    objects["bank_account"] = await add_bank_account(client, key, user_id, iban)
    objects["mandate"] = await create_mandate(client, key, user_id, objects["bank_account"])
    success(await simulate_mandate(client, key, objects["mandate"], "SUCCEEDED"), "SimulateSuccess")
    pay_out = await mutate(
        client, key, CREATE_PAY_OUT, pay_out_input(account, objects["bank_account"], 500)
    )
    objects["pay_out"] = success(pay_out, "CreatePayOutSuccess")["payOut"]["id"]
    objects["ledger_entry"] = (await entries(client, key, account))[0]["id"]
    reversal = await reverse(client, key, reversal_input(objects["transfer"], 100))
    objects["reversal"] = success(reversal, "ReverseTransferSuccess")["reversal"]["id"]
    objects["refund"] = (await refunded(client, key, refund_input(objects["pay_in"], 100)))["id"]
    objects["event"] = await _event_about(client, key, objects["transfer"])
    return Party(handle=key, objects=objects)


async def _onboarded(
    client: httpx.AsyncClient, key: PlatformHandle, *, legal: bool
) -> dict[str, str]:
    """A user through KYC: documents submitted, validation requested, VALIDATED."""
    if legal:
        created = await create_legal_user(client, key)
        objects = {
            "user": created.id,
            "holder": created.holder_id,
            "representative": created.representative_id,
            "person": created.representative_id,
        }
        for document_type in ("REGISTRATION_PROOF", "UBO_DECLARATION"):
            payload = await submit_document(
                client, key, user_id=created.id, document_type=document_type
            )
            success(payload, "SubmitDocumentSuccess")
    else:
        user_id = await create_natural_user(client, key)
        holder = (await read_user(client, key, user_id))["holder"]["id"]
        objects = {"user": user_id, "holder": holder, "person": holder}
    proof = await submit_document(client, key, user_id=objects["user"], person_id=objects["person"])
    objects["document"] = success(proof, "SubmitDocumentSuccess")["document"]["id"]
    success(await request_validation(client, key, objects["user"]), "RequestValidationSuccess")
    validated = await simulate_validation(client, key, objects["user"], "VALIDATED")
    success(validated, "SimulateSuccess")
    return objects


async def _event_about(client: httpx.AsyncClient, key: PlatformHandle, transfer_id: str) -> str:
    after: str | None = None
    while True:
        variables = {"first": 100, "after": after}
        page = (await query(client, key, TRANSFER_EVENTS, variables))["platform"]["events"]
        for event in page["nodes"]:
            if event["objectId"] == transfer_id:
                event_id: str = event["id"]
                return event_id
        assert page["pageInfo"]["hasNextPage"], f"no event about transfer {transfer_id}"
        after = page["pageInfo"]["endCursor"]


async def add_webhook_endpoint(client: httpx.AsyncClient, key: PlatformHandle) -> str:
    input = {"url": "https://hooks.example.com/victim", "description": "victim"}
    payload = await mutate(client, key, CREATE_ENDPOINT, input)
    endpoint_id: str = success(payload, "CreateWebhookEndpointSuccess")["endpoint"]["id"]
    return endpoint_id


async def user_token(
    client: httpx.AsyncClient, key: PlatformHandle, user_id: str
) -> PlatformHandle:
    """A credential acting for the user: a token from `createUserToken`, called with the key."""
    payload = await mutate(client, key, CREATE_TOKEN, {"userId": user_id, "expiresInSeconds": 3600})
    token: str = success(payload, "CreateUserTokenSuccess")["token"]
    return PlatformHandle(id=key.id, key=token)


async def ids_seen(client: httpx.AsyncClient, key: PlatformHandle, document: str) -> set[str]:
    """Every id in what a credential reads with `document`."""
    return set(UUID.findall(json.dumps(await query(client, key, document))))
