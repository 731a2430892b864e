"""Self-hosted GraphiQL playground (no CDN, strict CSP).

Serves GraphiQL 3.8.3 with React 18.2.0 and @graphiql/plugin-explorer 1.0.2
from files vendored in ``static/`` (see ``static/VERSIONS.txt`` and
``static/LICENSES.txt``), so the playground works on air-gapped installs and
under a Content-Security-Policy that allows scripts from ``'self'`` only.

This module is self-contained: it imports only Starlette and the standard
library, never other ``gateway`` modules.

Usage::

    from starlette.routing import Route
    from gateway.playground import playground_response, playground_routes

    routes = [
        *playground_routes(),  # Mount("/playground/static", ...)
        Route("/graphql", lambda request: playground_response(), methods=["GET"]),
    ]
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from starlette.types import Scope

__all__ = [
    "PLAYGROUND_CSP",
    "STATIC_DIR",
    "playground_response",
    "playground_routes",
    "playground_static_app",
]

_HERE = Path(__file__).resolve().parent

#: Directory with the vendored assets and ``playground.js`` (package data).
STATIC_DIR: Path = _HERE / "static"
_PAGE_TEMPLATE_PATH = _HERE / "page.html"

#: Assets referenced by ``page.html``; each gets a ``sri_<name>`` placeholder.
_PAGE_ASSETS: tuple[str, ...] = (
    "graphiql.min.css",
    "plugin-explorer.css",
    "playground.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "playground.js",
)

#: Content-Security-Policy for the playground page and its static assets.
#:
#: * ``script-src 'self'``: no inline scripts, no ``eval``/``new Function``
#:   (GraphiQL 3.8.3's bundle only has webpack's ``new Function('return this')``
#:   fallback, which is never reached in browsers that have ``globalThis``).
#: * ``style-src 'unsafe-inline'``: GraphiQL's UI libraries (react-remove-scroll
#:   via react-style-singleton, CodeMirror, Radix) inject ``<style>`` elements
#:   and ``style`` attributes at run time.
#: * ``font-src``/``img-src`` ``data:``: graphiql.min.css embeds its Roboto and
#:   Fira Code fonts and a few PNG icons as ``data:`` URLs; the favicon too.
#: * ``connect-src 'self'``: the fetcher only talks to the same origin (CSP3
#:   ``'self'`` also matches same-host ``ws:``/``wss:`` for a later graphql-ws
#:   transport in Chromium/Firefox; add explicit ``ws:`` sources if needed).
PLAYGROUND_CSP: str = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

_PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": PLAYGROUND_CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
_REVALIDATE_CACHE = "no-cache"


def _placeholder(name: str) -> str:
    return "sri_" + re.sub(r"\W", "_", name)


@functools.lru_cache(maxsize=1)
def _asset_fingerprints() -> tuple[str, dict[str, str]]:
    """Return ``(version, {placeholder: "sha384-..."})`` for the page assets.

    ``version`` is a short digest of all asset contents, appended to asset
    URLs as ``?v=`` so the static files can be cached as immutable.
    """
    combined = hashlib.sha256()
    integrity: dict[str, str] = {}
    for name in _PAGE_ASSETS:
        data = (STATIC_DIR / name).read_bytes()
        combined.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        digest = base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")
        integrity[_placeholder(name)] = f"sha384-{digest}"
    return combined.hexdigest()[:16], integrity


@functools.lru_cache(maxsize=1)
def _page_template() -> Template:
    return Template(_PAGE_TEMPLATE_PATH.read_text(encoding="utf-8"))


def playground_response(
    *,
    endpoint: str = "/graphql",
    static_prefix: str = "/playground/static",
    title: str = "mps-gateway playground",
) -> HTMLResponse:
    """Render the playground page.

    ``endpoint`` is the GraphQL URL the page POSTs to (same origin: the CSP's
    ``connect-src`` is ``'self'``); ``static_prefix`` is where
    :func:`playground_routes` is mounted. All values are HTML-escaped.
    """
    version, integrity = _asset_fingerprints()
    page = _page_template().substitute(
        integrity,
        title=html.escape(title, quote=True),
        endpoint=html.escape(endpoint, quote=True),
        static_prefix=html.escape(static_prefix.rstrip("/"), quote=True),
        version=version,
    )
    return HTMLResponse(page, headers=_PAGE_HEADERS)


class _PlaygroundStaticFiles(StaticFiles):
    """``StaticFiles`` that adds the playground CSP and cache headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        versioned = bool(query.get("v"))
        response.headers["Cache-Control"] = _IMMUTABLE_CACHE if versioned else _REVALIDATE_CACHE
        response.headers["Content-Security-Policy"] = PLAYGROUND_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def playground_static_app() -> StaticFiles:
    """ASGI app serving ``static/``.

    Versioned URLs (``?v=...``, as emitted by the page) are cached as immutable
    for a year; unversioned requests must revalidate (ETag/Last-Modified).
    """
    return _PlaygroundStaticFiles(directory=STATIC_DIR)


def playground_routes(static_prefix: str = "/playground/static") -> list[BaseRoute]:
    """Routes to include in the app: a ``Mount`` of the static assets, gzip-compressed
    (graphiql.min.js is 3.5 MB as published, about 0.8 MB compressed)."""
    return [
        Mount(
            static_prefix.rstrip("/"),
            app=GZipMiddleware(playground_static_app(), minimum_size=1024),
            name="playground-static",
        ),
    ]
