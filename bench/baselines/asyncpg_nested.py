"""The nested read's same-language limit: Starlette + asyncpg, written by hand.

It answers the bench's nested read (bench/queries/nested_read.graphql) with exactly the JSON
`data` the gateway returns, doing the work the gateway must do and nothing else: check the
API key (one statement: the key's row by its prefix, then a constant-time comparison of the
SHA-256 digest), then read the platform's first 100 users, their persons (holder first) and
their first 2 accounts, one statement each, the same plan as the gateway's dataloaders
(4 statements). No ORM, no GraphQL: rows become dicts, dicts become JSON.

The pool's connections are not reset on release (no transaction or session state is ever
left behind here), so nothing but the 4 statements reaches PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

POOL_SIZE_MAX = 10  # the gateway's SQLAlchemy pool_size
PREFIX_LENGTH = len("mps_test_") + 12
USERS_PAGE = 100
ACCOUNTS_PAGE = 2

KEY_SQL = "SELECT platform_id, digest, revoked_at FROM api_keys WHERE prefix = $1"
USERS_SQL = "SELECT id, email, kind FROM users WHERE platform_id = $1 ORDER BY id LIMIT $2"
PERSONS_SQL = (
    "SELECT id, user_id, kind, first_name, last_name, legal_name FROM persons"
    " WHERE platform_id = $1 AND user_id = ANY($2::uuid[])"
    " ORDER BY user_id, is_holder DESC, id"
)
ACCOUNTS_SQL = (
    "SELECT id, user_id, currency, balance FROM ("
    " SELECT id, user_id, currency, balance,"
    " row_number() OVER (PARTITION BY user_id ORDER BY id) AS position"
    " FROM accounts WHERE platform_id = $1 AND user_id = ANY($2::uuid[])"
    ") AS ranked WHERE position <= $3 ORDER BY user_id, position"
)


async def _no_reset(_connection: asyncpg.Connection) -> None:
    return None


def _person(row: Any) -> dict[str, Any]:
    if row["kind"] == "LEGAL":
        return {"id": str(row["id"]), "legalName": row["legal_name"]}
    return {"id": str(row["id"]), "firstName": row["first_name"], "lastName": row["last_name"]}


def _account(row: Any) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "id": str(row["id"]),
        "currency": currency,
        "balance": {"amount": row["balance"], "currency": currency},
    }


async def _platform_of(connection: asyncpg.Connection, authorization: str) -> uuid.UUID | None:
    key = authorization.removeprefix("Bearer ").strip()
    row = await connection.fetchrow(KEY_SQL, key[:PREFIX_LENGTH])
    if row is None or row["revoked_at"] is not None:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    return row["platform_id"] if hmac.compare_digest(digest, row["digest"]) else None


async def nested_read(connection: asyncpg.Connection, platform_id: uuid.UUID) -> dict[str, Any]:
    users = await connection.fetch(USERS_SQL, platform_id, USERS_PAGE)
    ids = [user["id"] for user in users]
    persons: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in await connection.fetch(PERSONS_SQL, platform_id, ids):
        persons[row["user_id"]].append(_person(row))
    accounts: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in await connection.fetch(ACCOUNTS_SQL, platform_id, ids, ACCOUNTS_PAGE):
        accounts[row["user_id"]].append(_account(row))
    nodes = [
        {
            "id": str(user["id"]),
            "email": user["email"],
            "kind": user["kind"],
            "holder": persons[user["id"]][0],
            "persons": persons[user["id"]],
            "accounts": {"nodes": accounts[user["id"]]},
        }
        for user in users
    ]
    return {"data": {"platform": {"users": {"nodes": nodes}}}}


def create_app() -> Starlette:
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            os.environ["BENCH_DSN"], min_size=1, max_size=POOL_SIZE_MAX, reset=_no_reset
        )
        pools.append(pool)
        try:
            yield
        finally:
            await pool.close()

    async def graphql(request: Request) -> Response:
        await request.json()  # decoded as the gateway must; the query is always the same
        async with pools[0].acquire() as connection:
            platform_id = await _platform_of(connection, request.headers.get("authorization", ""))
            if platform_id is None:
                return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)
            answer = await nested_read(connection, platform_id)
        return Response(json.dumps(answer), media_type="application/json")

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)]
    return Starlette(routes=routes, lifespan=lifespan)
