"""Hand-written documents for what a compiler gets wrong first: aliases, one field twice with
different arguments, fragments on interfaces and unions, `__typename` everywhere, directives
with variables, nested connections, ids of every kind, `viewer`, and the null a FORBIDDEN
non-null field propagates. Each is compared under every credential on each store, and some
answers are checked for the case they are about, so that a document that stopped reaching it
is noticed."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import graphql
import pytest

from tests.compiled.generated import MALFORMED_IDS, SCHEMA, UNKNOWN_IDS
from tests.compiled.harness import Batch, HttpRequest, Tally, Twin, graphql_request
from tests.compiled.seed import World

CREDENTIALS = ["BACKEND", "READONLY", "USER_TOKEN"]

PERSON = """
fragment Somebody on Person {
  __typename id nationality address { __typename line1 line2 postalCode city region country }
  ... on NaturalPerson { firstName lastName birthDate roles isUserRepresentative
    ownershipPercentage legalPerson { __typename id legalName } }
  ... on LegalPerson { legalName category registrationNumber
    representatives { __typename id firstName } beneficialOwners { id ownershipPercentage } }
}"""

OPERATION = """
fragment Moved on Operation {
  __typename
  ... on Transfer { id amount { amount currency decimal } debitedAccountId creditedAccountId }
  ... on PayIn { id method payInStatus: status wireReference amountReceived { amount } valueDate }
  ... on PayOut { id payOutStatus: status label bankAccount { iban } }
  ... on TransferReversal { id transfer { id } }
  ... on Refund { id refundStatus: status payIn { id } }
}"""

EVERY_NODE = (
    """
fragment Anything on Node {
  __typename id
  ... on User { email qualifiedAt blockedReason validationMessage holder { ...Somebody } }
  ... on Person { ...Somebody }
  ... on Account { label accountStatus: status balance { decimal } }
  ... on LedgerEntry { kind amount { amount } balanceAfter { amount } operation { ...Moved } }
  ... on Transfer { label fee { amount } reversedAmount { amount } reversals { id } }
  ... on PayIn { fee { amount } mandate { id status } refunds { id } refundedAmount { amount } }
  ... on PayOut { failureReason debitedAccount { id } }
  ... on DirectDebitMandate { mandateStatus: status failureReason bankAccount { id bic } }
  ... on BankAccount { ownerName bic }
  ... on KycDocument { documentType: type documentStatus: status expiresOn refusalReason
    person { __typename id } }
  ... on Event { type objectId previousStatus status changedFields reasons
    actor { kind role apiKeyId userId apiKey { id prefix label role revokedAt } }
    object { __typename id } }
  ... on WebhookEndpoint { url eventTypes description enabled disabledReason }
  ... on Platform { name environment allowedCurrencies }
}"""
    + PERSON
    + OPERATION
)

ALIASES = """query Aliases($small: Int!, $large: Int!) {
  platform {
    __typename
    firstUsers: users(first: $small) { totalCount pageInfo { hasNextPage endCursor }
      nodes { __typename mail: email id } }
    moreUsers: users(first: $large) { totalCount nodes { id } }
    lastUsers: users(last: $small) { pageInfo { hasPreviousPage startCursor } nodes { id } }
    legal: users(first: $large, filter: {kind: LEGAL}) { totalCount nodes { id kind } }
    same: name
    name
    id1: id
    id
  }
}"""

NESTED = """query Nested($users: Int, $accounts: Int, $entries: Int, $after: String) {
  platform { __typename
    users(first: $users) { __typename totalCount
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
      edges { __typename cursor node { __typename id kind
        accounts(first: $accounts) { __typename totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { __typename id balance { amount currency }
            entries(first: $entries, after: $after) { __typename totalCount
              pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
              edges { cursor node { __typename id kind amount { amount } } } } } } } } } }
  }
}"""

DIRECTIVES = """query Directives($id: ID!, $withUser: Boolean!, $skipEntries: Boolean!) {
  node(id: $id) {
    __typename
    id @skip(if: $withUser)
    ... on Account @include(if: $withUser) { user { id email } }
    ... on Account { entries(first: 2) @skip(if: $skipEntries) { totalCount } }
    ...AccountBits @include(if: $skipEntries)
  }
}
fragment AccountBits on Account { label balance { amount } }"""

NODES = """query Nodes($ids: [ID!]!) { nodes(ids: $ids) { ...Anything } }""" + EVERY_NODE
NODE = """query Node($id: ID!) { node(id: $id) { ...Anything } }""" + EVERY_NODE

VIEWER = (
    """query Viewer($first: Int) {
  viewer { __typename id email kind validationStatus qualifiedAt
    holder { ...Somebody } persons { ...Somebody }
    accounts(first: $first) { totalCount nodes { id entries(last: 2) { totalCount } } }
    requirements { code documentType message person { id } }
    bankAccounts { id } documents { id status }
    platform { id name } }
  platform { id }
}"""
    + PERSON
)

# A transfer's creditedAccount is an Account! that a user token may not read when the account
# is another user's: FORBIDDEN, and the null goes up to the nullable `node`.
FORBIDDEN_CREDIT = """query ForeignCredit($id: ID!) {
  node(id: $id) { __typename id
    ... on Transfer { debitedAccountId creditedAccountId debitedAccount { id }
      creditedAccount { id balance { amount } } } }
  same: node(id: $id) { id ... on Transfer { creditedAccountId } }
}"""

DELIVERIES = """query Deliveries($first: Int, $after: String) {
  platform { webhookEndpoints { __typename id enabled description eventTypes
    deliveries(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      nodes { __typename id status attemptCount nextAttemptAt lastStatusCode createdAt
        attempts { attempt statusCode error durationMs } event { id type } } } } }
}"""

ENTRY_PAGES = """query EntryPages($id: ID!, $f: Int, $l: Int, $a: String, $b: String) {
  node(id: $id) { ... on Account { entries(first: $f, last: $l, after: $a, before: $b) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } } } } }
}"""
VALID = [
    ALIASES,
    NESTED,
    DIRECTIVES,
    NODES,
    NODE,
    VIEWER,
    FORBIDDEN_CREDIT,
    DELIVERIES,
    ENTRY_PAGES,
]

INVALID = [
    "{ platform { nope } }",
    "query Q($id: ID!) { node(id: $id) { id } }",  # the variable is missing
    "{ node(id: 1) { ... on Nothing { id } } }",
    "{ platform { users(first: 1) { nodes { id } } users(first: 2) { nodes { id } } } }",
    "{ viewer { id",
    "query A { viewer { id } } query B { platform { id } }",  # which operation?
]


def _requests(world: World) -> list[tuple[str, dict[str, Any] | None]]:
    ids = [world.ids[name][0] for name in sorted(world.ids)]
    strangers = [world.other_ids[0], world.other_ids[-1], *UNKNOWN_IDS, *MALFORMED_IDS]
    entries = world.counts["entries"]
    last_entry = world.cursors["entries"][-1]
    found: list[tuple[str, dict[str, Any] | None]] = [
        (ALIASES, {"small": 1, "large": 3}),
        (ALIASES, {"small": 0, "large": 100}),
        (NESTED, {"users": 3, "accounts": 2, "entries": 2}),
        (NESTED, {"users": 100, "accounts": 100, "entries": 100}),
        (NESTED, {"users": 2, "accounts": 1, "entries": 3, "after": last_entry}),
        (NESTED, {"users": 0, "accounts": 0, "entries": 0}),
        (NODES, {"ids": ids + strangers}),
        (NODES, {"ids": world.all_ids[:100]}),
        (VIEWER, {"first": 1}),
        (VIEWER, {"first": 0}),
        (FORBIDDEN_CREDIT, {"id": world.foreign_credit}),
        (FORBIDDEN_CREDIT, {"id": world.victim["transfer"]}),
        (DELIVERIES, {"first": 1}),
        (DELIVERIES, {"first": 100}),
        (DELIVERIES, {"first": 1, "after": "bogus"}),
    ]
    found += [(NODE, {"id": node_id}) for node_id in ids + strangers]
    for with_user in (True, False):
        for skip in (True, False):
            variables = {"id": world.busy_account, "withUser": with_user, "skipEntries": skip}
            found.append((DIRECTIVES, variables))
    entry_pages = ENTRY_PAGES
    cursors = world.cursors["entries"]
    for page in (
        {"f": entries},
        {"f": entries + 1},
        {"l": entries},
        {"l": 1},
        {"f": 3, "a": cursors[-1]},
        {"l": 3, "b": cursors[0]},
        {"f": 3, "a": cursors[2]},
        {"l": 2, "b": cursors[-1]},
        {"f": 1, "l": 1},
        {"f": 2, "a": cursors[0], "b": cursors[-1]},
    ):
        found.append((entry_pages, {"id": world.busy_account, **page}))
    return found + [(text, None) for text in INVALID]


@pytest.mark.parametrize("credential", CREDENTIALS)
async def test_edge_cases_answer_alike_under_both_executors(
    twin: Twin, world: World, tally: Tally, credential: str
) -> None:
    batch = Batch(twin)
    answers: dict[int, Any] = {}
    requests = _requests(world)
    for index, (query, variables) in enumerate(requests):
        request = graphql_request(world.credentials[credential], query, variables)
        answers[index] = await batch.compare(request)
    batch.check()
    tally.add(batch.tally)
    assert batch.sent == len(requests)
    credit = next(i for i, r in enumerate(requests) if r[0] == FORBIDDEN_CREDIT)
    body = answers[credit]
    if credential == "USER_TOKEN":  # the forbidden non-null field nulls its nullable parent
        assert body["data"]["node"] is None, body
        assert body["data"]["same"]["creditedAccountId"], body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    else:
        assert body["data"]["node"]["creditedAccount"]["id"] == world.neighbour["account"]
    for index, (query, _) in enumerate(requests):
        if query in INVALID:
            assert answers[index]["errors"], answers[index]
            assert not answers[index].get("data"), answers[index]
    viewer = answers[next(i for i, r in enumerate(requests) if r[0] == VIEWER)]
    expected_viewer = world.victim["user"] if credential == "USER_TOKEN" else None
    assert (viewer["data"]["viewer"] or {}).get("id") == expected_viewer, viewer


def test_the_edge_cases_are_valid_documents() -> None:
    """So that a schema change cannot turn them into validation errors unnoticed."""
    for text in VALID:
        assert not graphql.validate(SCHEMA, graphql.parse(text)), text


async def test_a_get_request_answers_alike(twin: Twin, world: World, tally: Tally) -> None:
    """A query over GET (variables in the URL) reaches the executors as a POST does."""
    batch = Batch(twin)
    variables = {"id": world.busy_account}
    params = urlencode({"query": NODE, "variables": json.dumps(variables)})
    for credential in CREDENTIALS:
        headers = {**world.credentials[credential].headers, "Accept": "application/json"}
        request = HttpRequest("GET", f"/graphql?{params}", tuple(headers.items()), b"", NODE)
        await batch.compare(request)
    batch.check()
    tally.add(batch.tally)
    assert batch.tally.outcome["data"] == len(CREDENTIALS), batch.tally.summary()
