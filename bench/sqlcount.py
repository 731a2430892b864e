"""SQL statements per request, counted in PostgreSQL's own log.

Every server of the bench connects as its own role; for counting, a second instance of the
same server connects as `<role>_log`, a role created with `ALTER ROLE ... SET log_statement =
'all'`, so that the server logs every statement of that role's sessions, and only of those:
nothing changes for the instances being timed, nor for any other user of the cluster, and no
server setting is touched (pg_stat_statements would need `shared_preload_libraries` and a
restart). The log is read as the superuser through `pg_read_file`, from the byte offset
where a counting window starts; its path is `pg_current_logfile()` when the logging collector
runs, else the Debian cluster's `/var/log/postgresql/postgresql-<version>-<name>.log`.

Counted: each `statement:` (simple protocol, including BEGIN/COMMIT/ROLLBACK and SAVEPOINTs)
and each `execute` (extended protocol: prepared statements) log entry of the role in the
bench's database. Parse/bind messages are not statements and are not logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import asyncpg

from bench.config import ADMIN_DSN

_ENTRY_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] ", re.MULTILINE)
_STATEMENT = re.compile(
    r"\] (?P<role>[^@\s]+)@(?P<database>\S+) LOG:  (?:statement|execute [^:]*): (?P<sql>.*)",
    re.DOTALL,
)
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START TRANSACTION")


@dataclass(frozen=True, slots=True)
class StatementCount:
    """What one server sent for `requests` requests."""

    requests: int
    statements: list[str] = field(default_factory=list)

    @property
    def per_request(self) -> float:
        return len(self.statements) / self.requests

    @property
    def queries_per_request(self) -> float:
        """Statements other than transaction control (BEGIN, COMMIT, SAVEPOINT...)."""
        queries = [s for s in self.statements if not s.upper().startswith(TRANSACTION_CONTROL)]
        return len(queries) / self.requests

    def sample(self) -> list[str]:
        """The statements of one request (the first), as the server sent them."""
        return self.statements[: round(self.per_request)]


class ServerLog:
    """The PostgreSQL server log, read as the superuser from a marked offset."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    async def locate(cls) -> ServerLog:
        connection = await asyncpg.connect(ADMIN_DSN)
        try:
            current = await connection.fetchval("SELECT pg_current_logfile()")
            if current is not None:
                data_directory = await connection.fetchval("SHOW data_directory")
                path = str(PurePosixPath(data_directory) / current)
            else:
                cluster = await connection.fetchval("SHOW cluster_name")  # Debian: "15/main"
                path = f"/var/log/postgresql/postgresql-{cluster.replace('/', '-')}.log"
            await connection.fetchval("SELECT (pg_stat_file($1)).size", path)
        finally:
            await connection.close()
        return cls(path)

    async def mark(self) -> int:
        connection = await asyncpg.connect(ADMIN_DSN)
        try:
            size: int = await connection.fetchval("SELECT (pg_stat_file($1)).size", self.path)
            return size
        finally:
            await connection.close()

    async def statements_since(self, offset: int, *, role: str, database: str) -> list[str]:
        connection = await asyncpg.connect(ADMIN_DSN)
        try:
            text: str = await connection.fetchval(
                "SELECT pg_read_file($1, $2, (pg_stat_file($1)).size - $2)", self.path, offset
            )
        finally:
            await connection.close()
        return _statements(text, role=role, database=database)


def _statements(text: str, *, role: str, database: str) -> list[str]:
    starts = [match.start() for match in _ENTRY_START.finditer(text)]
    found = []
    ends = [*starts[1:], len(text)] if starts else []  # no entry at all: a request without SQL
    for begin, end in zip(starts, ends, strict=True):
        entry = _STATEMENT.search(text[begin:end])
        if entry and entry["role"] == role and entry["database"] == database:
            found.append(" ".join(entry["sql"].split()))
    return found
