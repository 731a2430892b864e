"""Nested read on PostgreSQL: the platform's 100 users with holders, persons and accounts.

The gateway answers bench/queries/nested_read.graphql; PostGraphile 5 answers the same read in
its own naming (bench/queries/nested_read_postgraphile.graphql); the hand-written Starlette +
asyncpg endpoint answers with the gateway's exact JSON. Before any load, one answer of each
is compared: the same users in the same order, the same holders, persons and accounts, the
same balances. The servers are measured in turn within each run, under the same wrk load.
"""

from __future__ import annotations

from typing import Any

from bench.context import Bench
from bench.load import write_body
from bench.results import Check, ScenarioResult, Target
from bench.scenarios.common import measure_turns, post, query, wrk

TARGET = Target("postgraphile", 0.5)
UNIT = "requests/s"


def postgraphile_body(bench: Bench) -> dict[str, Any]:
    return {
        "query": query("nested_read_postgraphile"),
        "variables": {"platformId": str(bench.platform_id)},
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


def same_data_checks(bench: Bench) -> list[Check]:
    auth = bench.authorization
    gateway = post(bench.server("gateway-pg").url, {"query": query("nested_read")}, auth)
    graphile = post(bench.server("postgraphile").url, postgraphile_body(bench))
    handmade = post(bench.server("asyncpg-endpoint").url, {"query": query("nested_read")}, auth)
    users = _gateway_users(gateway)
    return [
        Check(
            "gateway: 100 users, each with a holder and 2 accounts",
            len(users) == 100 and all(len(u[5]) == 2 for u in users),
            f"{len(users)} users",
        ),
        Check(
            "PostGraphile returns the same users, persons and balances",
            _postgraphile_users(graphile) == users,
        ),
        Check(
            "asyncpg endpoint returns the gateway's exact data", handmade["data"] == gateway["data"]
        ),
    ]


def run(bench: Bench) -> ScenarioResult:
    checks = same_data_checks(bench)
    nested = write_body(bench.work_dir / "nested_read.json", {"query": query("nested_read")})
    graphile = write_body(
        bench.work_dir / "nested_read_postgraphile.json", postgraphile_body(bench)
    )
    c = bench.profile.nested_connections
    loads = {
        "gateway": wrk(
            bench,
            bench.server("gateway-pg").url,
            "post.lua",
            str(nested),
            bench.authorization,
            connections=c,
        ),
        "postgraphile": wrk(
            bench, bench.server("postgraphile").url, "post.lua", str(graphile), connections=c
        ),
        "asyncpg-endpoint": wrk(
            bench,
            bench.server("asyncpg-endpoint").url,
            "post.lua",
            str(nested),
            bench.authorization,
            connections=c,
        ),
    }
    measurements = measure_turns(bench, loads, UNIT, "nested read")
    return ScenarioResult(
        key="nested_read",
        title="Nested read (PostgreSQL, 100 users)",
        gateway=measurements["gateway"],
        baselines=[measurements["postgraphile"], measurements["asyncpg-endpoint"]],
        target=TARGET,
        checks=checks,
    )
