"""SQL statements per request, per server, counted in PostgreSQL's log (bench/sqlcount.py).

Each server is started once more, connected as its `_log` role; after a few unmeasured
requests (connections opened, caches warm), the log's end is marked, `count_requests`
requests are sent one at a time, and the statements of that role since the mark are counted.
The gateway is counted for the nested read, the trivial query and one transfer; PostGraphile
and the asyncpg endpoint for the nested read; pgbench for its transfer script.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

from bench import specs
from bench.baselines.pgbench_transfer import run_pgbench
from bench.context import Bench
from bench.data import role_name
from bench.scenarios.common import pgbench_transfers, post, query
from bench.servers import ServerSpec
from bench.sqlcount import StatementCount
from bench.tools import say

WARM_UP_REQUESTS = 3
LOG_SETTLE_S = 0.3
Body = Callable[[], dict[str, Any]]


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


def _counted(bench: Bench, spec: ServerSpec, role: str, bodies: dict[str, Body]) -> Any:
    """Start `spec`, count the statements of each operation of `bodies`, stop it."""
    server = bench.servers.start(spec)
    try:
        counts = {}
        for operation, body in bodies.items():
            send = lambda body=body: post(server.url, body(), bench.authorization)  # noqa: E731
            counts[operation] = _summary(_count(bench, role, send, bench.profile.count_requests))
        return counts
    finally:
        bench.servers.stop(server)


def _gateway(bench: Bench) -> dict[str, Any]:
    role = role_name("gateway", logged=True)
    spec = specs.gateway("gateway-pg-log", bench.pg.url(role), bench.work_dir)
    nested = {"query": query("nested_read")}
    bodies: dict[str, Body] = {
        "nested_read": lambda: nested,
        "trivial": lambda: {"query": "{ __typename }"},
        "transfer": transfer_body(bench, f"count-{time.time_ns()}"),
    }
    return _counted(bench, spec, role, bodies)  # type: ignore[no-any-return]


def _pgbench(bench: Bench, script_path: Any) -> dict[str, Any]:
    role = role_name("pgbench", logged=True)
    run = pgbench_transfers(bench, amount_max=1, clients=1, threads=1, logged=True)
    requests = bench.profile.count_requests

    def send() -> None:
        run_pgbench(run, script_path, bench.work_dir, limit=["-t", "1"])

    # pgbench's own connection statements are not counted: it sends none but the script's.
    return {"transfer": _summary(_count(bench, role, send, requests))}


def count_all(
    bench: Bench, pgbench_script: Any, postgraphile_body: dict[str, Any]
) -> dict[str, Any]:
    """Statements per request of every PostgreSQL server, or why they could not be counted."""
    if bench.log is None:
        return {"unavailable": bench.log_problem}
    say("counting SQL statements per request (PostgreSQL log, *_log roles)")
    pg_role = role_name("postgraphile", logged=True)
    asyncpg_role = role_name("asyncpg", logged=True)
    return {
        "log": bench.log.path,
        "gateway": _gateway(bench),
        "postgraphile": _counted(
            bench,
            specs.postgraphile("postgraphile-log", bench.pg.dsn(pg_role), bench.node),
            pg_role,
            {"nested_read": lambda: postgraphile_body},
        ),
        "asyncpg-endpoint": _counted(
            bench,
            specs.asyncpg_endpoint("asyncpg-endpoint-log", bench.pg.dsn(asyncpg_role)),
            asyncpg_role,
            {"nested_read": lambda: {"query": query("nested_read")}},
        ),
        "pgbench": _pgbench(bench, pgbench_script),
    }
