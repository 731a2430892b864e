"""Requests that name documents by hash, and apps built with persisted-query settings."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.engine import Database

REDIS_URL = "redis://127.0.0.1:6379/0"


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def apq(document: str, version: object = 1) -> dict[str, Any]:
    """The `extensions` of Apollo's persisted-query link for `document`."""
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(document)}}


def fresh_query() -> str:
    """A query no store has seen (stores are shared by tests, Redis by test runs)."""
    return f"query Fresh {{ platform {{ name{uuid.uuid4().hex[:12]}: name }} }}"


def get_params(body: dict[str, Any]) -> dict[str, str]:
    """`body` as GET query parameters (JSON-encoded objects)."""
    return {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in body.items()}


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


@asynccontextmanager
async def app_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app (lifespan included) built with these settings."""
    async with LifespanManager(create_app(settings, db=db)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http
