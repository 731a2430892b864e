"""CORS preflights as browsers send them, through the real app.

A browser asks before a cross-origin POST that carries anything beyond the safelisted headers:
`OPTIONS` with `Origin`, `Access-Control-Request-Method` and `Access-Control-Request-Headers`.
Apollo Client (client awareness, CSRF prevention), OpenTelemetry and Sentry browser SDKs
(tracing) add headers of their own; if one is not allowed, the browser never sends the request.
Origins stay as configured: any in development when none is listed, only the listed ones in
production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pydantic
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import CORS_ALLOWED_HEADERS_DEFAULT, Settings

APP = "https://app.example"
BROWSER_HEADERS = [
    "authorization",
    "content-type",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    "x-request-id",
    "last-event-id",
]


@pytest.fixture
def base(sqlite_url: str) -> Settings:
    """Settings over a SQLite file, with no background work that could outlive a test."""
    return Settings(database_url=sqlite_url, gc_tuning=False, webhook_delivery=False)


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def preflight(settings: Settings, headers: str, origin: str = APP) -> httpx.Response:
    async with app_client(settings) as http:
        return await http.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": headers,
            },
        )


def allowed_headers(response: httpx.Response) -> set[str]:
    listed = response.headers.get("access-control-allow-headers", "")
    return {name.strip().lower() for name in listed.split(",") if name.strip()}


MODES: dict[str, dict[str, Any]] = {
    "development": {},
    "production": {"environment": "production", "cors_allowed_origins": [APP]},
}


def test_the_default_list_holds_every_header_browser_clients_send() -> None:
    assert {name.lower() for name in CORS_ALLOWED_HEADERS_DEFAULT} == set(BROWSER_HEADERS)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("header", BROWSER_HEADERS)
async def test_a_browser_may_send_the_header_of_a_real_client(
    base: Settings, mode: str, header: str
) -> None:
    response = await preflight(base.model_copy(update=MODES[mode]), header)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in ("*", APP)
    assert "POST" in response.headers["access-control-allow-methods"]
    assert header in allowed_headers(response)


async def test_a_browser_may_send_them_all_at_once(base: Settings) -> None:
    response = await preflight(base, ", ".join(BROWSER_HEADERS))
    assert response.status_code == 200, response.text
    assert set(BROWSER_HEADERS) <= allowed_headers(response)


@pytest.mark.parametrize("mode", MODES)
async def test_an_unlisted_header_is_not_allowed(base: Settings, mode: str) -> None:
    response = await preflight(base.model_copy(update=MODES[mode]), "traceparent, x-tenant")
    assert response.status_code == 400
    assert "x-tenant" not in allowed_headers(response)


async def test_production_keeps_pages_of_other_origins_out(base: Settings) -> None:
    settings = base.model_copy(update=MODES["production"])
    other = await preflight(settings, "traceparent", origin="https://evil.example")
    unlisted = await preflight(base.model_copy(update={"environment": "production"}), "baggage")
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in unlisted.headers


async def test_extra_headers_add_to_the_default_list(base: Settings) -> None:
    settings = base.model_copy(update={"cors_extra_allowed_headers": ["X-Tenant"]})
    response = await preflight(settings, "x-tenant, sentry-trace, authorization")
    assert response.status_code == 200, response.text


async def test_a_list_of_allowed_headers_replaces_the_default_one(base: Settings) -> None:
    settings = base.model_copy(update={"cors_allowed_headers": ["Authorization", "Content-Type"]})
    kept = await preflight(settings, "authorization, content-type")
    dropped = await preflight(settings, "authorization, traceparent")
    assert kept.status_code == 200, kept.text
    assert dropped.status_code == 400
    assert "traceparent" not in allowed_headers(dropped)


def test_the_header_lists_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("MPS_CORS_EXTRA_ALLOWED_HEADERS", '["X-Tenant", "X-Client-Build"]')
    monkeypatch.setenv("MPS_CORS_ALLOWED_HEADERS", '["Authorization"]')
    settings = Settings(database_url=sqlite_url)
    assert settings.cors_extra_allowed_headers == ["X-Tenant", "X-Client-Build"]
    assert settings.cors_allowed_headers == ["Authorization"]


@pytest.mark.parametrize("entry", ["Authorization, Content-Type", "X Tenant", ""])
def test_an_entry_that_is_not_one_header_name_is_refused(entry: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="not an HTTP header name"):
        Settings(cors_extra_allowed_headers=[entry])
