"""CORS as a real browser does it: headless Chromium, on a page of another origin, sends the
requests that browser SDKs send (each with one of their headers) to a running gateway. The
browser makes its own preflight; a header the gateway does not allow makes `fetch` fail before
the request is sent, which is what a frontend team would see."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page

from gateway.settings import CORS_ALLOWED_HEADERS_DEFAULT
from tests.processes import free_port
from tests.support.browser import RunningGateway, chromium_path, demo_gateway, fresh_context

pytestmark = pytest.mark.browser

QUERY = "{ platform { id name } }"

# Sends the query (with the key, as JSON) and one extra header; answers the status and data,
# or the fetch's failure.
FETCH = """
async ([url, key, header, query]) => {
  const headers = {"Content-Type": "application/json", "Authorization": `Bearer ${key}`};
  if (header) headers[header] = "1";
  try {
    const response = await fetch(url, {method: "POST", headers, body: JSON.stringify({query})});
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {failed: String(error)};
  }
}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    chromium_path()
    with demo_gateway(tmp_path_factory.mktemp("cors-gateway")) as running:
        yield running


class _AppPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><p>app"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def app_origin() -> Iterator[str]:
    """Another origin than the gateway's: a page server on another loopback port (a real
    server, since the browser places a page in an address space by where it came from)."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _AppPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def app_page(gateway: RunningGateway, app_origin: str) -> Iterator[Page]:
    with fresh_context(chromium_path()) as context:
        page = context.new_page()
        page.goto(f"{app_origin}/index.html")
        yield page


def _send(page: Page, gateway: RunningGateway, header: str | None) -> Any:
    return page.evaluate(FETCH, [f"{gateway.base_url}/graphql", gateway.api_key, header, QUERY])


ALWAYS_SENT = {"authorization", "content-type"}


@pytest.mark.parametrize(
    "header", [name for name in CORS_ALLOWED_HEADERS_DEFAULT if name.lower() not in ALWAYS_SENT]
)
def test_a_browser_sends_each_allowed_header_across_origins(
    app_page: Page, gateway: RunningGateway, header: str
) -> None:
    answer = _send(app_page, gateway, header)
    assert "failed" not in answer, answer
    assert answer["status"] == 200
    assert answer["body"]["data"]["platform"]["name"] == "Demo"


def test_a_browser_refuses_to_send_a_header_the_gateway_does_not_allow(
    app_page: Page, gateway: RunningGateway
) -> None:
    answer = _send(app_page, gateway, "X-Tenant")
    assert "failed" in answer, answer
    assert _send(app_page, gateway, None)["status"] == 200


def test_the_app_page_is_of_another_origin(
    app_page: Page, app_origin: str, gateway: RunningGateway
) -> None:
    assert app_page.evaluate("location.origin") == app_origin != gateway.base_url
