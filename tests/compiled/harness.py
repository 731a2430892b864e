"""The differential harness: one HTTP request, sent byte for byte to two gateways over the same
database, one with `compiled_reads` on and one with it off; their answers must be identical.

The comparison is on what a client sees: the status code, the content type and every byte of
the body (data, errors with their messages, locations and paths, extensions). Headers other
than the content type may differ (`X-MPS-Execution` says which executor answered, and must);
the compiled app's `X-MPS-Execution` is tallied, so that a run can say how much of what it sent
the compiled executor answered, and the general app may never claim to have compiled anything.

Nothing writes while the pair is compared: both apps run with the settler, the webhook
dispatcher and the document expiry sweep off, so two requests in a row read the same rows.
"""

from __future__ import annotations

import asyncio
import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.graphql.compiled import COMPILED, EXECUTION_HEADER, GENERAL

# The least share of the comparisons a batch sends (queries/ and generated documents) that the
# compiled executor must answer itself. What it does not answer are the requests refused before
# execution (invalid documents, bad variables, limits: about a sixth of what the batches send)
# and the few that raise, which it hands back to graphql-core; everything that executes without
# an error is compiled. A regression that sends reads back to the general executor fails here.
COMPILED_SHARE_MIN = 0.75


@dataclass(frozen=True)
class Credential:
    """Who sends: a platform API key of some role, or a user token, with its name."""

    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class HttpRequest:
    """One request exactly as it goes on the wire (the same bytes to both apps)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    content: bytes = b""
    query: str = ""  # for the failure report
    variables: Any = None  # for the failure report


def graphql_request(
    credential: Credential,
    query: str,
    variables: Any = None,
    *,
    operation_name: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> HttpRequest:
    """A POST of `query` (with `variables` when given) as a client sends it, in JSON."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    headers = {
        **credential.headers,
        "Content-Type": "application/json",
        "Accept": "application/graphql-response+json, application/json",
        **(extra_headers or {}),
    }
    return HttpRequest(
        method="POST",
        url="/graphql",
        headers=tuple(headers.items()),
        content=json.dumps(body).encode(),
        query=query,
        variables=variables,
    )


@dataclass
class Tally:
    """What the compared requests got: by the compiled app's `X-MPS-Execution`, and whether
    the answer carried data, errors or both."""

    execution: Counter[str] = field(default_factory=Counter)
    outcome: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # errors' extensions.code

    @property
    def total(self) -> int:
        return sum(self.execution.values())

    @property
    def compiled_share(self) -> float:
        return self.execution[COMPILED] / self.total if self.total else 0.0

    def add(self, other: Tally) -> None:
        self.execution.update(other.execution)
        self.outcome.update(other.outcome)
        self.codes.update(other.codes)

    def summary(self) -> str:
        executions = ", ".join(f"{k} {v}" for k, v in sorted(self.execution.items()))
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcome.items()))
        codes = ", ".join(f"{k} {v}" for k, v in self.codes.most_common())
        return f"{self.total} compared ({executions}; {outcomes}; error codes: {codes or '-'})"

    def assert_compiled_share(self, minimum: float = COMPILED_SHARE_MIN) -> None:
        assert self.total, "nothing was compared"
        assert self.compiled_share >= minimum, (
            f"the compiled executor answered {self.compiled_share:.1%} of the reads, less than"
            f" {minimum:.0%}: {self.summary()}"
        )


def _codes(decoded: Any) -> list[str]:
    errors = decoded.get("errors") if isinstance(decoded, dict) else None
    found = []
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        found.append(code if isinstance(code, str) else "(none)")
    return found


def _outcome(decoded: Any) -> str:
    if not isinstance(decoded, dict):
        return "not-an-object"
    has_data = decoded.get("data") is not None
    has_errors = bool(decoded.get("errors"))
    return {
        (True, False): "data",
        (True, True): "data+errors",
        (False, True): "errors",
        (False, False): "empty",
    }[(has_data, has_errors)]


def pretty(body: bytes) -> str:
    """A body for a reader: indented JSON, or the raw text when it is not JSON."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def difference_report(
    request: HttpRequest, compiled: httpx.Response, general: httpx.Response
) -> str:
    """What differs between the two answers, with what was asked."""
    left, right = pretty(compiled.content), pretty(general.content)
    diff = "\n".join(
        difflib.unified_diff(
            right.splitlines(), left.splitlines(), "general", "compiled", lineterm="", n=3
        )
    )
    return "\n".join(
        [
            "the compiled and the general executor answered differently",
            f"--- request: {request.method} {request.url}",
            request.query,
            f"--- variables: {json.dumps(request.variables, ensure_ascii=False)}",
            f"--- status: compiled {compiled.status_code}, general {general.status_code}",
            f"--- content-type: compiled {compiled.headers.get('content-type')},"
            f" general {general.headers.get('content-type')}",
            f"--- diff (general -> compiled):\n{diff or '(the bodies differ only in bytes)'}",
            f"--- compiled body:\n{left}",
            f"--- general body:\n{right}",
        ]
    )


class Twin:
    """Two gateways over one database: `compiled` (compiled_reads on) and `general` (off)."""

    def __init__(self, compiled: httpx.AsyncClient, general: httpx.AsyncClient) -> None:
        self.compiled = compiled
        self.general = general
        self.tally = Tally()

    async def send(self, request: HttpRequest) -> tuple[httpx.Response, httpx.Response]:
        """The request to both apps at once (both read the same unchanging rows)."""
        compiled, general = await asyncio.gather(
            *(
                client.request(
                    request.method,
                    request.url,
                    headers=list(request.headers),
                    content=request.content or None,
                )
                for client in (self.compiled, self.general)
            )
        )
        return compiled, general

    async def compare(self, request: HttpRequest, *, into: Tally | None = None) -> Any:
        """Send to both; assert the same status, content type and body bytes; tally the
        compiled app's executor (also `into`). The decoded body (None when not JSON)."""
        compiled, general = await self.send(request)
        claimed = general.headers.get(EXECUTION_HEADER)
        assert claimed in (None, GENERAL), (
            f"the app with compiled_reads off says {EXECUTION_HEADER}: {claimed}\n{request.query}"
        )
        execution = compiled.headers.get(EXECUTION_HEADER, "missing")
        assert execution in (COMPILED, GENERAL, "missing"), f"{EXECUTION_HEADER}: {execution}"
        same = (
            compiled.status_code == general.status_code
            and compiled.headers.get("content-type") == general.headers.get("content-type")
            and compiled.content == general.content
        )
        assert same, difference_report(request, compiled, general)
        try:
            decoded = json.loads(compiled.content)
        except ValueError:
            decoded = None
        for tally in (self.tally, into) if into is not None else (self.tally,):
            tally.execution[execution] += 1
            tally.outcome[_outcome(decoded) if decoded is not None else "not-json"] += 1
            tally.codes.update(_codes(decoded))
        return decoded


class Batch:
    """Comparisons that go on after a difference, so that one run reports every difference
    (up to `reports_max` of them in full) rather than the first only."""

    def __init__(self, twin: Twin, *, reports_max: int = 5) -> None:
        self.twin = twin
        self.tally = Tally()
        self.failures: list[str] = []
        self.reports_max = reports_max
        self.sent = 0

    async def compare(self, request: HttpRequest) -> Any:
        self.sent += 1
        try:
            return await self.twin.compare(request, into=self.tally)
        except AssertionError as failure:
            self.failures.append(str(failure))
            return None

    def check(self) -> None:
        """Fail with the first reports when any comparison failed."""
        if self.failures:
            shown = "\n\n".join(self.failures[: self.reports_max])
            raise AssertionError(
                f"{len(self.failures)} of {self.sent} requests answered differently;"
                f" the first {min(len(self.failures), self.reports_max)}:\n\n{shown}"
            )
