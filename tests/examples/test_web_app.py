"""The example frontend app (examples/web: React, urql, graphql-ws, GraphQL Code Generator)
works in a real browser against a real gateway process.

The app is installed from its lock file (`npm ci`, skipped while `examples/web/node_modules`
already matches the lock), its generated types are checked against the SDL and its documents
(`npm run codegen:check`), and it is built (`npm run build`, type check included) into a
temporary directory served by a static server of its own, on another origin than the gateway
(which lets that origin in: MPS_CORS_ALLOWED_ORIGINS and MPS_WS_ALLOWED_ORIGINS).
`examples/web/demo_token.py` seeds the database and prints a user token; headless Chromium
(Debian's `/usr/bin/chromium`) opens the page with it and:

1. sees the user's two accounts and their balances, and the socket live;
2. sends a transfer through the form: the amount typed as a decimal goes out as an integer of
   cents, and both balances change in the page;
3. sees the balances and the entries follow transfers made elsewhere (by another client with
   the same token): only the subscription can tell the page about those;
4. pages through the account's entries with "Load more";
5. sends a transfer above the balance and sees the rejection's type and message;

all in one page load: a marker set on `window` at the start is still there at the end.

Without `node`/`npm` or Chromium the test is skipped locally and fails when
MPS_TEST_REQUIRE_SERVICES=1 (as in CI). MPS_WEB_APP_SCREENSHOT=docs/images/web-app.png also
saves a screenshot of the page there (the README's).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.processes import free_port, gateway_server
from tests.support.browser import chromium_path, fresh_context, unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "examples" / "web"
INSTALLED_STAMP = APP_DIR / "node_modules" / ".mps-installed-lock"
NPM_CI_TIMEOUT_S = 600.0
NPM_RUN_TIMEOUT_S = 300.0
UI_TIMEOUT_MS = 20_000
PAGE_SIZE = 5  # examples/web/src/Entries.tsx
MARKER = "the same page since it loaded"


# ---- The app: installed, generated types checked, built ----------------------------------


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("Node.js (`node` and `npm`) not found on PATH")
    return npm


def _run(command: list[str], what: str, timeout_s: float) -> None:
    done = subprocess.run(
        command,
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, f"{what} failed:\n{done.stdout}\n{done.stderr}"


def _install(npm: str) -> None:
    """`npm ci` unless node_modules was installed from this very lock file (a clean clone, as
    in CI, always installs; a developer's second run does not)."""
    lock = hashlib.sha256((APP_DIR / "package-lock.json").read_bytes()).hexdigest()
    if INSTALLED_STAMP.is_file() and INSTALLED_STAMP.read_text() == lock:
        return
    _run([npm, "ci", "--no-audit", "--no-fund"], "`npm ci` in examples/web", NPM_CI_TIMEOUT_S)
    INSTALLED_STAMP.write_text(lock)


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/web built into a temporary directory, its committed generated types current."""
    npm = _npm()
    chromium_path()
    _install(npm)
    _run([npm, "run", "codegen:check"], "src/gql/ is out of date: run `npm run codegen`;", 300)
    dist = tmp_path_factory.mktemp("web-app-dist")
    build = [npm, "run", "build", "--", "--outDir", str(dist), "--emptyOutDir"]
    _run(build, "`npm run build`", NPM_RUN_TIMEOUT_S)
    assert (dist / "index.html").is_file()
    return dist


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def app_origin(built_app: Path) -> Iterator[str]:
    """The built app served over HTTP on a loopback port of its own: another origin than the
    gateway's, as in production."""
    handler = functools.partial(_QuietHandler, directory=str(built_app))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# ---- The gateway and the demo user ---------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    gateway_url: str
    token: str
    main_account_id: str
    savings_account_id: str


@pytest.fixture
def demo(app_origin: str, tmp_path: Path) -> Iterator[Demo]:
    """A gateway over a fresh SQLite file that lets the app's origin in, and the demo user's
    token from examples/web/demo_token.py."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MPS_")}
    env |= {
        "MPS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "MPS_CORS_ALLOWED_ORIGINS": json.dumps([app_origin]),
        "MPS_WS_ALLOWED_ORIGINS": json.dumps([app_origin]),
    }
    seeded = subprocess.run(
        [sys.executable, str(APP_DIR / "demo_token.py"), "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, f"demo_token.py failed:\n{seeded.stderr}"
    printed = json.loads(seeded.stdout.strip().splitlines()[-1])
    main, savings = printed["accountIds"]
    with gateway_server(env, tmp_path) as server:
        yield Demo(server.url, printed["token"], main, savings)


# ---- The page ------------------------------------------------------------------------------


def _balance(page: Page, account_id: str) -> Any:
    return page.locator(f'[data-account-id="{account_id}"] [data-testid="balance"]')


def _send_in_form(page: Page, demo: Demo, amount: str) -> None:
    form = page.get_by_role("form", name="Transfer")
    form.get_by_label("From").select_option(value=demo.main_account_id)
    form.get_by_label("To").select_option(value=demo.savings_account_id)
    form.get_by_label("Amount (EUR)").fill(amount)
    form.get_by_role("button", name="Send").click()


def _transfer_elsewhere(demo: Demo, amount: int) -> None:
    """A transfer by another client holding the same token: the page learns of it only
    through its subscription."""
    mutation = (
        "mutation($input: CreateTransferInput!) { createTransfer(input: $input) { __typename } }"
    )
    variables = {
        "input": {
            "debitedAccountId": demo.main_account_id,
            "creditedAccountId": demo.savings_account_id,
            "amount": {"amount": amount, "currency": "EUR"},
            "idempotencyKey": f"elsewhere-{uuid.uuid4()}",
        }
    }
    response = httpx.post(
        f"{demo.gateway_url}/graphql",
        json={"query": mutation, "variables": variables},
        headers={"Authorization": f"Bearer {demo.token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["createTransfer"]["__typename"] == "CreateTransferSuccess"


def _transfer_bodies(requests: list[Request]) -> list[dict[str, Any]]:
    bodies = []
    for request in requests:
        body = request.post_data_json if request.method == "POST" else None
        if isinstance(body, dict) and "createTransfer" in str(body.get("query")):
            bodies.append(body)
    return bodies


def _screenshot(page: Page) -> None:
    target = os.environ.get("MPS_WEB_APP_SCREENSHOT")
    if target:
        page.set_viewport_size({"width": 1100, "height": 720})
        page.screenshot(path=str(ROOT / target), full_page=True)


def test_the_example_app_shows_live_balances_pages_entries_and_sends_transfers(
    app_origin: str, demo: Demo
) -> None:
    with fresh_context(chromium_path()) as context:
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        requests: list[Request] = []
        page.on("request", lambda request: requests.append(request))
        page.goto(f"{app_origin}/?gateway={demo.gateway_url}&token={demo.token}")
        page.evaluate(f"window.__marker = {json.dumps(MARKER)}")
        main = _balance(page, demo.main_account_id)
        savings = _balance(page, demo.savings_account_id)

        # 1. The accounts, their balances, the socket live; the token left the address bar.
        expect(page.get_by_role("heading", name="Ada Webb")).to_be_visible(timeout=UI_TIMEOUT_MS)
        expect(main).to_have_text("250.00 EUR", timeout=UI_TIMEOUT_MS)
        expect(savings).to_have_text("0.00 EUR", timeout=UI_TIMEOUT_MS)
        expect(page.get_by_test_id("socket-state")).to_have_text("● live", timeout=UI_TIMEOUT_MS)
        assert "token=" not in page.url

        # 2. A transfer through the form: 12.34 typed, 1234 cents sent, both balances move.
        _send_in_form(page, demo, "12.34")
        outcome = page.get_by_test_id("transfer-outcome")
        expect(outcome).to_have_text("Sent 12.34 EUR.", timeout=UI_TIMEOUT_MS)
        expect(main).to_have_text("237.66 EUR", timeout=UI_TIMEOUT_MS)
        expect(savings).to_have_text("12.34 EUR", timeout=UI_TIMEOUT_MS)
        [sent] = _transfer_bodies(requests)
        assert sent["variables"]["input"]["amount"] == {"amount": 1234, "currency": "EUR"}

        # 3. Transfers made elsewhere reach the page through its subscription alone: the
        #    balances move and the new entries come on top of the ones shown.
        for amount in (1_00, 2_00, 3_00, 4_00, 5_00):
            _transfer_elsewhere(demo, amount)
        expect(main).to_have_text("222.66 EUR", timeout=UI_TIMEOUT_MS)
        expect(savings).to_have_text("27.34 EUR", timeout=UI_TIMEOUT_MS)
        entries = page.get_by_role("region", name="Entries")
        rows = entries.locator("tbody tr")
        expect(rows).to_have_count(7, timeout=UI_TIMEOUT_MS)  # the pay-in and six transfers out
        expect(rows.first).to_contain_text("-5.00 EUR", timeout=UI_TIMEOUT_MS)

        # 4. Another account's entries, a page at a time: "Load more" until there is no more.
        page.locator(f'[data-account-id="{demo.savings_account_id}"]').click()
        expect(entries.get_by_role("heading")).to_have_text(
            f"Entries of Savings ({PAGE_SIZE} of 6)", timeout=UI_TIMEOUT_MS
        )
        expect(rows.first).to_contain_text("5.00 EUR", timeout=UI_TIMEOUT_MS)
        entries.get_by_role("button", name="Load more").click()
        expect(rows).to_have_count(6, timeout=UI_TIMEOUT_MS)
        expect(rows.last).to_contain_text("12.34 EUR", timeout=UI_TIMEOUT_MS)
        expect(entries.get_by_role("button", name="Load more")).to_have_count(
            0, timeout=UI_TIMEOUT_MS
        )

        # 5. More than the balance: the typed rejection, its message, no balance moved.
        _send_in_form(page, demo, "1000")
        expect(outcome).to_have_text(
            "InsufficientFundsRejection: The account's balance does not cover this amount.",
            timeout=UI_TIMEOUT_MS,
        )
        expect(main).to_have_text("222.66 EUR", timeout=UI_TIMEOUT_MS)
        _screenshot(page)

        assert page.evaluate("window.__marker") == MARKER, "the page was reloaded"
        assert len(_transfer_bodies(requests)) == 2
