"""The tenant matrix: every operation of the schema, aimed at a victim's objects by two
attackers, must show nothing of the victim and change nothing of it.

The operations are enumerated from the executable schema (tests/security/matrix.py): every
root Query field, every Mutation field, `Subscription.events` (over a WebSocket, and over SSE
as a browser's EventSource opens it: GET, a user token as `access_token`, `Last-Event-ID`),
`node`/`nodes` for every type
implementing Node and the Platform's list fields. The victim is a VALIDATED LEGAL user that
owns one object of every Node type (its platform holds a webhook endpoint). The attackers:

- `another-platform`: another platform's API key (that platform has its own user);
- `another-user`: a token of another user of the victim's own platform.

Each read must answer exactly what it answers for an unknown id (a fresh UUIDv7); each write
must be refused (a rejection or an error, never a Success) exactly as for an unknown id, and
leave every row of the victim's platform as it was. The owner's own credentials send the same
requests as a control, so a request refused for a reason other than the scope (a bad input)
cannot pass for a refusal by the scope. A guard test fails when the schema grows a part the
matrix does not know how to aim at the victim.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import graphql
import httpx
import pytest

from gateway.graphql.schema import export_sdl
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.security.conftest import (
    ANOTHER_PLATFORM,
    ANOTHER_USER,
    OTHER,
    SCHEMA,
    World,
    build_victim,
    quiet,
    role_keys,
)
from tests.security.matrix import (
    BULK_RESULTS,
    MAY_NAME_ANOTHER_USERS_OBJECT,
    NODE_ROLES,
    SHARED_WITHIN_A_PLATFORM,
    Selector,
    listed_node_type,
    node_type_names,
    platform_list_fields,
    platform_lists_document,
)
from tests.security.parties import ATTACKER_ROLES, VICTIM_ROLES, Party, user_token
from tests.security.plans import IdSlot, MutationPlan, coverage_gaps, mutation_plans
from tests.security.probes import (
    events_until,
    fresh_id,
    leaked,
    masked,
    post,
    snapshot,
    subscription,
)
from tests.support.calls import mutate, query, success
from tests.support.documents import CREATE_TRANSFER
from tests.support.event_source import RECEIVE_TIMEOUT_S, Block, blocks, get_params
from tests.support.inputs import transfer_input
from tests.support.server import LiveServer, serve

PLANS = mutation_plans(SCHEMA)
NODE_TYPES = node_type_names(SCHEMA)
PLATFORM_LISTS = platform_list_fields(SCHEMA)
CREDENTIALS = (ANOTHER_PLATFORM, ANOTHER_USER)
# What the owner may meet once its objects moved on (the control shares one world).
STATE_REJECTIONS = frozenset({"InvalidStateRejection", "InsufficientFundsRejection"})

NODE = "query ($id: ID!) { node(id: $id) { id __typename } }"
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }"
_selector = Selector(SCHEMA)
ROOTS = (
    f"{{ platform {{ {_selector.named('Platform', 3)} }}"
    f" viewer {{ {_selector.named('User', 3)} }} }}"
)
EVENTS = (
    f"subscription ($after: String) {{ events(after: $after) {{ {_selector.named('Event', 2)} }} }}"
)
EVENT_CURSORS = """query ($after: String) { platform { events(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } } } }"""


# ---- the world (tests/security/conftest.py) ------------------------------------------------


@pytest.fixture(scope="module")
async def owner(http: httpx.AsyncClient, db: Database) -> Owner:
    """A victim of its own, for the control: the owner sends the matrix's requests, with the
    key of a role the mutation allows."""
    key = await make_platform(db)
    return Owner(party=await build_victim(http, key, db), keys=await role_keys(db, key))


@dataclass(frozen=True)
class Owner:
    party: Party
    keys: Mapping[str, PlatformHandle]  # by role


# ---- the guard -----------------------------------------------------------------------------


def test_the_matrix_covers_every_root_field_node_type_and_mutation_input_of_the_schema() -> None:
    gaps = coverage_gaps(SCHEMA, victim_roles=VICTIM_ROLES, attacker_roles=ATTACKER_ROLES)
    assert gaps == [], "the tenant matrix does not cover:\n" + "\n".join(gaps)


GROWN = """
extend type Query { account(id: ID!): Account }
extend type Subscription { transfers: Transfer! }
type Gadget implements Node { id: ID! }
scalar Grams
input FrobnicateInput { gadgetId: ID! userId: ID! weight: Grams! }
extend type Mutation { frobnicate(input: FrobnicateInput!): Boolean! }
extend type Platform { gadgets(first: Int!): [Gadget!]! }
"""


def test_the_guard_names_every_part_of_a_grown_schema_the_matrix_cannot_cover() -> None:
    grown = graphql.build_schema(export_sdl() + GROWN)
    gaps = coverage_gaps(grown, victim_roles=VICTIM_ROLES, attacker_roles=ATTACKER_ROLES)
    assert gaps == [
        "Query.account: a root field the matrix does not know how to check",
        "Subscription.transfers: a root field the matrix does not know how to check",
        "Node type Gadget: no victim object stands for it (add it to NODE_ROLES)",
        "Platform.gadgets: a list field with required arguments",
        "Mutation.frobnicate: ID field FrobnicateInput.gadgetId names no party object"
        " (add it to ID_ROLES)",
        "Mutation.frobnicate: no example value for scalar Grams (FrobnicateInput.weight;"
        " add it to EXAMPLES)",
        "Mutation.frobnicate: no @roles (declare who may call it)",
    ]
    frobnicate = next(plan for plan in mutation_plans(grown) if plan.name == "frobnicate")
    assert not frobnicate.platform_only
    assert {plan.name for plan in mutation_plans(grown) if plan.platform_only} == {
        plan.name for plan in PLANS if plan.platform_only
    }


# ---- reads -------------------------------------------------------------------------------


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("typename", NODE_TYPES)
async def test_a_victims_node_reads_like_an_unknown_id_under_another_credential(
    http: httpx.AsyncClient, world: World, typename: str, credential: str
) -> None:
    victim_id = world.victim.objects[NODE_ROLES[typename]]
    attacker = world.attackers[credential].handle
    unknown = fresh_id()
    own_view = await post(http, NODE, {"id": victim_id}, [], world.victim.handle.headers)
    assert own_view["data"] == {"node": {"id": victim_id, "__typename": typename}}
    assert "errors" not in own_view
    shared = credential == ANOTHER_USER and typename in SHARED_WITHIN_A_PLATFORM
    for document, variables, absent in (
        (NODE, {"id": victim_id}, {"id": unknown}),
        (NODES, {"ids": [victim_id]}, {"ids": [unknown]}),
    ):
        body = await post(http, document, variables, [], attacker.headers)
        if shared:  # the other user's platform is the victim's: both read it alike
            expected = await post(http, document, variables, [], world.victim.handle.headers)
        else:
            expected = await post(http, document, absent, [], attacker.headers)
        assert body == expected


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_platform_and_viewer_show_another_credential_only_its_own_scope(
    http: httpx.AsyncClient, world: World, credential: str
) -> None:
    attacker = world.attackers[credential]
    body = await post(http, ROOTS, {}, [], attacker.handle.headers)
    assert "errors" not in body, body
    found = body["data"]
    assert found["platform"]["id"] == str(attacker.handle.id)
    if credential == ANOTHER_PLATFORM:
        assert attacker.handle.id != world.platform_id
        assert found["viewer"] is None
    else:
        assert found["viewer"]["id"] == attacker.objects["user"]
    assert leaked(body, world.secrets) == []


@pytest.mark.parametrize("listing", [False, True], ids=["as-is", "filtered-and-ordered"])
@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("name", PLATFORM_LISTS)
async def test_no_victim_id_appears_in_a_platform_list_read_by_another_credential(
    http: httpx.AsyncClient, world: World, name: str, credential: str, listing: bool
) -> None:
    attacker = world.attackers[credential]
    document = platform_lists_document(SCHEMA, [name], 3, listing=listing)
    body = await post(http, document, {}, [], attacker.handle.headers)
    assert "errors" not in body, body
    assert leaked(body, world.secrets) == []
    platform = SCHEMA.get_type("Platform")
    assert isinstance(platform, graphql.GraphQLObjectType)
    listed = listed_node_type(platform.fields[name])
    assert listed is not None
    own = attacker.of_type(listed, NODE_ROLES)
    if own is not None:  # the list works: the attacker's own object is in it
        assert leaked(body, [own]) == [own], f"{name} does not list the caller's own {listed}"


# ---- writes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteCase:
    credential: str
    plan: MutationPlan
    victim_slots: tuple[IdSlot, ...]  # the other ID slots name the attacker's own objects

    @property
    def name(self) -> str:
        if not self.plan.slots:
            aim = "no-id-in-input"
        elif self.victim_slots == self.plan.slots:
            aim = "every-id-the-victims"
        else:
            aim = "only-" + "-".join(slot.name for slot in self.victim_slots) + "-the-victims"
        return f"{self.credential}-{self.plan.name}-{aim}"


def _write_cases() -> Iterator[WriteCase]:
    for credential in CREDENTIALS:
        for plan in PLANS:
            if credential == ANOTHER_PLATFORM and plan.key_role is None:
                continue  # no API key may call it: the role matrix checks that they are refused
            yield WriteCase(credential, plan, plan.slots)
            if len(plan.slots) < 2:
                continue
            for slot in plan.slots:
                if credential == ANOTHER_USER and slot.qualified in MAY_NAME_ANOTHER_USERS_OBJECT:
                    continue  # allowed: a transfer may credit another user of the platform
                yield WriteCase(credential, plan, (slot,))


WRITE_CASES = list(_write_cases())


async def _send(
    http: httpx.AsyncClient, plan: MutationPlan, ids: Mapping[IdSlot, str], handle: PlatformHandle
) -> dict[str, Any]:
    variables, uploads = plan.variables(ids)
    return await post(http, plan.document, variables, uploads, handle.headers)


def _changed(before: Mapping[str, list[Any]], after: Mapping[str, list[Any]]) -> list[str]:
    return sorted(
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    )


@pytest.mark.parametrize("case", WRITE_CASES, ids=lambda case: case.name)
async def test_no_mutation_by_another_credential_changes_or_reveals_the_victims_objects(
    http: httpx.AsyncClient, db: Database, world: World, case: WriteCase
) -> None:
    attacker, plan = world.attackers[case.credential], case.plan
    own = {
        slot: attacker.objects[_role(slot)] for slot in plan.slots if slot not in case.victim_slots
    }
    aimed = own | {slot: world.victim.objects[_role(slot)] for slot in case.victim_slots}
    absent = own | {slot: fresh_id() for slot in case.victim_slots}
    before = await snapshot(db.engine, world.tables, world.platform_id)
    assert before["users"], "the snapshot must see the victim's rows"
    handle = _attacking_credential(world, case)
    body = await _send(http, plan, aimed, handle)
    unknown = await _send(http, plan, absent, handle)
    after = await snapshot(db.engine, world.tables, world.platform_id)
    assert _changed(before, after) == [], "the victim's platform changed"
    if not plan.slots and case.credential == ANOTHER_PLATFORM:
        return  # nothing to aim: it acts on the caller's own platform, and not on the victim's
    names = {aimed[s]: s.name for s in case.victim_slots} | {
        absent[s]: s.name for s in case.victim_slots
    }
    assert masked(body, names) == masked(unknown, names), "a victim's id reads unlike an unknown id"
    if "USER_TOKEN" not in plan.roles and case.credential == ANOTHER_USER:
        assert plan.platform_only
        assert body["data"] is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"], body
        return
    assert "errors" not in body, body
    for typename in _answers(body, plan):
        assert not typename.endswith("Success"), body
        if "NotFoundRejection" in plan.payload_members or plan.name in BULK_RESULTS:
            assert typename == "NotFoundRejection", body


def _answers(body: dict[str, Any], plan: MutationPlan) -> list[str]:
    """The payload's type name; for a bulk mutation, each item's result's."""
    payload = body["data"][plan.name]
    field = BULK_RESULTS.get(plan.name)
    items = payload.get(f"{payload['__typename']}_{field}") if field else None
    if items is None:
        return [payload["__typename"]]
    return [item["__typename"] for item in items]


def _attacking_credential(world: World, case: WriteCase) -> PlatformHandle:
    """Another user's token, or the other platform's API key of a role the mutation allows
    (the role matrix, test_role_matrix.py, checks the roles it does not allow)."""
    if case.credential == ANOTHER_USER:
        return world.attackers[ANOTHER_USER].handle
    assert case.plan.key_role is not None
    return world.keys[(OTHER, case.plan.key_role)]


def _role(slot: IdSlot) -> str:
    assert slot.role is not None, slot
    return slot.role


def _control_cases() -> Iterator[tuple[str, MutationPlan]]:
    # Tokens first: the key's own revokeUserTokens would refuse tokens issued the same second.
    yield from (("owner-token", plan) for plan in PLANS if "USER_TOKEN" in plan.roles)
    # Deletions last: the endpoint deleted, enabling or rotating it would find nothing.
    by_key = sorted(
        (plan for plan in PLANS if plan.key_role is not None),
        key=lambda plan: plan.name.startswith("delete"),
    )
    yield from (("owner-key", plan) for plan in by_key)


@pytest.mark.parametrize(
    ("credential", "plan"),
    list(_control_cases()),
    ids=lambda v: v if isinstance(v, str) else v.name,
)
async def test_the_owner_sending_the_matrixs_request_reaches_its_objects(
    http: httpx.AsyncClient, owner: Owner, credential: str, plan: MutationPlan
) -> None:
    party = owner.party
    if credential == "owner-token":
        handle = await user_token(http, party.handle, party.objects["user"])
    else:
        assert plan.key_role is not None
        handle = owner.keys[plan.key_role]
    body = await _send(
        http, plan, {slot: party.objects[_role(slot)] for slot in plan.slots}, handle
    )
    assert "errors" not in body, body
    for typename in _answers(body, plan):
        assert typename.endswith("Success") or typename in STATE_REJECTIONS, body


# ---- statements and CSV exports ----------------------------------------------------------

EXPORTS = ("/exports/transfers.csv", "/exports/pay-ins.csv", "/exports/pay-outs.csv")
STATEMENT = (
    "query ($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { id"
    " ... on Account { statement(from: $from, to: $to) { closingBalance { amount } } } } }"
)


def _window() -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    return {
        "from": (now - dt.timedelta(days=1)).isoformat(),
        "to": (now + dt.timedelta(1)).isoformat(),
    }


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_a_victims_statement_reads_like_an_unknown_account_under_another_credential(
    http: httpx.AsyncClient, world: World, credential: str
) -> None:
    attacker = world.attackers[credential].handle
    account = world.victim.objects["account"]
    path = f"/exports/accounts/{account}/statement.csv"
    unknown = f"/exports/accounts/{fresh_id()}/statement.csv"

    own = await post(http, STATEMENT, {"id": account, **_window()}, [], world.victim.handle.headers)
    body = await post(http, STATEMENT, {"id": account, **_window()}, [], attacker.headers)
    exported = await http.get(path, params=_window(), headers=attacker.headers)
    absent = await http.get(unknown, params=_window(), headers=attacker.headers)

    assert own["data"]["node"]["statement"]["closingBalance"]["amount"] > 0, own
    assert body["data"] == {"node": None}
    assert "errors" not in body
    assert (exported.status_code, exported.json()) == (absent.status_code, absent.json())
    assert exported.status_code == 404


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("path", EXPORTS)
async def test_no_victim_id_appears_in_an_export_by_another_credential(
    http: httpx.AsyncClient, world: World, path: str, credential: str
) -> None:
    attacker = world.attackers[credential]
    owner_export = await http.get(path, params=_window(), headers=world.victim.handle.headers)
    exported = await http.get(path, params=_window(), headers=attacker.handle.headers)

    assert exported.status_code == owner_export.status_code == 200
    own_rows = len(exported.text.splitlines()) - 1
    assert own_rows >= 1, "the attacker exports its own rows"
    assert [secret for secret in world.secrets if secret in exported.text] == []
    assert any(secret in owner_export.text for secret in world.secrets), "the control sees them"


# ---- subscriptions -----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def live_gateway(db: Database, settings: Settings) -> AsyncIterator[LiveServer]:
    async for server in serve(quiet(settings), db):
        yield server


async def _last_cursor(http: httpx.AsyncClient, handle: PlatformHandle) -> str:
    after: str | None = None
    while True:
        page = (await query(http, handle, EVENT_CURSORS, {"after": after}))["platform"]["events"]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            assert after is not None, "the attacker must have events of its own"
            return after


async def _transfer(http: httpx.AsyncClient, party: Party) -> str:
    input = transfer_input(party.objects["account"], party.objects["second_account"], 100)
    payload = await mutate(http, party.handle, CREATE_TRANSFER, input)
    transfer_id: str = success(payload, "CreateTransferSuccess")["transfer"]["id"]
    return transfer_id


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_a_subscriber_under_another_credential_receives_none_of_the_victims_events(
    live_gateway: LiveServer, world: World, credential: str
) -> None:
    attacker = world.attackers[credential]
    forbidden = set(world.secrets)  # checked as each event arrives
    async with httpx.AsyncClient(base_url=live_gateway.http) as http:
        cursor = await _last_cursor(http, attacker.handle)
        authorization = f"Bearer {attacker.handle.key}"
        async with subscription(live_gateway.ws, authorization, EVENTS, {"after": cursor}) as ws:
            first = await _transfer(http, attacker)  # once it arrives, the stream is live
            received = await events_until(
                ws, lambda event: event["objectId"] == first, forbidden=forbidden
            )
            forbidden.add(await _transfer(http, world.victim))
            second = await _transfer(http, attacker)
            received += await events_until(
                ws, lambda event: event["objectId"] == second, forbidden=forbidden
            )
    assert {first, second} <= {event["objectId"] for event in received}


async def _stream_until(
    found: AsyncIterator[Block], object_id: str, *, forbidden: set[str]
) -> list[dict[str, Any]]:
    """Each `next` event (checked as it arrives) up to the one of `object_id`."""
    received = []
    async for block in found:
        if block.event != "next":
            continue
        assert "errors" not in block.payload, block
        event: dict[str, Any] = block.payload["data"]["events"]
        assert leaked(event, forbidden) == [], f"a victim's event reached the attacker: {event}"
        received.append(event)
        if event["objectId"] == object_id:
            return received
    raise AssertionError(f"the stream ended before the event of {object_id}")


async def test_an_event_source_with_another_users_token_receives_none_of_the_victims_events(
    live_gateway: LiveServer, world: World
) -> None:
    """The browser's way in: GET, the user token as `access_token`, resumed by Last-Event-ID."""
    attacker = world.attackers[ANOTHER_USER]
    forbidden = set(world.secrets)
    async with httpx.AsyncClient(base_url=live_gateway.http, timeout=RECEIVE_TIMEOUT_S) as http:
        cursor = await _last_cursor(http, attacker.handle)
        params = get_params(EVENTS, access_token=attacker.handle.key)
        headers = {"Accept": "text/event-stream", "Last-Event-ID": cursor}
        async with http.stream("GET", "/graphql", params=params, headers=headers) as stream:
            assert stream.status_code == 200
            found = blocks(stream)
            first = await _transfer(http, attacker)
            received = await asyncio.wait_for(
                _stream_until(found, first, forbidden=forbidden), RECEIVE_TIMEOUT_S
            )
            forbidden.add(await _transfer(http, world.victim))
            second = await _transfer(http, attacker)
            received += await asyncio.wait_for(
                _stream_until(found, second, forbidden=forbidden), RECEIVE_TIMEOUT_S
            )
    assert {first, second} <= {event["objectId"] for event in received}


async def test_a_last_event_id_of_the_victims_platform_is_refused_to_another_platform(
    live_gateway: LiveServer, world: World
) -> None:
    attacker = world.attackers[ANOTHER_PLATFORM]
    async with httpx.AsyncClient(base_url=live_gateway.http, timeout=RECEIVE_TIMEOUT_S) as http:
        cursor = await _last_cursor(http, world.victim.handle)
        headers = {
            **attacker.handle.headers,
            "Accept": "text/event-stream",
            "Last-Event-ID": cursor,
        }
        response = await http.post("/graphql", json={"query": EVENTS}, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_LAST_EVENT_ID"
