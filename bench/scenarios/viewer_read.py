"""User-token read: what a frontend sends, the viewer with its accounts and balances and each
account's 10 newest ledger entries (bench/queries/viewer_read.graphql), under a user token.

The viewer is the first user of "Bench 100". Once per run, before its first use, the bench
makes 12 transfers of 1 cent back and forth between its two accounts (so that each has more
than 10 entries: `populate` funds an account with one) and issues it a token for a day, all
through the gateway's API with the platform's key (`createTransfer`, `createUserToken`).

Baselines: the hand-written asyncpg endpoint's `/graphql/viewer` route, which checks the
token the gateway's way and answers the gateway's exact JSON (the target), and PostGraphile
reading the same rows by user id (it has no user tokens: for reference, without a target).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bench.config import TARGETS
from bench.context import Bench, Viewer
from bench.load import write_body
from bench.results import Check, ScenarioResult
from bench.scenarios.common import executor_of, measure_turns, post, post_load, post_response, query
from bench.servers import BenchError

UNIT = "requests/s"
TRANSFERS = 12
TOKEN_LIFETIME_S = 24 * 60 * 60  # the longest the gateway issues: longer than any run
VIEWER_ROUTE = "/graphql/viewer"
ENTRIES = 10

_FIRST_USER = (
    "{ platform { users(first: 1) { nodes { id accounts(first: 2) { nodes { id } } } } } }"
)
_ISSUE = """mutation Token($input: CreateUserTokenInput!) {
  createUserToken(input: $input) {
    __typename
    ... on CreateUserTokenSuccess { token }
    ... on Rejection { code message }
  }
}"""


def _transfer(bench: Bench, url: str, debited: str, credited: str, key: str) -> None:
    variables = {
        "input": {
            "debitedAccountId": debited,
            "creditedAccountId": credited,
            "amount": {"amount": 1, "currency": "EUR"},
            "idempotencyKey": key,
        }
    }
    body = {"query": query("create_transfer"), "variables": variables}
    answer = post(url, body, bench.authorization)["data"]["createTransfer"]
    if answer["__typename"] != "CreateTransferSuccess":
        raise BenchError(f"preparing the viewer: a transfer was refused: {answer}")


def viewer(bench: Bench) -> Viewer:
    """The bench's viewer and its token, prepared on first use (see the module's docstring)."""
    if bench.viewer is not None:
        return bench.viewer
    url = bench.server("gateway-pg").url
    user = post(url, {"query": _FIRST_USER}, bench.authorization)["data"]["platform"]["users"]
    node = user["nodes"][0]
    first, second = (account["id"] for account in node["accounts"]["nodes"])
    prefix = f"viewer-{time.time_ns()}"
    for n in range(TRANSFERS):
        debited, credited = (first, second) if n % 2 == 0 else (second, first)
        _transfer(bench, url, debited, credited, f"{prefix}-{n}")
    variables = {"input": {"userId": node["id"], "expiresInSeconds": TOKEN_LIFETIME_S}}
    issued = post(url, {"query": _ISSUE, "variables": variables}, bench.authorization)
    answer = issued["data"]["createUserToken"]
    if answer["__typename"] != "CreateUserTokenSuccess":
        raise BenchError(f"preparing the viewer: no user token: {answer}")
    bench.viewer = Viewer(user_id=node["id"], token=answer["token"])
    return bench.viewer


def postgraphile_body(user_id: str) -> dict[str, Any]:
    return {"query": query("viewer_read_postgraphile"), "variables": {"userId": user_id}}


def _milliseconds(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _entry(
    entry_id: str, kind: str, amount: Any, balance_after: Any, node: dict[str, Any]
) -> tuple[Any, ...]:
    """An entry as both servers can show it (PostGraphile's BigInt is a string, its
    timestamps carry microseconds and an offset)."""
    return (entry_id, kind, int(amount), int(balance_after), _milliseconds(node["createdAt"]))


def _gateway_rows(answer: dict[str, Any]) -> tuple[Any, ...]:
    user = answer["data"]["viewer"]
    accounts = [
        (
            a["id"],
            a["currency"],
            a["balance"]["amount"],
            [
                _entry(e["id"], e["kind"], e["amount"]["amount"], e["balanceAfter"]["amount"], e)
                for e in a["entries"]["nodes"]
            ],
        )
        for a in user["accounts"]["nodes"]
    ]
    return (user["id"], user["email"], accounts)


def _postgraphile_rows(answer: dict[str, Any]) -> tuple[Any, ...]:
    user = answer["data"]["userByRowId"]
    accounts = [
        (
            a["rowId"],
            a["currency"],
            int(a["balance"]),
            [
                _entry(e["rowId"], e["kind"], e["amount"], e["balanceAfter"], e)
                for e in a["ledgerEntriesByPlatformIdAndAccountId"]["nodes"]
            ],
        )
        for a in user["accountsByPlatformIdAndUserId"]["nodes"]
    ]
    return (user["rowId"], user["email"], accounts)


def _checks(bench: Bench, who: Viewer) -> tuple[list[Check], str]:
    body = {"query": query("viewer_read")}
    gateway, response = post_response(bench.server("gateway-pg").url, body, who.authorization)
    handmade = post(bench.server("asyncpg-endpoint").url, body, who.authorization, VIEWER_ROUTE)
    graphile = post(bench.server("postgraphile").url, postgraphile_body(who.user_id))
    rows = _gateway_rows(gateway)
    return [
        Check(
            f"gateway: the viewer, 2 accounts, {ENTRIES} entries each",
            rows[0] == who.user_id
            and len(rows[2]) == 2
            and all(len(account[3]) == ENTRIES for account in rows[2]),
            f"{len(rows[2])} accounts",
        ),
        Check(
            "asyncpg endpoint returns the gateway's exact data", handmade["data"] == gateway["data"]
        ),
        Check(
            "PostGraphile returns the same accounts and entries",
            _postgraphile_rows(graphile) == rows,
        ),
    ], executor_of(response)


def run(bench: Bench) -> ScenarioResult:
    who = viewer(bench)
    checks, executor = _checks(bench, who)
    body = write_body(bench.work_dir / "viewer_read.json", {"query": query("viewer_read")})
    graphile = write_body(
        bench.work_dir / "viewer_read_postgraphile.json", postgraphile_body(who.user_id)
    )
    c, auth = bench.profile.nested_connections, who.authorization
    loads = {
        "gateway": post_load(bench, "gateway-pg", body, auth, connections=c),
        "asyncpg-endpoint": post_load(
            bench, "asyncpg-endpoint", body, auth, connections=c, path=VIEWER_ROUTE
        ),
        "postgraphile": post_load(bench, "postgraphile", graphile, connections=c),
    }
    measurements = measure_turns(bench, loads, UNIT, "user-token read")
    return ScenarioResult(
        key="viewer_read",
        title="User-token read (viewer, accounts, 10 entries each)",
        gateway=measurements["gateway"],
        baselines=[measurements["asyncpg-endpoint"], measurements["postgraphile"]],
        goals=TARGETS["viewer_read"],
        checks=checks,
        notes=["postgraphile: the same rows by user id, no token check; for reference only"],
        executor=executor,
    )
