"""The load generator: wrk, driven by the Lua scripts of bench/lua/.

`run_wrk` runs one wrk measurement and returns what the scripts counted: requests per second,
p50/p99 latency, and the answers sorted into ok, rejected (a typed rejection of a mutation)
and bad (non-200, a GraphQL error, or a socket error). `checked` turns bad answers into a
BenchError: the bench never reports a rate made of errors.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.config import LUA_DIR
from bench.servers import BenchError

WRK_TIMEOUT = "10s"
MARKER = "BENCH_JSON "


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    duration_s: float
    sent: int  # requests built by the script (0 when it sends a fixed request)
    ok: int
    rejected: int
    bad: int
    p50_ms: float
    p99_ms: float
    sample: str  # the first bad answer, if any

    @property
    def per_s(self) -> float:
        return self.requests / self.duration_s

    @property
    def cut_off(self) -> int:
        """Requests sent but never answered: in flight when wrk stopped (they may commit)."""
        return max(0, self.sent - self.ok - self.rejected - self.bad)


@dataclass(frozen=True, slots=True)
class WrkLoad:
    url: str  # the server's base URL
    script: str  # a file of bench/lua/
    args: tuple[str, ...]  # the script's arguments
    connections: int
    threads: int
    duration_s: int


def run_wrk(load: WrkLoad) -> LoadResult:
    command = [
        "wrk",
        "-t",
        str(load.threads),
        "-c",
        str(load.connections),
        "-d",
        f"{load.duration_s}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(LUA_DIR / load.script),
        load.url,
        "--",
        *load.args,
    ]
    done = subprocess.run(  # noqa: S603 - our own command line
        command, capture_output=True, text=True, timeout=load.duration_s + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    figures = json.loads(line.removeprefix(MARKER))
    socket_errors = figures["socket_errors"]
    return LoadResult(
        requests=figures["requests"],
        duration_s=figures["duration_us"] / 1e6,
        sent=figures["sent"],
        ok=figures["ok"],
        rejected=figures["rejected"],
        bad=figures["bad"] + socket_errors,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        sample=figures["sample"] or (f"{socket_errors} socket errors" if socket_errors else ""),
    )


def checked(result: LoadResult, what: str) -> LoadResult:
    """`result`, unless some answers were bad: then the run fails, with a sample."""
    if result.bad:
        raise BenchError(
            f"{what}: {result.bad} of {result.requests} answers were errors; first: {result.sample}"
        )
    if result.requests == 0:
        raise BenchError(f"{what}: no request completed")
    return result


def write_body(path: Path, body: dict[str, object]) -> Path:
    path.write_text(json.dumps(body))
    return path
