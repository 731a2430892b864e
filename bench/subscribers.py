"""WebSocket subscribers of the fan-out, in a process of their own: `python -m bench.subscribers`.

Opens `--clients` graphql-transport-ws connections, sends `connection_init` (with the API key)
and subscribes each to `events` (bench/queries/events.graphql) after `--after` (so that no
event committed once the subscription starts can be missed), prints `READY`, then reads until
every client has received `--events` events. Each client checks that its events arrive in
order, with no gap and no duplicate: the sequence inside each cursor must be
`--first-sequence`, then one more each time. Finally one JSON line reports the counts, the
problems and the times of the first and last receipt (time.time(), the generator's clock).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from bench.config import QUERIES_DIR

PROTOCOL = Subprotocol("graphql-transport-ws")
CONNECT_CONCURRENCY = 20
PROBLEMS_KEPT_MAX = 20


@dataclass
class Outcome:
    received: int = 0
    first_receipt: float | None = None
    last_receipt: float | None = None
    problems: list[str] = field(default_factory=list)


def sequence_of(cursor: str) -> int:
    """The sequence in an event cursor (base64 of `<prefix><platform hex>:<sequence>`)."""
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    return int(text.rpartition(":")[2])


async def _handshake(socket: ClientConnection, key: str | None, after: str | None) -> None:
    payload = {"Authorization": f"Bearer {key}"} if key else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    answer = json.loads(await socket.recv())
    if answer.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {answer}")
    query = (QUERIES_DIR / "events.graphql").read_text()
    variables = {"after": after} if after else {}
    await socket.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )


def _check(message: dict[str, Any], expected: int, outcome: Outcome) -> None:
    if message.get("type") != "next":
        raise RuntimeError(f"unexpected message: {str(message)[:300]}")
    payload = message["payload"]
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    sequence = sequence_of(payload["data"]["events"]["cursor"])
    if sequence != expected:
        outcome.problems.append(f"event {sequence} arrived where {expected} was due")


async def _receive(socket: ClientConnection, args: argparse.Namespace, outcome: Outcome) -> None:
    expected = args.first_sequence
    while outcome.received < args.events:
        message = json.loads(await socket.recv())
        if message.get("type") == "ping":
            await socket.send(json.dumps({"type": "pong"}))
            continue
        now = time.time()
        outcome.first_receipt = outcome.first_receipt or now
        outcome.last_receipt = now
        _check(message, expected, outcome)
        outcome.received += 1
        expected += 1


async def _client(
    args: argparse.Namespace, gate: asyncio.Semaphore, ready: list[int], start: asyncio.Event
) -> Outcome:
    outcome = Outcome()
    try:
        async with gate:
            socket = await websockets.connect(args.url, subprotocols=[PROTOCOL], max_size=None)
            await _handshake(socket, args.key, args.after)
    except Exception as error:  # reported; READY still comes, and the run then fails
        outcome.problems.append(f"could not subscribe: {type(error).__name__}: {error}")
        socket = None
    ready.append(1)
    if len(ready) == args.clients:
        start.set()
    if socket is None:
        return outcome
    try:
        await _receive(socket, args, outcome)
    except Exception as error:  # reported, not raised: the other clients go on
        outcome.problems.append(f"{type(error).__name__}: {error}")
    finally:
        await socket.close()
    return outcome


async def run(args: argparse.Namespace) -> dict[str, Any]:
    gate, start = asyncio.Semaphore(CONNECT_CONCURRENCY), asyncio.Event()
    ready: list[int] = []
    tasks = [asyncio.create_task(_client(args, gate, ready, start)) for _ in range(args.clients)]
    await asyncio.wait_for(start.wait(), timeout=args.timeout)
    print("READY", flush=True)
    done, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for task in pending:
        task.cancel()
    outcomes = [task.result() for task in done if not task.cancelled()]
    problems = [p for o in outcomes for p in o.problems][:PROBLEMS_KEPT_MAX]
    short = [o.received for o in outcomes if o.received < args.events]
    if pending or short:
        problems.append(
            f"{len(pending) + len(short)} of {args.clients} clients got fewer than"
            f" {args.events} events within {args.timeout} s"
        )
    return {
        "clients": args.clients,
        "events": args.events,
        "received": sum(o.received for o in outcomes),
        "first_receipt": min((o.first_receipt for o in outcomes if o.first_receipt), default=None),
        "last_receipt": max((o.last_receipt for o in outcomes if o.last_receipt), default=None),
        "problems": problems,
    }


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.subscribers")
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--first-sequence", type=int, required=True)
    parser.add_argument("--key")
    parser.add_argument("--after")
    parser.add_argument("--timeout", type=float, default=120.0)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    report = asyncio.run(run(parse(argv)))
    print(json.dumps(report), flush=True)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
