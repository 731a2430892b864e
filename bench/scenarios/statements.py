"""SQL statements per request, per server, counted in PostgreSQL's log (bench/sqlcount.py).

Each server is started once more, connected as its `_log` role; after a few unmeasured
requests (connections opened, caches warm), the log's end is marked, `count_requests`
requests are sent one at a time, and the statements of that role since the mark are counted.
The gateway is counted for the nested reads (100 users; the first 100 of 1,000), the
user-token read, the trivial query and one transfer; PostGraphile and the asyncpg endpoint
for the same reads; pgbench for both transfer scripts (the minimal transfer, and the gateway's
transaction replayed). Only what the selected scenarios measure is counted (`--only`).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import specs
from bench.baselines.pgbench_transfer import (
    GATEWAY_FILE,
    MINIMAL_FILE,
    catch_up_event_counter,
    run_pgbench,
)
from bench.context import Bench
from bench.data import role_name
from bench.scenarios import nested_read, viewer_read
from bench.scenarios.common import pgbench_transfers, post, query
from bench.servers import ServerSpec
from bench.sqlcount import StatementCount
from bench.tools import say

WARM_UP_REQUESTS = 3
LOG_SETTLE_S = 0.3
Body = Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Operation:
    """What to send for one counted operation: a body, a credential, a path."""

    body: Body
    authorization: str = ""
    path: str = "/graphql"


def _count(bench: Bench, role: str, send: Callable[[], object], requests: int) -> StatementCount:
    assert bench.log is not None
    for _ in range(WARM_UP_REQUESTS):
        send()
    mark = asyncio.run(bench.log.mark())
    for _ in range(requests):
        send()
    time.sleep(LOG_SETTLE_S)
    found = asyncio.run(bench.log.statements_since(mark, role=role, database=bench.pg.database))
    return StatementCount(requests=requests, statements=found)


def _summary(count: StatementCount) -> dict[str, Any]:
    return {
        "statements_per_request": count.per_request,
        "queries_per_request": count.queries_per_request,
        "statements_of_one_request": count.sample(),
    }


def transfer_body(bench: Bench, prefix: str) -> Body:
    accounts = bench.postgres.platform.account_ids
    serial = itertools.count()

    def body() -> dict[str, Any]:
        n = next(serial)
        debited, credited = accounts[n % len(accounts)], accounts[(n + 1) % len(accounts)]
        variables = {
            "input": {
                "debitedAccountId": debited,
                "creditedAccountId": credited,
                "amount": {"amount": 1, "currency": "EUR"},
                "idempotencyKey": f"{prefix}-{n}",
            }
        }
        return {"query": query("create_transfer"), "variables": variables}

    return body


def _counted(
    bench: Bench, spec: ServerSpec, role: str, operations: dict[str, Operation]
) -> dict[str, Any]:
    """Start `spec`, count the statements of each of `operations`, stop it."""
    server = bench.servers.start(spec)
    try:
        counts = {}
        for name, op in operations.items():

            def send(op: Operation = op) -> object:
                return post(server.url, op.body(), op.authorization, op.path)

            counts[name] = _summary(_count(bench, role, send, bench.profile.count_requests))
        return counts
    finally:
        bench.servers.stop(server)


def _reads(bench: Bench, wanted: set[str], path: str = "/graphql") -> dict[str, Operation]:
    """The gateway's reads, which the asyncpg endpoint answers too (its viewer at `path`)."""
    nested = {"query": query("nested_read")}
    operations = {}
    if "nested_read" in wanted:
        operations["nested_read"] = Operation(lambda: nested, bench.authorization)
    if "nested_read_1000" in wanted:
        operations["nested_read_1000"] = Operation(lambda: nested, bench.large_authorization)
    if "viewer_read" in wanted:
        token = viewer_read.viewer(bench).authorization
        operations["viewer_read"] = Operation(lambda: {"query": query("viewer_read")}, token, path)
    return operations


def _gateway(bench: Bench, wanted: set[str]) -> dict[str, Any]:
    role = role_name("gateway", logged=True)
    spec = specs.gateway("gateway-pg-log", bench.pg.url(role), bench.work_dir)
    operations = _reads(bench, wanted)
    if "trivial" in wanted:
        operations["trivial"] = Operation(lambda: {"query": "{ __typename }"}, bench.authorization)
    if "transfer" in wanted:
        body = transfer_body(bench, f"count-{time.time_ns()}")
        operations["transfer"] = Operation(body, bench.authorization)
    return _counted(bench, spec, role, operations) if operations else {}


def _postgraphile(bench: Bench, wanted: set[str]) -> dict[str, Any]:
    role = role_name("postgraphile", logged=True)
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "nested_read": lambda: nested_read.postgraphile_body(bench.platform_id),
        "nested_read_1000": lambda: nested_read.postgraphile_body(bench.postgres.large_platform_id),
        "viewer_read": lambda: viewer_read.postgraphile_body(viewer_read.viewer(bench).user_id),
    }
    operations = {
        name: Operation(functools.partial(dict, make()))
        for name, make in bodies.items()
        if name in wanted
    }
    if not operations:
        return {}
    spec = specs.postgraphile("postgraphile-log", bench.pg.dsn(role), bench.node)
    return _counted(bench, spec, role, operations)


def _pgbench(bench: Bench, script_path: Path) -> dict[str, Any]:
    role = role_name("pgbench", logged=True)
    run = pgbench_transfers(bench, amount_max=1, clients=1, threads=1, logged=True)
    requests = bench.profile.count_requests

    def send() -> None:
        run_pgbench(run, script_path, bench.work_dir, limit=["-t", "1"])

    # pgbench's own connection statements are not counted: it sends none but the script's.
    counted = {"transfer": _summary(_count(bench, role, send, requests))}
    if script_path.name == MINIMAL_FILE:
        dsn = bench.pg.dsn("postgres")
        asyncio.run(catch_up_event_counter(dsn, platform_id=bench.platform_id))
    return counted


# What each scenario has counted: the operations of its servers.
OPERATIONS = {
    "nested_read": "nested_read",
    "nested_read_1000": "nested_read_1000",
    "viewer_read": "viewer_read",
    "trivial": "trivial",
    "transfers_postgres": "transfer",
}


def count_all(bench: Bench, scenarios: list[str]) -> dict[str, Any]:
    """Statements per request of every PostgreSQL server that `scenarios` measure, or why
    they could not be counted."""
    if bench.log is None:
        return {"unavailable": bench.log_problem}
    wanted = {OPERATIONS[name] for name in scenarios if name in OPERATIONS}
    if not wanted:
        return {}
    say("counting SQL statements per request (PostgreSQL log, *_log roles)")
    asyncpg_role = role_name("asyncpg", logged=True)
    counts: dict[str, Any] = {"log": bench.log.path, "gateway": _gateway(bench, wanted)}
    counts["postgraphile"] = _postgraphile(bench, wanted)
    asyncpg_reads = _reads(bench, wanted, viewer_read.VIEWER_ROUTE)
    if asyncpg_reads:
        spec = specs.asyncpg_endpoint("asyncpg-endpoint-log", bench.pg.dsn(asyncpg_role))
        counts["asyncpg-endpoint"] = _counted(bench, spec, asyncpg_role, asyncpg_reads)
    if "transfer" in wanted:
        counts["pgbench-minimal"] = _pgbench(bench, bench.work_dir / MINIMAL_FILE)
        counts["pgbench-gateway-tx"] = _pgbench(bench, bench.work_dir / GATEWAY_FILE)
    return {name: counted for name, counted in counts.items() if counted}
