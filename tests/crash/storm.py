"""A storm of transfers against a running gateway, sent as a careful client sends them.

Each of `clients` concurrent clients takes a new idempotency key for each transfer (random
accounts among the funded ones, a random amount) and sends `queries/CreateTransfer.graphql`
with it until the answer is definite: a `CreateTransferSuccess` or an
`InsufficientFundsRejection`. Anything else (a refused or cut connection, a timeout, HTTP 503
`SERVICE_UNAVAILABLE`, and any answer the gateway must never give) leaves the outcome unknown,
and the same key goes again with the same input. Once the storm is told to stop, `settle`
sends every key still without an answer until it has one.

Every attempt is recorded, so a test can wait for what it needs to see (so many successes,
so many 503s) before its next fault, and the checks can compare each key's answers with what
the database holds.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.platforms import PlatformHandle

QUERIES = Path(__file__).resolve().parents[2] / "queries"
CREATE_TRANSFER = (QUERIES / "CreateTransfer.graphql").read_text()
REQUEST_TIMEOUT_S = 30.0
RETRY_PAUSE_S = 0.05  # between two attempts of one key: the server may be restarting
SETTLE_ATTEMPTS_MAX = 1_200  # per key, after the storm: a minute of pauses at most
WAIT_STEP_S = 0.05
AMOUNT_MAX = 5_000

# What an attempt got, as the storm counts them.
SUCCESS = "success"
REPLAY = "replay"  # a success with idempotentReplay: true
INSUFFICIENT = "insufficient funds"
UNAVAILABLE = "503 SERVICE_UNAVAILABLE"
TRANSPORT = "no answer"  # refused, cut, timed out: the gateway process is not there
UNEXPECTED = "unexpected"  # an answer a retry-safe client must never get


@dataclass
class KeyRecord:
    """One idempotency key: its input and every answer it got."""

    key: str
    input: dict[str, Any]
    answers: list[str] = field(default_factory=list)
    transfer_ids: set[str] = field(default_factory=set)

    @property
    def definite(self) -> bool:
        return any(answer in (SUCCESS, REPLAY, INSUFFICIENT) for answer in self.answers)

    @property
    def succeeded(self) -> bool:
        return any(answer in (SUCCESS, REPLAY) for answer in self.answers)


@dataclass
class Storm:
    """Transfers between `accounts` of `platform`, sent to whatever `url()` names now."""

    url: Callable[[], str]
    platform: PlatformHandle
    accounts: list[str]
    clients: int = 16
    seed: int = 1
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # What the test is doing to the processes now; `by_phase` counts the answers to requests
    # sent and answered within one phase (so all of them met what the test did in it).
    phase: str = "storm"
    by_phase: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def _new_key(self, rng: random.Random) -> KeyRecord:
        debited, credited = rng.sample(self.accounts, 2)
        record = KeyRecord(
            key=f"storm-{uuid.uuid4().hex}",
            input={
                "debitedAccountId": debited,
                "creditedAccountId": credited,
                "amount": {"amount": rng.randint(1, AMOUNT_MAX), "currency": "EUR"},
            },
        )
        record.input["idempotencyKey"] = record.key
        self.keys[record.key] = record
        return record

    def _record(
        self, record: KeyRecord, sent_in: str, answer: str, problem: str | None = None
    ) -> None:
        record.answers.append(answer)
        self.counts[answer] += 1
        if self.phase == sent_in:
            self.by_phase[sent_in][answer] += 1
        if problem is not None:
            self.unexpected.append(f"key {record.key}: {problem}")

    def _read(self, record: KeyRecord, sent_in: str, response: httpx.Response) -> None:
        if response.status_code == 503:
            code = _first_error_code(response)
            if code == "SERVICE_UNAVAILABLE" and response.headers.get("retry-after") == "1":
                self._record(record, sent_in, UNAVAILABLE)
            else:
                self._record(
                    record, sent_in, UNEXPECTED, f"HTTP 503 without its code: {response.text}"
                )
            return
        if response.status_code != 200:
            problem = f"HTTP {response.status_code}: {response.text[:500]}"
            self._record(record, sent_in, UNEXPECTED, problem)
            return
        body = response.json()
        payload = (body.get("data") or {}).get("createTransfer")
        if body.get("errors") or payload is None:
            self._record(
                record, sent_in, UNEXPECTED, f"HTTP 200 with errors: {response.text[:500]}"
            )
        elif payload["__typename"] == "CreateTransferSuccess":
            record.transfer_ids.add(payload["transfer"]["id"])
            self._record(record, sent_in, REPLAY if payload["idempotentReplay"] else SUCCESS)
        elif payload["__typename"] == "InsufficientFundsRejection":
            self._record(record, sent_in, INSUFFICIENT)
        else:
            self._record(record, sent_in, UNEXPECTED, f"rejected: {payload}")

    async def _attempt(self, http: httpx.AsyncClient, record: KeyRecord) -> None:
        request = {"query": CREATE_TRANSFER, "variables": {"input": record.input}}
        sent_in = self.phase
        try:
            response = await http.post(
                f"{self.url()}/graphql", json=request, headers=self.platform.headers
            )
        except httpx.TransportError:
            self._record(record, sent_in, TRANSPORT)
            return
        self._read(record, sent_in, response)

    async def _client(self, number: int) -> None:
        rng = random.Random(self.seed * 1_000 + number)
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as http:
            while not self.stopping.is_set():
                record = self._new_key(rng)
                while not self.stopping.is_set():
                    await self._attempt(http, record)
                    if record.definite:
                        break
                    await asyncio.sleep(RETRY_PAUSE_S)

    async def run(self) -> None:
        """Send transfers until `stop()`; returns when every client has stopped."""
        async with asyncio.TaskGroup() as group:
            for number in range(self.clients):
                group.create_task(self._client(number))

    def stop(self) -> None:
        self.stopping.set()

    async def settle(self) -> None:
        """Send each key that has no definite answer yet until it has one (bounded)."""
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as http:
            for record in self.keys.values():
                for _ in range(SETTLE_ATTEMPTS_MAX):
                    if record.definite:
                        break
                    await self._attempt(http, record)
                    if not record.definite:
                        await asyncio.sleep(RETRY_PAUSE_S)
                assert record.definite, f"key {record.key} never had an answer: {record.answers}"

    async def wait_for(self, answer: str, more: int, *, timeout_s: float = 60.0) -> None:
        """Wait until `more` answers of this kind have come after the call (bounded)."""
        target = self.counts[answer] + more
        for _ in range(int(timeout_s / WAIT_STEP_S)):
            if self.counts[answer] >= target:
                return
            await asyncio.sleep(WAIT_STEP_S)
        raise AssertionError(
            f"waited {timeout_s:.0f} s for {more} more '{answer}' answers; counts: {self.counts}"
        )


def _first_error_code(response: httpx.Response) -> str | None:
    try:
        errors = response.json().get("errors") or [{}]
    except ValueError:
        return None
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code
