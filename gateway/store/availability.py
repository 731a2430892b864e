"""Whether a failure means the database cannot be reached or cannot write right now.

Such a failure is not the client's and not a bug: the same request may succeed a moment later
(the server is restarting, refuses connections, lost the connection, has a full disk or is
read-only). The GraphQL layer answers it with HTTP 503 and the retryable code
`SERVICE_UNAVAILABLE`; a mutation caught by it may or may not have committed, and its retry
with the same idempotency key is safe either way (DOMAIN.md, idempotency).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc

# SQLSTATEs of a server that cannot serve now: connection exceptions (08), insufficient
# resources (53: disk full, out of memory, too many connections), operator intervention
# (57P01-57P03: shut down, crashed, cannot connect now), a read-only transaction (25006), a
# database that does not accept connections (55000).
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_CODES = {"57P01", "57P02", "57P03", "25006", "55000"}
_SQLITE_UNAVAILABLE = (
    "disk i/o error",
    "database or disk is full",
    "attempt to write a readonly database",
    "unable to open database file",
)
_CHAIN_MAX = 10


class WriterStopped(Exception):
    """The process's writer stopped (the gateway shuts down) before a queued write ran, or while
    its batch was in flight: the write may or may not have committed."""


def _sqlstate(error: BaseException) -> str | None:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) else None


def _one(error: BaseException) -> bool:
    if isinstance(error, WriterStopped):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.TimeoutError | ConnectionError | TimeoutError):
        return True  # no pooled connection in time; refused, reset, timed out
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError | PermissionError):
        return True  # the socket to the server (asyncpg raises these while connecting)
    code = _sqlstate(error)
    if code is not None and (code.startswith(_UNAVAILABLE_CLASSES) or code in _UNAVAILABLE_CODES):
        return True
    if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
        return str(error).lower().startswith(_SQLITE_UNAVAILABLE)
    return False


def unavailable(error: BaseException) -> bool:
    """Whether `error` (or what it wraps) says the database is out of reach for now."""
    seen: BaseException | None = error
    for _ in range(_CHAIN_MAX):
        if seen is None:
            return False
        if _one(seen):
            return True
        if isinstance(seen, exc.DBAPIError) and seen.orig is not None and _one(seen.orig):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
