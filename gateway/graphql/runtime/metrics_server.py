"""/metrics on a port of its own (`MPS_METRICS_PORT`, on `MPS_METRICS_HOST`), for deployments
that keep it off the public port: then the public port has no /metrics at all.

A small threaded WSGI server (prometheus-client's exposition, as `start_http_server` serves it)
that answers GET /metrics and a 404 for any other path. A single process starts it with its
app (the lifespan); `mps-gateway serve --workers N` starts it in the parent process, which
serves no GraphQL and reads every worker's values from the multiprocess directory.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from gateway.graphql.runtime.metrics import (
    CHALLENGE,
    REFUSAL,
    authorized,
    exposition_registry,
)

PATH = "/metrics"
StartResponse = Callable[..., Any]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _only_metrics(registry: CollectorRegistry, token: str | None) -> Callable[..., Iterable[bytes]]:
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found: metrics are at /metrics.\n"]
        if not authorized(environ.get("HTTP_AUTHORIZATION"), token):
            headers = [("Content-Type", "text/plain"), ("WWW-Authenticate", CHALLENGE)]
            start_response("401 Unauthorized", headers)
            return [REFUSAL.encode()]
        body: Iterable[bytes] = metrics_app(environ, start_response)
        return body

    return app


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        port: int = self.server.server_address[1]
        return port

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(host: str, port: int, *, token: str | None = None) -> MetricsServer:
    """Serve /metrics on `host`:`port` in a daemon thread until `stop()`; behind `token`
    (a bearer token) when one is given."""
    app = _only_metrics(exposition_registry(), token)
    kind = _ThreadingServer6 if ":" in host else _ThreadingServer
    server = make_server(host, port, app, kind, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
