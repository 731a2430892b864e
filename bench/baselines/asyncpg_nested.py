"""The reads' same-language limit: Starlette + asyncpg, written by hand.

It answers the bench's nested read (bench/queries/nested_read.graphql) with exactly the JSON
`data` the gateway returns, doing the work the gateway must do and nothing else: check the
API key (one statement: the key's row by its prefix, then a constant-time comparison of the
SHA-256 digest), then read the platform's first 100 users, their persons (holder first) and
their first 2 accounts, one statement each, the same plan as the gateway's dataloaders
(4 statements). No ORM, no GraphQL: rows become dicts, dicts become JSON.

`POST /graphql/viewer` answers the user-token read (bench/queries/viewer_read.graphql) the
same way: check the user token as the gateway does (gateway/services/user_tokens.py: the
subject it claims, one statement for the platform's secret, the issuing key and the user,
then the HS256 signature, audience and lifetime, a key not revoked, an ACTIVE user, a token
issued after the user's `tokens_valid_after`), then the user's first 10 accounts and each
account's 10 newest ledger entries, one statement each (3 statements: the user's own columns
come with the token check).

The pool's connections are not reset on release (no transaction or session state is ever
left behind here), so nothing but the 4 statements reaches PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
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
import jwt
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

JWT_AUDIENCE = "mps-gateway"
JWT_ALGORITHM = "HS256"
JWT_CLAIMS = ["exp", "iat", "sub", "pid", "kid", "jti"]
VIEWER_ACCOUNTS_PAGE = 10
VIEWER_ENTRIES_PAGE = 10

SUBJECT_SQL = (
    "SELECT p.user_token_secret, k.revoked_at, u.id, u.email, u.status, u.tokens_valid_after"
    " FROM platforms p JOIN api_keys k ON k.platform_id = p.id"
    " JOIN users u ON u.platform_id = p.id WHERE p.id = $1 AND k.id = $2 AND u.id = $3"
)
VIEWER_ACCOUNTS_SQL = (
    "SELECT id, currency, balance FROM accounts WHERE platform_id = $1 AND user_id = $2"
    " ORDER BY id LIMIT $3"
)
ENTRIES_SQL = (
    "SELECT id, account_id, kind, amount, balance_after, currency, created_at FROM ("
    " SELECT id, account_id, kind, amount, balance_after, currency, created_at,"
    " row_number() OVER (PARTITION BY account_id ORDER BY id DESC) AS position"
    " FROM ledger_entries WHERE platform_id = $1 AND account_id = ANY($2::uuid[])"
    ") AS ranked WHERE position <= $3 ORDER BY account_id, position"
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


def _claimed(token: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID] | None:
    """(platform, user, issuing key) as the token claims them, before any check."""
    if len(token) > 1024 or token.count(".") != 2:
        return None
    try:
        if jwt.get_unverified_header(token).get("alg") != JWT_ALGORITHM:
            return None
        claims = jwt.decode(token, options={"verify_signature": False})
        return uuid.UUID(claims["pid"]), uuid.UUID(claims["sub"]), uuid.UUID(claims["kid"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


async def _viewer_of(connection: asyncpg.Connection, authorization: str) -> Any:
    """The user row a valid user token acts for, or None."""
    token = authorization.removeprefix("Bearer ").strip()
    claimed = _claimed(token)
    if claimed is None:
        return None
    platform_id, user_id, api_key_id = claimed
    row = await connection.fetchrow(SUBJECT_SQL, platform_id, api_key_id, user_id)
    if row is None or row["user_token_secret"] is None:
        return None
    try:
        claims = jwt.decode(
            token,
            row["user_token_secret"],
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": JWT_CLAIMS},
        )
    except jwt.PyJWTError:
        return None
    if row["revoked_at"] is not None or row["status"] != "ACTIVE":
        return None
    issued_at = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
    valid_after = row["tokens_valid_after"]
    return None if valid_after is not None and issued_at <= valid_after else (platform_id, row)


def _datetime(value: dt.datetime) -> str:
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _entry(row: Any) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "amount": {"amount": row["amount"], "currency": currency},
        "balanceAfter": {"amount": row["balance_after"], "currency": currency},
        "createdAt": _datetime(row["created_at"]),
    }


async def viewer_read(
    connection: asyncpg.Connection, platform_id: uuid.UUID, user: Any
) -> dict[str, Any]:
    accounts = await connection.fetch(
        VIEWER_ACCOUNTS_SQL, platform_id, user["id"], VIEWER_ACCOUNTS_PAGE
    )
    ids = [account["id"] for account in accounts]
    entries: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in await connection.fetch(ENTRIES_SQL, platform_id, ids, VIEWER_ENTRIES_PAGE):
        entries[row["account_id"]].append(_entry(row))
    nodes = [
        {**_account(account), "entries": {"nodes": entries[account["id"]]}} for account in accounts
    ]
    viewer = {"id": str(user["id"]), "email": user["email"], "accounts": {"nodes": nodes}}
    return {"data": {"viewer": viewer}}


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

    async def viewer(request: Request) -> Response:
        await request.json()  # decoded as the gateway must; the query is always the same
        async with pools[0].acquire() as connection:
            found = await _viewer_of(connection, request.headers.get("authorization", ""))
            if found is None:
                return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)
            answer = await viewer_read(connection, *found)
        return Response(json.dumps(answer), media_type="application/json")

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        Route("/graphql/viewer", viewer, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
