"""The GraphQL playground works end to end in a real browser against a real gateway server.

A gateway is started as a subprocess (`python -m gateway serve`) over a fresh SQLite file
seeded with `mps-gateway demo --json`; headless Chromium (Debian's `/usr/bin/chromium`,
driven by Playwright) then proves that:

1. `GET /graphql` serves the playground page from the gateway alone: no request leaves
   127.0.0.1 (air-gapped installs work), and there are no script errors or CSP violations;
2. a person who pastes the demo API key into the Headers editor and presses "run" sees the
   query's data (the "Demo" platform and its seeded users) in the result pane;
3. with a wrong key, a second run in the same page shows the `UNAUTHENTICATED` error;
4. the page sends nothing before a key is in the Headers tab (no introspection on load, a run
   answered in the page), then loads the schema once the key is there.

When `/usr/bin/chromium` is missing the test is skipped locally, and fails when
MPS_TEST_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    Route,
    expect,
)

from tests.support.browser import RunningGateway, chromium_path, demo_gateway, fresh_context

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 15_000

WRONG_KEY = "mps_test_not-a-real-key"
REJECTED_401_MESSAGE = (
    "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
)
QUERY = "{ platform { name users(first: 3) { totalCount nodes { email } } } }"

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = (
    '.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror'
)
RUN_BUTTON = "button.graphiql-execute-button"
RESULT_WINDOW = ".graphiql-response .result-window"

# Collects CSP violations in the page; the page's own CSP allows this because Playwright
# injects init scripts through the DevTools protocol, not as inline <script> elements.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@dataclass(frozen=True)
class ConsoleError:
    text: str
    url: str


@dataclass(frozen=True)
class RejectedPost:
    url: str
    authorization: str


@dataclass
class PageRecord:
    """What the browser did besides rendering: off-host requests, errors, rejected POSTs."""

    off_host_requests: list[str] = field(default_factory=list)
    console_errors: list[ConsoleError] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    rejected_posts: list[RejectedPost] = field(default_factory=list)


@pytest.fixture(scope="module", autouse=True)
def chromium() -> Path:
    return chromium_path()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    with demo_gateway(tmp_path_factory.mktemp("gateway-server")) as running:
        yield running


@pytest.fixture
def browser_context(chromium: Path) -> Iterator[BrowserContext]:
    with fresh_context(chromium) as context:
        yield context


@pytest.fixture
def page_record(browser_context: BrowserContext) -> PageRecord:
    """Aborts and records every request to a host other than 127.0.0.1 (data: URLs pass)."""
    record = PageRecord()

    def guard(route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme == "data" or url.hostname == "127.0.0.1":
            route.continue_()
        else:
            record.off_host_requests.append(request.url)
            route.abort()

    browser_context.route("**/*", guard)
    browser_context.add_init_script(CSP_RECORDER)
    return record


def _watch(page: Page, record: PageRecord) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            record.console_errors.append(ConsoleError(message.text, message.location["url"]))

    def on_page_error(error: Error) -> None:
        record.page_errors.append(f"{error.name}: {error.message}")

    def on_response(response: Response) -> None:
        request = response.request
        if request.method == "POST" and response.status == 401:
            record.rejected_posts.append(
                RejectedPost(request.url, request.headers.get("authorization", ""))
            )

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("response", on_response)


def _set_editor(page: Page, selector: str, value: str) -> None:
    page.locator(selector).wait_for(timeout=UI_TIMEOUT_MS)
    page.evaluate(
        "([selector, value]) => document.querySelector(selector).CodeMirror.setValue(value)",
        [selector, value],
    )


def _run_query(page: Page, endpoint: str) -> None:
    """Press the run button and wait until the gateway has answered the query's POST."""
    with page.expect_response(
        lambda response: response.url == endpoint and response.request.method == "POST",
        timeout=UI_TIMEOUT_MS,
    ):
        page.locator(RUN_BUTTON).click()


def _result_text(page: Page) -> str:
    text: str = page.evaluate(
        "(selector) => document.querySelector(selector).CodeMirror.getValue()",
        f"{RESULT_WINDOW} .CodeMirror",
    )
    return text


def test_a_person_runs_a_query_from_the_playground_with_an_api_key(
    gateway: RunningGateway,
    browser_context: BrowserContext,
    page_record: PageRecord,
    tmp_path: Path,
) -> None:
    endpoint = f"{gateway.base_url}/graphql"
    page = browser_context.new_page()
    _watch(page, page_record)

    # (1) The page and all its assets come from the gateway itself.
    response = page.goto(endpoint)
    assert response is not None, "GET /graphql got no response"
    assert response.ok, f"GET /graphql answered HTTP {response.status}"
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), (
        "the playground page must be served with its strict Content-Security-Policy"
    )
    expect(page.locator(RUN_BUTTON)).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator(HEADERS_EDITOR)).to_contain_text(
        "paste your API key", timeout=UI_TIMEOUT_MS
    )
    assert page_record.off_host_requests == [], (
        "the playground page reached hosts other than the gateway (breaks air-gapped installs): "
        f"{page_record.off_host_requests}"
    )

    # (2) With the demo key in the Headers editor, the query returns the demo platform.
    _set_editor(page, QUERY_EDITOR, QUERY)
    _set_editor(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {gateway.api_key}"}))
    _run_query(page, endpoint)
    expect(page.locator(RESULT_WINDOW)).to_contain_text(
        re.compile(r'"(data|errors)"'), timeout=UI_TIMEOUT_MS
    )
    page.screenshot(path=tmp_path / "playground-with-key.png", full_page=True)
    shown = _result_text(page)
    data = (json.loads(shown).get("data") or {}).get("platform") or {}
    assert data.get("name") == "Demo", (
        f"with the demo API key the result pane should show the Demo platform, got:\n{shown}"
    )
    total = data["users"]["totalCount"]
    assert total >= 25, f"the Demo platform should have its seeded users, got {total}:\n{shown}"

    # (3) With a wrong key, a second run in the same page shows UNAUTHENTICATED.
    _set_editor(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {WRONG_KEY}"}))
    _run_query(page, endpoint)
    expect(page.locator(RESULT_WINDOW)).to_contain_text("UNAUTHENTICATED", timeout=UI_TIMEOUT_MS)
    page.screenshot(path=tmp_path / "playground-wrong-key.png", full_page=True)
    shown = _result_text(page)
    errors = json.loads(shown).get("errors") or [{}]
    assert errors[0].get("extensions", {}).get("code") == "UNAUTHENTICATED", (
        f"with a wrong API key the result pane should show UNAUTHENTICATED, got:\n{shown}"
    )

    # Nothing went wrong along the way: no off-host request, script error or CSP violation.
    csp_violations: object = page.evaluate("() => window.__csp")
    assert csp_violations == [], f"Content-Security-Policy violations: {csp_violations}"
    assert page_record.page_errors == [], f"uncaught errors in the page: {page_record.page_errors}"
    assert page_record.off_host_requests == [], (
        f"the playground reached hosts other than the gateway: {page_record.off_host_requests}"
    )
    # Chromium logs "Failed to load resource: ... 401" for every POST the gateway rejects: the
    # schema introspection with the wrong key (twice: when an answer has no "data", GraphiQL
    # retries without `subscriptionType`) and the wrong-key run. Tolerate exactly that message,
    # no more often than the gateway rejected a POST, and only for requests that did not carry
    # the demo key.
    assert all(
        post.url == endpoint and gateway.api_key not in post.authorization
        for post in page_record.rejected_posts
    ), f"the gateway rejected a request carrying the demo key: {page_record.rejected_posts}"
    rejected_401 = ConsoleError(REJECTED_401_MESSAGE, endpoint)
    unexpected = [error for error in page_record.console_errors if error != rejected_401]
    assert unexpected == [], f"console errors in the page: {unexpected}"
    assert len(page_record.console_errors) <= len(page_record.rejected_posts), (
        "more 401 console errors than rejected requests: "
        f"{page_record.console_errors} vs {page_record.rejected_posts}"
    )


def test_a_person_watches_events_arrive_in_the_playground(
    gateway: RunningGateway, browser_context: BrowserContext, page_record: PageRecord
) -> None:
    """Subscriptions run in the playground over SSE, with the key from the Headers tab."""
    endpoint = f"{gateway.base_url}/graphql"
    page = browser_context.new_page()
    _watch(page, page_record)
    page.goto(endpoint)
    expect(page.locator(RUN_BUTTON)).to_be_visible(timeout=UI_TIMEOUT_MS)
    _set_editor(page, QUERY_EDITOR, "subscription { events(types: [USER_CREATED]) { type } }")
    _set_editor(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {gateway.api_key}"}))
    _run_query(page, endpoint)  # returns once the event stream has opened
    mutation = (
        "mutation ($login: String!, $email: String!) { createUser(input: {email: $email,"
        ' login: $login, person: {natural: {firstName: "Ada", lastName: "Byron",'
        ' birthDate: "1990-01-01", nationality: "FR", address: {line1: "1 rue",'
        ' postalCode: "75001", city: "Paris", country: "FR"}}}}) { __typename } }'
    )
    for attempt in range(3):  # the stream may open a moment before it listens: bounded retries
        variables = {"login": f"watcher{attempt}", "email": f"watch{attempt}@example.com"}
        created = httpx.post(
            endpoint,
            json={"query": mutation, "variables": variables},
            timeout=10,
            headers={"Authorization": f"Bearer {gateway.api_key}"},
        )
        assert created.json()["data"]["createUser"]["__typename"] == "CreateUserSuccess"
        try:
            expect(page.locator(RESULT_WINDOW)).to_contain_text("USER_CREATED", timeout=5_000)
            break
        except AssertionError:
            continue
    expect(page.locator(RESULT_WINDOW)).to_contain_text("USER_CREATED", timeout=UI_TIMEOUT_MS)
    assert page_record.page_errors == [], page_record.page_errors
    assert page_record.off_host_requests == [], page_record.off_host_requests


def test_the_playground_sends_nothing_until_a_key_is_in_the_headers_tab(
    gateway: RunningGateway, browser_context: BrowserContext, page_record: PageRecord
) -> None:
    """Every keyless request would be a 401 counted against the address: none is sent."""
    endpoint = f"{gateway.base_url}/graphql"
    page = browser_context.new_page()
    _watch(page, page_record)
    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)

    page.goto(endpoint)
    expect(page.locator(RUN_BUTTON)).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator(HEADERS_EDITOR)).to_contain_text("paste your API key")
    page.wait_for_timeout(2_000)  # GraphiQL introspects at once on load; give it time to
    assert posts == [], f"the playground sent requests without a key: {posts}"

    _set_editor(page, QUERY_EDITOR, QUERY)
    page.locator(RUN_BUTTON).click()
    expect(page.locator(RESULT_WINDOW)).to_contain_text("No API key", timeout=UI_TIMEOUT_MS)
    assert posts == [], f"a run without a key reached the gateway: {posts}"

    def is_introspection(response: Response) -> bool:
        body = response.request.post_data or ""
        return response.url == endpoint and response.request.method == "POST" and "__schema" in body

    with page.expect_response(is_introspection, timeout=UI_TIMEOUT_MS) as introspection:
        _set_editor(
            page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {gateway.api_key}"})
        )
    assert introspection.value.status == 200
    assert "__schema" in introspection.value.json()["data"]
    page.get_by_role("button", name="Show Documentation Explorer").click()
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query", timeout=UI_TIMEOUT_MS)
    assert len(posts) == 1, f"one introspection once the key is there, got {len(posts)}"
    assert page_record.rejected_posts == []
    assert page_record.console_errors == []
    assert page_record.page_errors == []
