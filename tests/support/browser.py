"""Headless Chromium (Debian's `/usr/bin/chromium`, driven by Playwright) against a real
gateway process seeded with the demo platform: what the browser tests share.

Without `/usr/bin/chromium` a browser test is skipped locally, and fails when
MPS_TEST_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

from tests.processes import gateway_process

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_SERVICES = os.environ.get("MPS_TEST_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> NoReturn:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MPS_TEST_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def chromium_path() -> Path:
    """Debian's Chromium; check it before starting the (slower) gateway server."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found (install Debian's chromium package)")
    return CHROMIUM


@dataclass(frozen=True)
class RunningGateway:
    base_url: str
    api_key: str


@contextmanager
def demo_gateway(workdir: Path, **environment: str) -> Iterator[RunningGateway]:
    """A real `mps-gateway serve` process over a fresh SQLite file with the demo platform;
    `environment` adds MPS_* variables."""
    env = {
        **os.environ,
        "MPS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'db.sqlite3'}",
        **environment,
    }
    seeded = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, f"`mps-gateway demo --json` failed:\n{seeded.stderr}"
    demo = json.loads(seeded.stdout.strip().splitlines()[-1])
    with gateway_process(env, workdir) as base_url:
        yield RunningGateway(base_url=base_url, api_key=demo["apiKey"])


@contextmanager
def fresh_context(chromium: Path) -> Iterator[BrowserContext]:
    """A fresh (no localStorage) context in headless Chromium."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context()
            yield context
            context.close()
        finally:
            browser.close()
