"""Nested read: a platform's first 100 users with holders, persons and accounts.

Three scenarios, one query (bench/queries/nested_read.graphql):

- `nested_read`: the gateway on PostgreSQL, platform "Bench 100", against PostGraphile 5
  (the same read in its own naming, bench/queries/nested_read_postgraphile.graphql) and the
  hand-written Starlette + asyncpg endpoint (the gateway's exact JSON);
- `nested_read_1000`: the same on "Bench 1000" (its first 100 of 1,000 users, with that
  platform's API key), against the same two baselines on that platform;
- `nested_read_sqlite`: the gateway on SQLite against the hand-written Starlette + sqlite3
  endpoint on the same file; PostGraphile's PostgreSQL figure for reference only (another
  store, so no target and no data comparison: transfers have moved the two apart).

Before any load, one answer of each server is compared: the same users in the same order,
the same holders, persons and accounts, the same balances; the hand-written endpoints'
`data` equal to the gateway's. That first request of the gateway also records which executor
answered (X-MPS-Execution). The servers are measured in turn within each run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from bench.config import TARGETS
from bench.context import Bench
from bench.load import write_body
from bench.results import Check, ScenarioResult
from bench.scenarios.common import executor_of, measure_turns, post, post_load, post_response, query

UNIT = "requests/s"
USERS = 100


def postgraphile_body(platform_id: uuid.UUID) -> dict[str, Any]:
    return {
        "query": query("nested_read_postgraphile"),
        "variables": {"platformId": str(platform_id)},
    }


def _person(node: dict[str, Any]) -> tuple[Any, ...]:
    if node.get("kind", "NATURAL" if "firstName" in node else "LEGAL") == "LEGAL":
        return (node.get("rowId") or node["id"], node["legalName"])
    return (node.get("rowId") or node["id"], node["firstName"], node["lastName"])


def _gateway_users(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            user["id"],
            user["email"],
            user["kind"],
            _person(user["holder"]),
            [_person(p) for p in user["persons"]],
            [
                (a["id"], a["currency"], int(a["balance"]["amount"]))
                for a in user["accounts"]["nodes"]
            ],
        )
        for user in answer["data"]["platform"]["users"]["nodes"]
    ]


def _postgraphile_users(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            user["rowId"],
            user["email"],
            user["kind"],
            _person(user["holder"]["nodes"][0]),
            [_person(p) for p in user["persons"]["nodes"]],
            [(a["rowId"], a["currency"], int(a["balance"])) for a in user["accounts"]["nodes"]],
        )
        for user in answer["data"]["platformByRowId"]["usersByPlatformId"]["nodes"]
    ]


@dataclass(frozen=True, slots=True)
class Setup:
    """One nested-read scenario: which gateway, which credential, which baselines."""

    key: str
    title: str
    gateway: str  # the gateway server's name in bench.context
    authorization: str
    handmade: str  # the hand-written endpoint: its server name (also its name in the results)
    postgraphile_platform: uuid.UUID
    postgraphile_compared: bool  # False: PostGraphile's figure is for reference only


def _checks(bench: Bench, setup: Setup) -> tuple[list[Check], str]:
    body, auth = {"query": query("nested_read")}, setup.authorization
    gateway, response = post_response(bench.server(setup.gateway).url, body, auth)
    handmade = post(bench.server(setup.handmade).url, body, auth)
    users = _gateway_users(gateway)
    checks = [
        Check(
            f"gateway: {USERS} users, each with a holder and 2 accounts",
            len(users) == USERS and all(len(u[5]) == 2 for u in users),
            f"{len(users)} users",
        ),
        Check(
            f"{setup.handmade} returns the gateway's exact data",
            handmade["data"] == gateway["data"],
        ),
    ]
    if setup.postgraphile_compared:
        graphile = post(
            bench.server("postgraphile").url, postgraphile_body(setup.postgraphile_platform)
        )
        checks.append(
            Check(
                "PostGraphile returns the same users, persons and balances",
                _postgraphile_users(graphile) == users,
            )
        )
    return checks, executor_of(response)


def _run(bench: Bench, setup: Setup) -> ScenarioResult:
    checks, executor = _checks(bench, setup)
    nested = write_body(bench.work_dir / "nested_read.json", {"query": query("nested_read")})
    graphile = write_body(
        bench.work_dir / f"{setup.key}_postgraphile.json",
        postgraphile_body(setup.postgraphile_platform),
    )
    c, auth = bench.profile.nested_connections, setup.authorization
    loads = {
        "gateway": post_load(bench, setup.gateway, nested, auth, connections=c),
        setup.handmade: post_load(bench, setup.handmade, nested, auth, connections=c),
        "postgraphile": post_load(bench, "postgraphile", graphile, connections=c),
    }
    measurements = measure_turns(bench, loads, UNIT, setup.title)
    notes = [] if setup.postgraphile_compared else ["postgraphile: PostgreSQL, for reference only"]
    baselines = [measurements["postgraphile"], measurements[setup.handmade]]
    return ScenarioResult(
        key=setup.key,
        title=setup.title,
        gateway=measurements["gateway"],
        baselines=baselines if setup.postgraphile_compared else baselines[::-1],
        goals=TARGETS[setup.key],
        checks=checks,
        notes=notes,
        executor=executor,
    )


def run(bench: Bench) -> ScenarioResult:
    setup = Setup(
        key="nested_read",
        title="Nested read (PostgreSQL, 100 users)",
        gateway="gateway-pg",
        authorization=bench.authorization,
        handmade="asyncpg-endpoint",
        postgraphile_platform=bench.platform_id,
        postgraphile_compared=True,
    )
    return _run(bench, setup)


def run_large(bench: Bench) -> ScenarioResult:
    setup = Setup(
        key="nested_read_1000",
        title="Nested read (PostgreSQL, first 100 of 1,000 users)",
        gateway="gateway-pg",
        authorization=bench.large_authorization,
        handmade="asyncpg-endpoint",
        postgraphile_platform=bench.postgres.large_platform_id,
        postgraphile_compared=True,
    )
    return _run(bench, setup)


def run_sqlite(bench: Bench) -> ScenarioResult:
    setup = Setup(
        key="nested_read_sqlite",
        title="Nested read (SQLite, 100 users)",
        gateway="gateway-sqlite",
        authorization=bench.authorization,
        handmade="sqlite-endpoint",
        postgraphile_platform=bench.platform_id,
        postgraphile_compared=False,
    )
    return _run(bench, setup)
