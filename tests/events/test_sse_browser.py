"""A browser's own EventSource loses no event and repeats none across a gateway crash.

A page of another origin (a small static server) opens a native `EventSource` on
`GET /graphql?query=...&variables=...&access_token=<user token>`, against a real gateway
process over a SQLite file. Once it has received events, the gateway is killed (SIGKILL, no
shutdown of any kind); two events are committed while it is down (through the services, on
its database), and it is started again on the same port. The browser retries by itself,
after the stream's `retry:` delay, sending the last `id:` it received as `Last-Event-ID`, so
the events of the outage are replayed; one more comes live. The page's list holds every
event exactly once, in order. The user token never reaches the server's log.

When `/usr/bin/chromium` is missing the test is skipped locally, and fails when
MPS_TEST_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page

from gateway.domain.credentials import SYSTEM
from gateway.services.accounts import NewAccount, open_account
from gateway.services.acting import acting_as
from gateway.store.engine import Database
from tests.processes import GatewayServer, free_port
from tests.support.browser import chromium_path, fresh_context
from tests.support.documents import OPEN_ACCOUNT
from tests.support.event_source import EVENTS, sequence
from tests.support.tokens import CREATE_TOKEN

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 30_000
RETRY_MS = 1_000

# Opens the EventSource and keeps what it receives on `window`.
OPEN = """
(url) => {
  window.received = [];
  window.opened = 0;
  const source = new EventSource(url);
  source.onopen = () => { window.opened += 1; };
  source.addEventListener("next", (message) => {
    const event = JSON.parse(message.data).data.events;
    window.received.push({id: message.lastEventId, objectId: event.objectId});
  });
  window.source = source;
}
"""


class _AppPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>events</title><p>events"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def app_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _AppPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MPS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'db.sqlite3'}",
        "MPS_SSE_RETRY_MS": str(RETRY_MS),
        "MPS_EVENTS_POLL_INTERVAL_S": "0.2",
        "MPS_WEBHOOK_DELIVERY": "false",
    }


def _api_key(env: dict[str, str], workdir: Path) -> str:
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
    key: str = json.loads(seeded.stdout.strip().splitlines()[-1])["apiKey"]
    return key


def _call(url: str, key: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _open_account(url: str, key: str, user_id: str) -> str:
    payload = _call(url, key, OPEN_ACCOUNT, {"input": {"userId": user_id, "currency": "EUR"}})
    account_id: str = payload["openAccount"]["account"]["id"]
    return account_id


async def _open_accounts_directly(
    env: dict[str, str], platform_id: uuid.UUID, user_id: str, count: int
) -> list[str]:
    """Accounts opened through the services on the gateway's database, no server involved."""
    db = Database.from_url(env["MPS_DATABASE_URL"])
    try:
        opened = []
        with acting_as(SYSTEM):
            for _ in range(count):
                new = NewAccount(user_id=user_id, currency="EUR")
                outcome = await open_account(db, platform_id=platform_id, new=new)
                opened.append(str(outcome.value.id))
        return opened
    finally:
        await db.dispose()


def _wait_for(page: Page, count: int) -> list[dict[str, str]]:
    page.wait_for_function(f"window.received.length >= {count}", timeout=UI_TIMEOUT_MS)
    received: list[dict[str, str]] = page.evaluate("window.received")
    return received


def test_a_browser_event_source_resumes_across_a_gateway_crash_with_every_event_once(
    tmp_path: Path, app_origin: str
) -> None:
    chromium = chromium_path()
    env = _environment(tmp_path)
    key = _api_key(env, tmp_path)
    gateway = GatewayServer(env, tmp_path)
    port = free_port()
    url = gateway.start(port)
    try:
        users = _call(url, key, "{ platform { users(first: 1) { nodes { id } } } }", {})
        user_id = users["platform"]["users"]["nodes"][0]["id"]
        token = _call(url, key, CREATE_TOKEN, {"input": {"userId": user_id}})
        token = token["createUserToken"]["token"]
        platform_id = uuid.UUID(_call(url, key, "{ platform { id } }", {})["platform"]["id"])
        variables = json.dumps({"types": ["ACCOUNT_CREATED"]})
        query = urlencode({"query": EVENTS, "variables": variables, "access_token": token})
        with fresh_context(chromium) as context:
            page = context.new_page()
            page.goto(f"{app_origin}/index.html")
            page.evaluate(OPEN, f"{url}/graphql?{query}")
            page.wait_for_function("window.opened === 1", timeout=UI_TIMEOUT_MS)
            page.wait_for_timeout(300)  # the subscription is live once the stream has opened
            accounts = [_open_account(url, key, user_id) for _ in range(2)]
            before = _wait_for(page, 2)

            gateway.kill()
            # Committed while no gateway runs: a reconnection without `Last-Event-ID` (live
            # events only) would never deliver these two.
            with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
                directly = _open_accounts_directly(env, platform_id, user_id, 2)
                accounts += pool.submit(asyncio.run, directly).result(timeout=60)
            assert gateway.start(port) == url
            page.wait_for_function("window.opened >= 2", timeout=UI_TIMEOUT_MS)
            accounts.append(_open_account(url, key, user_id))
            received = _wait_for(page, 5)
    finally:
        gateway.stop()
    assert [event["objectId"] for event in received] == accounts
    sequences = [sequence(platform_id, event["id"]) for event in received]
    assert sequences == sorted(set(sequences))
    assert received[:2] == before
    for log in tmp_path.glob("server-*.log"):
        assert token not in log.read_text(errors="replace")
