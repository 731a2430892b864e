"""Helpers for tests: GraphQL calls over HTTP and an SQL statement counter.

The package's modules hold the rest, named like the nouns they build: `platforms`, `users`,
`kyc`, `accounts`, `payments`, `events`, with `calls` (mutate, success, rejected...), `inputs`,
`documents` (the shared .graphql documents of tests/documents/) and `server` (a live gateway).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine


class StatementCounter:
    """Counts the SQL statements the engines send while `counting` is on; the transactions'
    BEGIN, COMMIT and ROLLBACK apart (`transactions`: whatever the driver sends for them)."""

    def __init__(self, *engines: AsyncEngine) -> None:
        self.engines = list(dict.fromkeys(engine.sync_engine for engine in engines))
        self.statements: list[str] = []
        self.transactions: list[str] = []
        self.counting = False
        self._listeners: list[tuple[str, Any]] = [
            ("before_cursor_execute", self._record),
            ("begin", lambda _conn: self._transaction("BEGIN")),
            ("commit", lambda _conn: self._transaction("COMMIT")),
            ("rollback", lambda _conn: self._transaction("ROLLBACK")),
        ]

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        command = statement.lstrip().split(" ", 1)[0].upper()
        if self.counting and command not in ("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK"):
            self.statements.append(statement)

    def _transaction(self, command: str) -> None:
        if self.counting:
            self.transactions.append(command)

    def __enter__(self) -> StatementCounter:
        for engine in self.engines:
            for name, listener in self._listeners:
                sa.event.listen(engine, name, listener)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        for engine in self.engines:
            for name, listener in self._listeners:
                sa.event.remove(engine, name, listener)

    def start(self) -> None:
        self.statements.clear()
        self.transactions.clear()
        self.counting = True

    def stop(self) -> int:
        self.counting = False
        return len(self.statements)


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    """POST a GraphQL request; check the HTTP status; return the decoded body."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def data(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str],
) -> dict[str, Any]:
    """POST a GraphQL request that must succeed without errors; return its data."""
    body = await graphql(client, query, variables, headers=headers)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result
