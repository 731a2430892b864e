"""The tenant matrix, read from the schema: which operations exist, how to aim each one at a
victim's objects, and how to tell that nothing of the victim moved or showed.

Everything the matrix covers is enumerated from the executable schema (`build_schema()`):
root fields, the types implementing Node, the Platform's list fields and every mutation's
input, walked down to its leaves. What the schema cannot say is kept in small tables here:

- `ID_ROLES`: which of a party's objects an ID input field names (by field name, or by
  `Input.field` where the name alone says nothing, as for `id`);
- `NODE_ROLES`: which of a party's objects stands for each Node type;
- `EXAMPLES`: valid values for the non-ID leaves whose type alone does not give one.

`coverage_gaps(schema)` lists what a new field or type would leave uncovered; the guard test
fails on it, so the matrix grows with the schema instead of silently missing the new part.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
import websockets
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection

from gateway.domain.ids import new_id
from tests.conftest import PlatformHandle
from tests.support.accounts import add_bank_account, entries, open_account
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_PAY_OUT, CREATE_TRANSFER, document
from tests.support.inputs import (
    DE_IBAN,
    FR_BIC,
    FR_IBAN,
    new_key,
    pay_out_input,
    transfer_input,
    unique,
)
from tests.support.kyc import PDF, request_validation, simulate_validation, submit_document
from tests.support.payments import create_mandate, fund, simulate_mandate
from tests.support.users import create_legal_user, create_natural_user, read_user

# ---- what the matrix knows beyond the schema -------------------------------------------

PLATFORM_ONLY_DIRECTIVE = "isPlatformKey"  # what IsPlatformKey prints in the SDL
COVERED_QUERY_FIELDS = frozenset({"node", "nodes", "platform", "viewer"})
COVERED_SUBSCRIPTION_FIELDS = frozenset({"events"})

# Which party object an ID input field names: "Input.field" first, then the field name.
ID_ROLES: Mapping[str, str] = {
    "userId": "user",
    "personId": "person",
    "accountId": "account",
    "debitedAccountId": "account",
    "creditedAccountId": "second_account",
    "bankAccountId": "bank_account",
    "mandateId": "mandate",
    "payInId": "pay_in",
    "payOutId": "pay_out",
    "DeleteWebhookEndpointInput.id": "webhook_endpoint",
}

# ID input fields that may name another user's object of the same platform: paying another
# user is the point of a transfer (the debited account must still be the caller's own).
MAY_NAME_ANOTHER_USERS_OBJECT = frozenset({"CreateTransferInput.creditedAccountId"})

# The party object that stands for each Node type (the victim owns one of each).
NODE_ROLES: Mapping[str, str] = {
    "Platform": "platform",
    "User": "user",
    "LegalPerson": "holder",
    "NaturalPerson": "representative",
    "Account": "account",
    "LedgerEntry": "ledger_entry",
    "Transfer": "transfer",
    "PayIn": "pay_in",
    "PayOut": "pay_out",
    "BankAccount": "bank_account",
    "DirectDebitMandate": "mandate",
    "KycDocument": "document",
    "Event": "event",
    "WebhookEndpoint": "webhook_endpoint",
}

# Node types that the other user of the victim's platform shares with the victim.
SHARED_WITHIN_A_PLATFORM = frozenset({"Platform"})

# Valid values for leaves, by "Input.field", then field name, then scalar name. Strings not
# listed get a plain text; idempotency keys, e-mails and logins are made unique per request.
EXAMPLES: Mapping[str, Any] = {
    "CreateUserInput.email": lambda: f"{unique('matrix')}@example.com",
    "CreateUserInput.login": lambda: unique("matrix"),
    "idempotencyKey": new_key,
    "ownerName": "Ada Lovelace",
    "iban": FR_IBAN,
    "bic": FR_BIC,
    "url": "https://hooks.example.com/matrix",
    "postalCode": "75002",
    "legalName": "Matrix SAS",
    "category": "company",
    "ownershipPercentage": 30.0,
    "expiresInSeconds": 900,
    "method": "DIRECT_DEBIT",  # the mandate id is filled too: the combination must be valid
    "Boolean": False,
    "Int": 1,
    "Float": 1.0,
    "Date": "1985-12-10",
    "CountryCode": "FR",
    "Currency": "EUR",
    "MinorUnits": 100,
    "String": "matrix",
}
UPLOAD = ("document.pdf", PDF, "application/pdf")


# ---- the schema --------------------------------------------------------------------------


def node_type_names(schema: GraphQLSchema) -> list[str]:
    """Every object type implementing Node (with its `id: ID!`), sorted."""
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return sorted(t.name for t in schema.get_possible_types(node))


def root_field_names(root: GraphQLObjectType | None) -> list[str]:
    return sorted(root.fields) if root is not None else []


def _required_args(f: GraphQLField) -> list[str]:
    return [name for name, arg in f.args.items() if is_required_argument(arg)]


def platform_list_fields(schema: GraphQLSchema) -> list[str]:
    """The Platform's fields that list objects: connections and lists of Node objects."""
    platform = schema.get_type("Platform")
    assert isinstance(platform, GraphQLObjectType)
    return sorted(name for name, f in platform.fields.items() if listed_node_type(f) is not None)


def platform_lists_document(schema: GraphQLSchema, names: Iterable[str], depth: int) -> str:
    """`{ platform { ... } }` reading each named list field, every field `depth` levels deep."""
    platform = schema.get_type("Platform")
    assert isinstance(platform, GraphQLObjectType)
    selector = Selector(schema)
    parts = []
    for name in names:
        f = platform.fields[name]
        arguments = "(first: 100)" if "first" in f.args else ""
        parts.append(f"{name}{arguments} {{ {selector.of(get_named_type(f.type), depth)} }}")
    return "{ platform { " + " ".join(parts) + " } }"


def listed_node_type(f: GraphQLField) -> str | None:
    """The Node type a field lists (through a connection's `nodes`, or a plain list)."""
    named = get_named_type(f.type)
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        listed: str = get_named_type(named.fields["nodes"].type).name
        return listed
    inner = f.type.of_type if isinstance(f.type, GraphQLNonNull) else f.type
    if isinstance(inner, GraphQLList) and isinstance(named, GraphQLObjectType):
        return named.name if any(i.name == "Node" for i in named.interfaces) else None
    return None


def is_platform_only(f: GraphQLField) -> bool:
    """Reserved to API keys: `@isPlatformKey`, from Strawberry's permission or the SDL."""
    definition = f.extensions.get("strawberry-definition")
    if definition is not None:
        names = [d.__strawberry_directive__.graphql_name for d in definition.directives]
        return any(name[:1].lower() + name[1:] == PLATFORM_ONLY_DIRECTIVE for name in names)
    return f.ast_node is not None and any(
        d.name.value == PLATFORM_ONLY_DIRECTIVE for d in f.ast_node.directives or ()
    )


def _is_one_of(t: GraphQLInputObjectType) -> bool:
    definition = t.extensions.get("strawberry-definition")
    if definition is not None:
        return bool(definition.is_one_of)
    return bool(t.is_one_of) or (
        t.ast_node is not None and any(d.name.value == "oneOf" for d in t.ast_node.directives or ())
    )


class Selector:
    """Selection sets that read every field a caller may read, down to a depth."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    def of(self, t: GraphQLNamedType, depth: int) -> str:
        """Every field of `t`, objects `depth` levels down; abstract types through one inline
        fragment per possible type, its fields aliased by type (so they never clash)."""
        if isinstance(t, GraphQLObjectType):
            return " ".join(self._fields(t, depth, alias=None)) or "__typename"
        assert isinstance(t, GraphQLInterfaceType | GraphQLUnionType), t
        parts = ["__typename"]
        for possible in sorted(self.schema.get_possible_types(t), key=lambda p: p.name):
            inner = " ".join(self._fields(possible, depth - 1, alias=possible.name))
            if inner:
                parts.append(f"... on {possible.name} {{ {inner} }}")
        return " ".join(parts)

    def named(self, name: str, depth: int) -> str:
        t = self.schema.get_type(name)
        assert t is not None, name
        return self.of(t, depth)

    def _fields(self, t: GraphQLObjectType, depth: int, alias: str | None) -> list[str]:
        parts = []
        for name, f in sorted(t.fields.items()):
            if _required_args(f):
                continue
            named = get_named_type(f.type)
            key = f"{alias}_{name}: {name}" if alias else name
            if is_leaf_type(named):
                parts.append(key)
            elif depth > 0:
                parts.append(f"{key} {{ {self.of(named, depth - 1)} }}")
        return parts


# ---- mutations, built from their input types -----------------------------------------------


@dataclass(frozen=True)
class IdSlot:
    """An ID input leaf: where it sits in the variables and which party object it names."""

    path: tuple[str | int, ...]
    owner: str  # the input type holding the field
    name: str  # the field's name

    @property
    def qualified(self) -> str:
        return f"{self.owner}.{self.name}"

    @property
    def role(self) -> str | None:
        return ID_ROLES.get(self.qualified) or ID_ROLES.get(self.name)


@dataclass(frozen=True)
class MutationPlan:
    """How to send one mutation: its document and the ID slots found in its arguments."""

    name: str
    document: str
    slots: tuple[IdSlot, ...]
    platform_only: bool
    payload_members: frozenset[str]
    gaps: tuple[str, ...]
    schema_field: GraphQLField = field(compare=False, repr=False)

    def variables(self, ids: Mapping[IdSlot, str]) -> tuple[dict[str, Any], list[str]]:
        """Valid variables with `ids` in their slots (a fresh id in any other), and the
        dotted paths of the Upload variables."""
        return _Filler(self.name, ids).arguments(self.schema_field)


@dataclass
class _Filler:
    """Walks a mutation's arguments and fills every leaf (ids from `ids`, the rest valid)."""

    mutation: str
    ids: Mapping[IdSlot, str]
    slots: list[IdSlot] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def arguments(self, f: GraphQLField) -> tuple[dict[str, Any], list[str]]:
        values = {
            name: self.value(arg.type, (name,), "Mutation." + self.mutation, name)
            for name, arg in f.args.items()
        }
        return values, self.uploads

    def value(self, t: GraphQLInputType, path: tuple[str | int, ...], owner: str, name: str) -> Any:
        if isinstance(t, GraphQLNonNull):
            return self.value(t.of_type, path, owner, name)
        if isinstance(t, GraphQLList):
            return [self.value(t.of_type, (*path, 0), owner, name)]
        if isinstance(t, GraphQLInputObjectType):
            return self.input_object(t, path)
        if isinstance(t, GraphQLEnumType):
            return self.example(owner, name, default=next(iter(t.values)))
        assert isinstance(t, GraphQLScalarType), t
        if t.name == "ID":
            slot = IdSlot(path, owner, name)
            self.slots.append(slot)
            if slot.role is None:
                self.gaps.append(f"Mutation.{self.mutation}: ID field {slot.qualified} names no"
                                 " party object (add it to ID_ROLES)")  # fmt: skip
            return self.ids.get(slot, str(new_id()))
        if t.name == "Upload":
            self.uploads.append(".".join(str(p) for p in ("variables", *path)))
            return None
        found = self.example(owner, name, default=EXAMPLES.get(t.name, _MISSING))
        if found is _MISSING:
            self.gaps.append(f"Mutation.{self.mutation}: no example value for scalar {t.name}"
                             f" ({owner}.{name}; add it to EXAMPLES)")  # fmt: skip
        return found

    def input_object(self, t: GraphQLInputObjectType, path: tuple[str | int, ...]) -> Any:
        fields = sorted(t.fields.items())
        if _is_one_of(t):
            fields = fields[:1]  # one member only; the first, by name
        return {name: self.value(f.type, (*path, name), t.name, name) for name, f in fields}

    def example(self, owner: str, name: str, default: Any) -> Any:
        for key in (f"{owner}.{name}", name):
            if key in EXAMPLES:
                chosen = EXAMPLES[key]
                return chosen() if callable(chosen) else chosen
        return default


_MISSING = object()


def mutation_plans(schema: GraphQLSchema) -> list[MutationPlan]:
    """One plan per Mutation field, sorted by name."""
    assert schema.mutation_type is not None
    selector = Selector(schema)
    plans = []
    for name, f in sorted(schema.mutation_type.fields.items()):
        filler = _Filler(name, {})
        filler.arguments(f)
        payload = get_named_type(f.type)
        members = payload.types if isinstance(payload, GraphQLUnionType) else ()
        variables = ", ".join(f"${arg}: {spec.type}" for arg, spec in f.args.items())
        arguments = ", ".join(f"{arg}: ${arg}" for arg in f.args)
        selected = "" if is_leaf_type(payload) else f" {{ {selector.of(payload, 2)} }}"
        document = f"mutation Matrix({variables}) {{ {name}({arguments}){selected} }}"
        plans.append(
            MutationPlan(
                name=name,
                document=document,
                slots=tuple(filler.slots),
                platform_only=is_platform_only(f),
                payload_members=frozenset(m.name for m in members),
                gaps=tuple(filler.gaps),
                schema_field=f,
            )
        )
    return plans


# ---- coverage -------------------------------------------------------------------------


def coverage_gaps(
    schema: GraphQLSchema, *, victim_roles: Iterable[str], attacker_roles: Iterable[str]
) -> list[str]:
    """What the schema has and the matrix cannot cover; empty when the matrix covers it all."""
    victim, attacker = set(victim_roles), set(attacker_roles)
    gaps = [
        f"Query.{name}: a root field the matrix does not know how to check"
        for name in root_field_names(schema.query_type)
        if name not in COVERED_QUERY_FIELDS
    ]
    gaps += [
        f"Subscription.{name}: a root field the matrix does not know how to check"
        for name in root_field_names(schema.subscription_type)
        if name not in COVERED_SUBSCRIPTION_FIELDS
    ]
    for name in node_type_names(schema):
        role = NODE_ROLES.get(name)
        if role is None:
            gaps.append(f"Node type {name}: no victim object stands for it (add it to NODE_ROLES)")
        elif role not in victim:
            gaps.append(f"Node type {name}: the victim builder makes no {role!r}")
    platform = schema.get_type("Platform")
    assert isinstance(platform, GraphQLObjectType)
    for name in platform_list_fields(schema):
        if _required_args(platform.fields[name]):
            gaps.append(f"Platform.{name}: a list field with required arguments")
    for plan in mutation_plans(schema):
        gaps += plan.gaps
        for slot in plan.slots:
            if slot.role is not None and slot.role not in victim:
                gaps.append(f"Mutation.{plan.name}: the victim builder makes no {slot.role!r}")
            if len(plan.slots) > 1 and slot.role is not None and slot.role not in attacker:
                gaps.append(f"Mutation.{plan.name}: the attackers own no {slot.role!r}")
    return gaps


# ---- calls ---------------------------------------------------------------------------------


async def post(
    client: httpx.AsyncClient,
    document: str,
    variables: dict[str, Any],
    uploads: Sequence[str],
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """POST a GraphQL request (multipart when it carries files); the decoded body."""
    if uploads:
        files_map = {str(i): [path] for i, path in enumerate(uploads)}
        operations = {"query": document, "variables": variables}
        response = await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
            files={str(i): UPLOAD for i in range(len(uploads))},
            headers=dict(headers),
        )
    else:
        response = await client.post(
            "/graphql", json={"query": document, "variables": variables}, headers=dict(headers)
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def masked(body: Any, names: Mapping[str, str]) -> Any:
    """The body with each id replaced by its name (an id may appear inside a message)."""
    text = json.dumps(body, sort_keys=True)
    for found, name in names.items():
        text = text.replace(found, f"<{name}>")
    return json.loads(text)


def fresh_id() -> str:
    """An id of the same shape as every real one (a UUIDv7) that names nothing."""
    return str(new_id())


def leaked(body: Any, secrets: Iterable[str]) -> list[str]:
    text = json.dumps(body)
    return sorted(secret for secret in secrets if secret in text)


# ---- database snapshots ----------------------------------------------------------------


async def platform_tables(engine: AsyncEngine) -> list[sa.Table]:
    """Every table of the database with a platform_id column, as the database has them."""
    metadata = sa.MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: metadata.reflect(sync))
    return [t for t in metadata.sorted_tables if "platform_id" in t.c or t.name == "platforms"]


async def snapshot(
    engine: AsyncEngine, tables: Sequence[sa.Table], platform_id: uuid.UUID
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the platform in every table (and the platforms row), in key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as connection:
        for table in tables:
            column = table.c.id if table.name == "platforms" else table.c.platform_id
            keys = list(table.primary_key.columns) or list(table.c)
            statement = (
                sa.select(table)
                .where(sa.type_coerce(column, sa.Uuid()) == platform_id)
                .order_by(*keys)
            )
            rows[table.name] = [tuple(row) for row in (await connection.execute(statement))]
    return rows


# ---- subscriptions ---------------------------------------------------------------------

RECEIVE_TIMEOUT_S = 10
PROTOCOL: Any = ["graphql-transport-ws"]


@asynccontextmanager
async def subscription(
    url: str, authorization: str, document: str, variables: dict[str, Any]
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws socket, acknowledged, with one subscription started."""
    async with websockets.connect(url, subprotocols=PROTOCOL) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": authorization}}
        await ws.send(json.dumps(init))
        assert await receive(ws) == {"type": "connection_ack"}
        start = {"id": "1", "type": "subscribe",
                 "payload": {"query": document, "variables": variables}}  # fmt: skip
        await ws.send(json.dumps(start))
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT_S)
        message: dict[str, Any] = json.loads(raw)
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return message


async def events_until(
    ws: ClientConnection, stop: Callable[[dict[str, Any]], bool], *, forbidden: Iterable[str]
) -> list[dict[str, Any]]:
    """Every `next` message's event up to and including the first one `stop` accepts; each
    checked, as it arrives, to carry none of the `forbidden` strings."""
    found = []
    while True:
        message = await receive(ws)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["events"]
        assert leaked(event, forbidden) == [], f"a victim's event reached the attacker: {event}"
        found.append(event)
        if stop(event):
            return found


# ---- parties -------------------------------------------------------------------------

# What each builder makes; the guard test checks the matrix needs no more than this.
ATTACKER_ROLES = frozenset({
    "user", "holder", "person", "account", "second_account", "ledger_entry", "transfer",
    "pay_in", "pay_out", "bank_account", "mandate", "document", "event",
})  # fmt: skip
VICTIM_ROLES = ATTACKER_ROLES | {"representative", "webhook_endpoint", "platform"}

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
    """A VALIDATED user with two accounts, a settled pay-in, a transfer between them, a bank
    account with an ACTIVE mandate, a pending pay-out and KYC documents; LEGAL (a legal holder
    and a natural representative) or NATURAL."""
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
    objects["event"] = await _event_about(client, key, objects["transfer"])
    return Party(handle=key, objects=objects)


async def _onboarded(
    client: httpx.AsyncClient, key: PlatformHandle, *, legal: bool
) -> dict[str, str]:
    """A user through KYC: documents submitted, validation requested, VALIDATED."""
    if legal:
        created = await create_legal_user(client, key)
        objects = {"user": created.id, "holder": created.holder_id,
                   "representative": created.representative_id,
                   "person": created.representative_id}  # fmt: skip
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
