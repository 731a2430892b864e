"""GraphQL documents and small builders for the mutation tests.

Everything here talks to the real ASGI app over HTTP, with real GraphQL documents, the way a
client would: `mutate` sends one mutation and returns its payload (the union member, with its
`__typename`); the builders (`create_natural_user`, `funded_account`...) chain mutations into
the starting points the tests need. The only helpers that reach past the API are the
`operator_*` ones: on a PRODUCTION platform the outside decisions come from an operator, never
from `simulate*`, so they call the same service code an operator's connector would.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.domain.enums import ValidationStatus
from gateway.services import sandbox as sandbox_service
from gateway.services.kyc import decide_validation
from gateway.services.lookups import find
from gateway.services.unit import Tx, perform
from gateway.store.engine import Database
from gateway.store.ledger_tables import PayIn
from gateway.store.tables import User
from tests.conftest import PlatformHandle
from tests.support import data, graphql

# ---- files ---------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><html><body><script>alert('hi')</script></body></html>\n"

# ---- bank details --------------------------------------------------------------------------

FR_IBAN_PRINTED = "FR76 3000 6000 0112 3456 7890 189"
FR_IBAN = "FR7630006000011234567890189"
DE_IBAN = "DE89370400440532013000"
GB_IBAN = "GB82WEST12345698765432"
FR_BIC = "BNPAFRPPXXX"

# ---- GraphQL documents ---------------------------------------------------------------------

REJECTION = """
fragment RejectionFields on Rejection {
  __typename code message
  ... on ValidationRejection { fields { field message } }
  ... on DuplicateRejection { field }
  ... on InsufficientFundsRejection { available { amount currency decimal } }
}
"""

MONEY = "{ amount currency decimal }"

USER = """
fragment UserFields on User {
  id email login kind status validationStatus qualifiedAt createdAt updatedAt
  holder {
    __typename id nationality
    address { line1 line2 postalCode city region country }
    ... on NaturalPerson { firstName lastName birthDate roles isUserRepresentative }
    ... on LegalPerson {
      legalName category registrationNumber
      representatives { id firstName lastName roles isUserRepresentative legalPerson { id } }
      beneficialOwners { id firstName ownershipPercentage }
    }
  }
  persons { __typename id }
  requirements { code documentType message person { id } }
}
"""

ACCOUNT = f"""
fragment AccountFields on Account {{
  id currency label status balance {MONEY} createdAt user {{ id }}
}}
"""

TRANSFER = f"""
fragment TransferFields on Transfer {{
  id amount {MONEY} label status createdAt
  debitedAccount {{ id balance {{ amount }} }}
  creditedAccount {{ id balance {{ amount }} }}
}}
"""

PAY_IN = f"""
fragment PayInFields on PayIn {{
  id amount {MONEY} method wireReference status failureReason createdAt updatedAt
  creditedAccount {{ id balance {{ amount }} }}
  mandate {{ id status }}
}}
"""

PAY_OUT = f"""
fragment PayOutFields on PayOut {{
  id amount {MONEY} label status failureReason createdAt updatedAt
  debitedAccount {{ id balance {{ amount }} }}
  bankAccount {{ id iban }}
}}
"""

BANK_ACCOUNT = """
fragment BankAccountFields on BankAccount { id ownerName iban bic createdAt user { id } }
"""

MANDATE = """
fragment MandateFields on DirectDebitMandate { id status createdAt user { id } bankAccount { id } }
"""

DOCUMENT = """
fragment DocumentFields on KycDocument {
  id type status fileName contentType sizeBytes sha256 refusedReason createdAt
  user { id } person { id }
}
"""

NATURAL_PERSON = """
fragment NaturalPersonFields on NaturalPerson {
  id firstName lastName birthDate nationality roles isUserRepresentative ownershipPercentage
  user { id } legalPerson { id }
}
"""


def _mutation(field: str, input_type: str, success: str, fragments: str) -> str:
    return (
        f"mutation ($input: {input_type}!) {{ {field}(input: $input) {{\n"
        f"  __typename\n  {success}\n  ...RejectionFields\n}} }}\n{fragments}{REJECTION}"
    )


CREATE_USER = _mutation(
    "createUser", "CreateUserInput", "... on CreateUserSuccess { user { ...UserFields } }", USER
)
ADD_PERSON = _mutation(
    "addPerson",
    "AddPersonInput",
    "... on AddPersonSuccess { person { ...NaturalPersonFields } }",
    NATURAL_PERSON,
)
OPEN_ACCOUNT = _mutation(
    "openAccount",
    "OpenAccountInput",
    "... on OpenAccountSuccess { account { ...AccountFields } }",
    ACCOUNT,
)
ADD_BANK_ACCOUNT = _mutation(
    "addBankAccount",
    "AddBankAccountInput",
    "... on AddBankAccountSuccess { bankAccount { ...BankAccountFields } }",
    BANK_ACCOUNT,
)
SUBMIT_DOCUMENT = _mutation(
    "submitDocument",
    "SubmitDocumentInput",
    "... on SubmitDocumentSuccess { document { ...DocumentFields } }",
    DOCUMENT,
)
REQUEST_VALIDATION = _mutation(
    "requestValidation",
    "RequestValidationInput",
    "... on RequestValidationSuccess { user { ...UserFields } }",
    USER,
)
CREATE_TRANSFER = _mutation(
    "createTransfer",
    "CreateTransferInput",
    "... on CreateTransferSuccess { idempotentReplay transfer { ...TransferFields } }",
    TRANSFER,
)
CREATE_MANDATE = _mutation(
    "createMandate",
    "CreateMandateInput",
    "... on CreateMandateSuccess { mandate { ...MandateFields } }",
    MANDATE,
)
CREATE_PAY_IN = _mutation(
    "createPayIn",
    "CreatePayInInput",
    "... on CreatePayInSuccess { idempotentReplay payIn { ...PayInFields } }",
    PAY_IN,
)
CREATE_PAY_OUT = _mutation(
    "createPayOut",
    "CreatePayOutInput",
    "... on CreatePayOutSuccess { idempotentReplay payOut { ...PayOutFields } }",
    PAY_OUT,
)
SIMULATE_VALIDATION = _mutation(
    "simulateValidation",
    "SimulateValidationInput",
    "... on SimulateSuccess { object { __typename id ...UserFields } }",
    USER,
)
SIMULATE_MANDATE = _mutation(
    "simulateMandate",
    "SimulateMandateInput",
    "... on SimulateSuccess { object { __typename id ...MandateFields } }",
    MANDATE,
)
SIMULATE_PAY_IN = _mutation(
    "simulatePayIn",
    "SimulatePayInInput",
    "... on SimulateSuccess { object { __typename id ...PayInFields } }",
    PAY_IN,
)
SIMULATE_PAY_OUT = _mutation(
    "simulatePayOut",
    "SimulatePayOutInput",
    "... on SimulateSuccess { object { __typename id ...PayOutFields } }",
    PAY_OUT,
)
BLOCK_ACCOUNT = _mutation(
    "blockAccount",
    "AccountStatusInput",
    "... on AccountStatusSuccess { account { ...AccountFields } }",
    ACCOUNT,
)
UNBLOCK_ACCOUNT = BLOCK_ACCOUNT.replace("blockAccount(", "unblockAccount(")
CLOSE_ACCOUNT = BLOCK_ACCOUNT.replace("blockAccount(", "closeAccount(")

USER_QUERY = f"""
query ($id: ID!) {{ node(id: $id) {{
  __typename
  ... on User {{
    ...UserFields
    accounts {{ totalCount nodes {{ ...AccountFields }} }}
    bankAccounts {{ ...BankAccountFields }}
    documents {{ ...DocumentFields }}
  }}
}} }}
{USER}{ACCOUNT}{BANK_ACCOUNT}{DOCUMENT}
"""

ENTRY = f"""
fragment EntryFields on LedgerEntry {{
  id kind amount {MONEY} balanceAfter {MONEY} createdAt account {{ id }}
  operation {{ __typename ... on Transfer {{ id }} ... on PayIn {{ id }} ... on PayOut {{ id }} }}
}}
"""

ACCOUNT_QUERY = f"""
query ($id: ID!) {{ node(id: $id) {{
  __typename
  ... on Account {{
    ...AccountFields
    entries(first: 100) {{ totalCount nodes {{ ...EntryFields }} }}
  }}
}} }}
{ACCOUNT}{ENTRY}
"""

FRAGMENTS = {
    "Transfer": TRANSFER,
    "PayIn": PAY_IN,
    "PayOut": PAY_OUT,
    "LedgerEntry": ENTRY,
    "BankAccount": BANK_ACCOUNT,
    "DirectDebitMandate": MANDATE,
    "KycDocument": DOCUMENT,
    "NaturalPerson": NATURAL_PERSON,
    "Account": ACCOUNT,
    "User": USER,
}


def node_query(typename: str) -> str:
    """node(id:) selecting the fields of `typename` (each type's own fragment)."""
    fragment = FRAGMENTS[typename]
    name = fragment.split()[1]
    selection = f"__typename id ... on {typename} {{ ...{name} }}"
    return f"query ($id: ID!) {{ node(id: $id) {{ {selection} }} }}\n{fragment}"


EVENT = """
fragment EventFields on Event {
  id cursor type occurredAt objectId previousStatus status
  object {
    __typename id
    ... on User { validationStatus }
    ... on Account { accountStatus: status }
    ... on PayIn { payInStatus: status }
    ... on PayOut { payOutStatus: status }
    ... on DirectDebitMandate { mandateStatus: status }
    ... on KycDocument { documentStatus: status }
    ... on Transfer { transferStatus: status }
  }
}
"""

EVENTS_QUERY = f"""
query ($first: Int, $after: String, $types: [EventType!]) {{ platform {{
  events(first: $first, after: $after, types: $types) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ ...EventFields }} }}
  }}
}} }}
{EVENT}
"""

EVENT_NODE_QUERY = f"""
query ($id: ID!) {{ node(id: $id) {{ __typename ...EventFields }} }}
{EVENT}
"""

PLATFORM_LISTS_QUERY = f"""
query {{ platform {{
  transfers(first: 100) {{ totalCount nodes {{ ...TransferFields }} }}
  payIns(first: 100) {{ totalCount nodes {{ ...PayInFields }} }}
  payOuts(first: 100) {{ totalCount nodes {{ ...PayOutFields }} }}
}} }}
{TRANSFER}{PAY_IN}{PAY_OUT}
"""

COUNTS_QUERY = """
query ($ids: [ID!]!) {
  platform {
    users { totalCount } accounts { totalCount } transfers { totalCount }
    payIns { totalCount } payOuts { totalCount } events { totalCount }
  }
  nodes(ids: $ids) {
    __typename id
    ... on Account { status balance { amount } entries { totalCount } }
    ... on User { validationStatus qualifiedAt documents { id status } }
    ... on PayIn { payInStatus: status }
    ... on PayOut { payOutStatus: status }
    ... on DirectDebitMandate { mandateStatus: status }
  }
}
"""

# ---- input builders ------------------------------------------------------------------------


def unique(prefix: str) -> str:
    """A value no other test uses (e-mails, logins, idempotency keys)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_key() -> str:
    return unique("key")


def address(**overrides: Any) -> dict[str, Any]:
    return {
        "line1": "12 rue de la Paix",
        "postalCode": "75002",
        "city": "Paris",
        "country": "FR",
        **overrides,
    }


def natural_person(**overrides: Any) -> dict[str, Any]:
    return {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "birthDate": "1985-12-10",
        "nationality": "FR",
        "address": address(),
        **overrides,
    }


def legal_person(**overrides: Any) -> dict[str, Any]:
    return {
        "legalName": "Acme SAS",
        "category": "company",
        "registrationNumber": "RCS Paris 123 456 789",
        "nationality": "FR",
        "address": address(line1="1 avenue des Champs-Elysees", postalCode="75008"),
        "representative": natural_person(firstName="Grace", lastName="Hopper"),
        **overrides,
    }


def user_input(person: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A CreateUserInput around `person` ({"natural": ...} or {"legal": ...})."""
    name = unique("user")
    return {"email": f"{name}@example.com", "login": name, "person": person, **overrides}


def money(amount: Any, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def transfer_input(
    debited: str, credited: str, amount: Any, currency: str = "EUR", **overrides: Any
) -> dict[str, Any]:
    return {
        "debitedAccountId": debited,
        "creditedAccountId": credited,
        "amount": money(amount, currency),
        "idempotencyKey": new_key(),
        **overrides,
    }


def wire_input(
    account_id: str, amount: Any, currency: str = "EUR", **overrides: Any
) -> dict[str, Any]:
    return {
        "creditedAccountId": account_id,
        "amount": money(amount, currency),
        "method": "BANK_WIRE",
        "idempotencyKey": new_key(),
        **overrides,
    }


def pay_out_input(
    account_id: str, bank_account_id: str, amount: Any, currency: str = "EUR", **overrides: Any
) -> dict[str, Any]:
    return {
        "debitedAccountId": account_id,
        "bankAccountId": bank_account_id,
        "amount": money(amount, currency),
        "idempotencyKey": new_key(),
        **overrides,
    }


# ---- calls ---------------------------------------------------------------------------------


async def query(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    document: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a query that must succeed without errors; its data."""
    return await data(client, document, variables, headers=platform.headers)


async def mutate(
    client: httpx.AsyncClient, platform: PlatformHandle, document: str, input: dict[str, Any]
) -> dict[str, Any]:
    """Run a one-field mutation that must not error; its payload (success or rejection)."""
    result = await query(client, platform, document, {"input": input})
    assert len(result) == 1, result
    payload: dict[str, Any] = next(iter(result.values()))
    return payload


async def top_level_error(
    client: httpx.AsyncClient, platform: PlatformHandle, document: str, input: dict[str, Any]
) -> dict[str, Any]:
    """Run a mutation that must fail as a whole; its one error (data must be null)."""
    body = await graphql(client, document, {"input": input}, headers=platform.headers)
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def success(payload: dict[str, Any], typename: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    return payload


def rejected(payload: dict[str, Any], typename: str, code: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    assert payload["code"] == code, payload
    assert payload["message"], payload
    return payload


def field_paths(payload: dict[str, Any]) -> list[str]:
    """The dotted paths of a ValidationRejection, in order."""
    rejected(payload, "ValidationRejection", "VALIDATION_FAILED")
    return [problem["field"] for problem in payload["fields"]]


async def upload(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    *,
    user_id: str,
    document_type: str,
    content: bytes,
    file_name: str,
    person_id: str | None = None,
    declared_type: str = "application/octet-stream",
) -> httpx.Response:
    """POST submitDocument as a GraphQL multipart request (operations, map, then file `0`)."""
    variables: dict[str, Any] = {"userId": user_id, "type": document_type, "file": None}
    if person_id is not None:
        variables["personId"] = person_id
    operations = {"query": SUBMIT_DOCUMENT, "variables": {"input": variables}}
    files_map = {"0": ["variables.input.file"]}
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files={"0": (file_name, content, declared_type)},
        headers=platform.headers,
    )


async def submit_document(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    *,
    user_id: str,
    document_type: str = "IDENTITY_PROOF",
    content: bytes = PDF,
    file_name: str = "document.pdf",
    person_id: str | None = None,
) -> dict[str, Any]:
    """Upload a document; the submitDocument payload."""
    response = await upload(
        client, platform, user_id=user_id, document_type=document_type, content=content,
        file_name=file_name, person_id=person_id,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitDocument"]
    return payload


# ---- builders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegalUser:
    id: str
    holder_id: str
    representative_id: str


@dataclass(frozen=True)
class Funded:
    user_id: str
    account_id: str


async def create_natural_user(
    client: httpx.AsyncClient, platform: PlatformHandle, **overrides: Any
) -> str:
    payload = await mutate(
        client, platform, CREATE_USER, user_input({"natural": natural_person()}, **overrides)
    )
    user_id: str = success(payload, "CreateUserSuccess")["user"]["id"]
    return user_id


async def create_legal_user(client: httpx.AsyncClient, platform: PlatformHandle) -> LegalUser:
    payload = await mutate(client, platform, CREATE_USER, user_input({"legal": legal_person()}))
    user = success(payload, "CreateUserSuccess")["user"]
    [representative] = user["holder"]["representatives"]
    return LegalUser(user["id"], user["holder"]["id"], representative["id"])


async def add_person(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    user_id: str,
    roles: list[str],
    **overrides: Any,
) -> dict[str, Any]:
    input = {"userId": user_id, "person": natural_person(firstName="Alan", lastName="Turing"),
             "roles": roles, **overrides}  # fmt: skip
    person: dict[str, Any] = success(
        await mutate(client, platform, ADD_PERSON, input), "AddPersonSuccess"
    )["person"]
    return person


async def open_account(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, currency: str = "EUR"
) -> str:
    payload = await mutate(
        client, platform, OPEN_ACCOUNT, {"userId": user_id, "currency": currency}
    )
    account_id: str = success(payload, "OpenAccountSuccess")["account"]["id"]
    return account_id


async def add_bank_account(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, iban: str = FR_IBAN
) -> str:
    input = {"userId": user_id, "ownerName": "Ada Lovelace", "iban": iban}
    payload = await mutate(client, platform, ADD_BANK_ACCOUNT, input)
    bank_account_id: str = success(payload, "AddBankAccountSuccess")["bankAccount"]["id"]
    return bank_account_id


async def request_validation(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str
) -> dict[str, Any]:
    return await mutate(client, platform, REQUEST_VALIDATION, {"userId": user_id})


async def simulate_validation(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    user_id: str,
    outcome: str,
    reason: str | None = None,
) -> dict[str, Any]:
    input = {"userId": user_id, "outcome": outcome, "reason": reason}
    return await mutate(client, platform, SIMULATE_VALIDATION, input)


async def validate(client: httpx.AsyncClient, platform: PlatformHandle, user_id: str) -> None:
    """Take a NATURAL user through KYC on a sandbox: identity proof, request, VALIDATED."""
    success(await submit_document(client, platform, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    success(await simulate_validation(client, platform, user_id, "VALIDATED"), "SimulateSuccess")


async def create_mandate(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str, bank_account_id: str
) -> str:
    input = {"userId": user_id, "bankAccountId": bank_account_id}
    payload = await mutate(client, platform, CREATE_MANDATE, input)
    mandate_id: str = success(payload, "CreateMandateSuccess")["mandate"]["id"]
    return mandate_id


async def simulate_mandate(
    client: httpx.AsyncClient, platform: PlatformHandle, mandate_id: str, outcome: str
) -> dict[str, Any]:
    input = {"mandateId": mandate_id, "outcome": outcome}
    return await mutate(client, platform, SIMULATE_MANDATE, input)


async def active_mandate(client: httpx.AsyncClient, platform: PlatformHandle, user_id: str) -> str:
    """A new bank account of the user, and a mandate on it that the bank activated."""
    bank_account_id = await add_bank_account(client, platform, user_id)
    mandate_id = await create_mandate(client, platform, user_id, bank_account_id)
    success(await simulate_mandate(client, platform, mandate_id, "SUCCEEDED"), "SimulateSuccess")
    return mandate_id


async def create_wire(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    amount: int,
    currency: str = "EUR",
) -> str:
    input = wire_input(account_id, amount, currency)
    payload = await mutate(client, platform, CREATE_PAY_IN, input)
    pay_in_id: str = success(payload, "CreatePayInSuccess")["payIn"]["id"]
    return pay_in_id


async def settle_pay_in(
    client: httpx.AsyncClient, platform: PlatformHandle, pay_in_id: str, outcome: str
) -> dict[str, Any]:
    input = {"payInId": pay_in_id, "outcome": outcome}
    return await mutate(client, platform, SIMULATE_PAY_IN, input)


async def settle_pay_out(
    client: httpx.AsyncClient, platform: PlatformHandle, pay_out_id: str, outcome: str
) -> dict[str, Any]:
    input = {"payOutId": pay_out_id, "outcome": outcome}
    return await mutate(client, platform, SIMULATE_PAY_OUT, input)


async def fund(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    account_id: str,
    amount: int,
    currency: str = "EUR",
) -> str:
    """Credit `amount` by a bank wire that the sandbox bank settles; the pay-in's id."""
    pay_in_id = await create_wire(client, platform, account_id, amount, currency)
    success(await settle_pay_in(client, platform, pay_in_id, "SUCCEEDED"), "SimulateSuccess")
    return pay_in_id


async def funded_account(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    amount: int,
    *,
    validated: bool = False,
    currency: str = "EUR",
) -> Funded:
    """A new NATURAL user (validated if asked) with one account holding `amount`."""
    user_id = await create_natural_user(client, platform)
    if validated:
        await validate(client, platform, user_id)
    account_id = await open_account(client, platform, user_id, currency)
    if amount:
        await fund(client, platform, account_id, amount, currency)
    return Funded(user_id, account_id)


async def create_pay_out(
    client: httpx.AsyncClient, platform: PlatformHandle, funded: Funded, amount: int
) -> dict[str, Any]:
    bank_account_id = await add_bank_account(client, platform, funded.user_id)
    input = pay_out_input(funded.account_id, bank_account_id, amount)
    return success(await mutate(client, platform, CREATE_PAY_OUT, input), "CreatePayOutSuccess")


# ---- reading back --------------------------------------------------------------------------


async def node(
    client: httpx.AsyncClient, platform: PlatformHandle, node_id: str, typename: str
) -> dict[str, Any]:
    """node(id:) read as `typename`: the object must be of that type."""
    found = (await query(client, platform, node_query(typename), {"id": node_id}))["node"]
    assert found is not None, f"node {node_id} not found"
    assert found["__typename"] == typename, found
    result: dict[str, Any] = found
    return result


async def missing(client: httpx.AsyncClient, platform: PlatformHandle, node_id: str) -> bool:
    """True when node(id:) answers null."""
    found = await query(
        client, platform, "query ($id: ID!) { node(id: $id) { id } }", {"id": node_id}
    )
    return found["node"] is None


async def read_user(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str
) -> dict[str, Any]:
    user: dict[str, Any] = (await query(client, platform, USER_QUERY, {"id": user_id}))["node"]
    assert user["__typename"] == "User", user
    return user


async def read_account(
    client: httpx.AsyncClient, platform: PlatformHandle, account_id: str
) -> dict[str, Any]:
    found = (await query(client, platform, ACCOUNT_QUERY, {"id": account_id}))["node"]
    assert found["__typename"] == "Account", found
    account: dict[str, Any] = found
    return account


async def balance(client: httpx.AsyncClient, platform: PlatformHandle, account_id: str) -> int:
    amount: int = (await read_account(client, platform, account_id))["balance"]["amount"]
    return amount


async def entries(
    client: httpx.AsyncClient, platform: PlatformHandle, account_id: str
) -> list[dict[str, Any]]:
    """The account's ledger entries, newest first."""
    nodes: list[dict[str, Any]] = (await read_account(client, platform, account_id))["entries"][
        "nodes"
    ]
    return nodes


async def events(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    types: list[str] | None = None,
    *,
    first: int = 100,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """One page of the platform's events (oldest first), each with its edge cursor checked."""
    variables = {"first": first, "after": after, "types": types}
    page = (await query(client, platform, EVENTS_QUERY, variables))["platform"]["events"]
    for edge in page["edges"]:
        assert edge["cursor"] == edge["node"]["cursor"]
    return [edge["node"] for edge in page["edges"]]


def summary(found: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """Events as (type, previousStatus, status)."""
    return [(event["type"], event["previousStatus"], event["status"]) for event in found]


async def state(client: httpx.AsyncClient, platform: PlatformHandle, *ids: str) -> dict[str, Any]:
    """Everything a rejected request must leave as it was: platform counts and `ids` objects."""
    return await query(client, platform, COUNTS_QUERY, {"ids": list(ids)})


# ---- an operator, on PRODUCTION platforms --------------------------------------------------


async def operator_validates(db: Database, platform: PlatformHandle, user_id: str) -> None:
    """What a compliance officer's decision does on a production platform."""

    async def work(tx: Tx) -> User:
        user = await find(tx.session, User, platform_id=tx.platform_id, id_text=user_id,
                          what="user", lock=True)  # fmt: skip
        return await decide_validation(tx, user, ValidationStatus.VALIDATED, None)

    await perform(db, platform_id=platform.id, operation="operator", key=None, payload={},
                  model=User, work=work)  # fmt: skip


async def operator_settles_pay_in(db: Database, platform: PlatformHandle, pay_in_id: str) -> None:
    """What the bank connector does when a wire arrives on a production platform."""

    async def work(tx: Tx) -> PayIn:
        pay_in = await find(tx.session, PayIn, platform_id=tx.platform_id, id_text=pay_in_id,
                            what="pay-in", lock=True)  # fmt: skip
        return await sandbox_service.settle_pay_in(tx, pay_in, True, None)

    await perform(db, platform_id=platform.id, operation="operator", key=None, payload={},
                  model=PayIn, work=work)  # fmt: skip
