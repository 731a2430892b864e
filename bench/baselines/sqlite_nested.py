"""The nested read's limit on SQLite: Starlette + the standard library's `sqlite3`, by hand.

The SQLite counterpart of bench/baselines/asyncpg_nested.py: it answers the bench's nested
read (bench/queries/nested_read.graphql) with exactly the JSON `data` the SQLite gateway
returns, on the same file. Same work, same plan: check the API key (the key's row by its
prefix, then a constant-time comparison of the SHA-256 digest), then the platform's first 100
users, their persons (holder first) and their first 2 accounts, one statement each
(4 statements). No ORM, no GraphQL.

One connection in autocommit, opened at startup and used from the event loop's thread: a
read of this size takes well under a millisecond of SQLite's time, so running it in place
beats handing it to a thread (as aiosqlite does). Values are stored the way the gateway's
tables store them on SQLite: UUIDs as 32 hexadecimal digits, enums by name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PREFIX_LENGTH = len("mps_test_") + 12
USERS_PAGE = 100
ACCOUNTS_PAGE = 2

KEY_SQL = "SELECT platform_id, digest, revoked_at FROM api_keys WHERE prefix = ?"
USERS_SQL = "SELECT id, email, kind FROM users WHERE platform_id = ? ORDER BY id LIMIT ?"
PERSONS_SQL = (
    "SELECT id, user_id, kind, first_name, last_name, legal_name FROM persons"
    " WHERE platform_id = ? AND user_id IN ({ids})"
    " ORDER BY user_id, is_holder DESC, id"
)
ACCOUNTS_SQL = (
    "SELECT id, user_id, currency, balance FROM ("
    " SELECT id, user_id, currency, balance,"
    " row_number() OVER (PARTITION BY user_id ORDER BY id) AS position"
    " FROM accounts WHERE platform_id = ? AND user_id IN ({ids})"
    ") AS ranked WHERE position <= ? ORDER BY user_id, position"
)


def _id(stored: str) -> str:
    return str(uuid.UUID(hex=stored))


def _person(row: sqlite3.Row) -> dict[str, Any]:
    if row["kind"] == "LEGAL":
        return {"id": _id(row["id"]), "legalName": row["legal_name"]}
    return {"id": _id(row["id"]), "firstName": row["first_name"], "lastName": row["last_name"]}


def _account(row: sqlite3.Row) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "id": _id(row["id"]),
        "currency": currency,
        "balance": {"amount": row["balance"], "currency": currency},
    }


def _platform_of(connection: sqlite3.Connection, authorization: str) -> str | None:
    key = authorization.removeprefix("Bearer ").strip()
    row = connection.execute(KEY_SQL, (key[:PREFIX_LENGTH],)).fetchone()
    if row is None or row["revoked_at"] is not None:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    platform_id: str = row["platform_id"]
    return platform_id if hmac.compare_digest(digest, row["digest"]) else None


def nested_read(connection: sqlite3.Connection, platform_id: str) -> dict[str, Any]:
    users = connection.execute(USERS_SQL, (platform_id, USERS_PAGE)).fetchall()
    ids = [user["id"] for user in users]
    marks = ",".join("?" * len(ids))
    persons: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in connection.execute(PERSONS_SQL.format(ids=marks), (platform_id, *ids)):
        persons[row["user_id"]].append(_person(row))
    accounts: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = connection.execute(ACCOUNTS_SQL.format(ids=marks), (platform_id, *ids, ACCOUNTS_PAGE))
    for row in rows:
        accounts[row["user_id"]].append(_account(row))
    nodes = [
        {
            "id": _id(user["id"]),
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
    connections: list[sqlite3.Connection] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        connection = sqlite3.connect(os.environ["BENCH_SQLITE_PATH"], isolation_level=None)
        connection.row_factory = sqlite3.Row
        connections.append(connection)
        try:
            yield
        finally:
            connection.close()

    async def graphql(request: Request) -> Response:
        await request.json()  # decoded as the gateway must; the query is always the same
        connection = connections[0]
        platform_id = _platform_of(connection, request.headers.get("authorization", ""))
        if platform_id is None:
            return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)
        return Response(
            json.dumps(nested_read(connection, platform_id)), media_type="application/json"
        )

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)]
    return Starlette(routes=routes, lifespan=lifespan)
