"""Typed settings, read once from the environment (prefix MPS_) or a `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.domain.documents import DOCUMENT_BYTES_MAX
from gateway.services.delivery_policy import RETRY_SCHEDULE_S

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///mps-gateway.db"

# What browser clients send: the key, Apollo Client's client awareness and CSRF headers,
# distributed tracing (W3C Trace Context and Baggage, Sentry), a request id and EventSource's
# Last-Event-ID.
CORS_ALLOWED_HEADERS_DEFAULT = (
    "Authorization",
    "Content-Type",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "Apollographql-Client-Name",
    "Apollographql-Client-Version",
    "Traceparent",
    "Tracestate",
    "Baggage",
    "Sentry-Trace",
    "X-Request-Id",
    "Last-Event-ID",  # sent by EventSource when it reconnects (the cursor to resume after)
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MPS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite+aiosqlite:///path.db (default: a file in the working directory)"
        " or postgresql+asyncpg://user@host:5432/db",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply database migrations when the server starts."
    )
    request_body_bytes_max: int = Field(
        default=1_000_000, ge=1_000, description="Largest JSON request body accepted."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    gc_tuning: bool = Field(
        default=True,
        description="At startup, freeze what the app has built (never traversed again) and"
        " collect young objects every 50,000 allocations instead of 700: halves the CPU of a"
        " large response. Process-wide; off for embedding in a process with other work.",
    )
    documents_dir: Path = Field(
        default=Path("mps-documents"),
        description="Where KYC files are stored (outside the database), one folder per platform.",
    )
    document_bytes_max: int = Field(
        default=DOCUMENT_BYTES_MAX,
        ge=1_024,
        le=100 * 1024 * 1024,
        description="Largest KYC document accepted.",
    )
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Let webhook endpoints use http and private or loopback hosts (tests,"
        " closed networks); off in production.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0: carry event notifications and credential"
        " invalidations between gateway instances through Redis (else PostgreSQL"
        " LISTEN/NOTIFY on PostgreSQL, in-process on SQLite).",
    )
    credential_cache_ttl_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long an instance keeps an API key or a user token it verified, so"
        " that its next requests cost no SQL statement (0: read the database every time)."
        " Revoking a key, revoking a user's tokens, blocking or closing a user drops them from"
        " every instance's cache as it commits (through the carrier of MPS_REDIS_URL, else"
        " PostgreSQL NOTIFY); this bounds how long a lost invalidation may go unseen.",
    )
    ws_connection_init_timeout_s: float = Field(
        default=10.0, gt=0, description="Close a WebSocket that sends no connection_init in time."
    )
    ws_keep_alive_s: float = Field(
        default=15.0, gt=0, description="Interval of keep-alive pings on idle subscriptions."
    )
    ws_subscriptions_per_connection_max: int = Field(
        default=20, ge=1, description="Subscriptions one WebSocket connection may hold at once."
    )
    ws_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to open WebSockets (JSON list); empty: any origin (API"
        " keys are not ambient credentials).",
    )
    subscriber_queue_max: int = Field(
        default=1000,
        ge=10,
        description="Events buffered per subscriber; one that falls further behind is closed"
        " (code 4008) and resumes with `after`.",
    )
    events_poll_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="How often subscribers' platforms are polled for events whose notification"
        " was lost (the event log is the source of truth).",
    )
    webhook_delivery: bool = Field(
        default=True, description="Deliver events to webhook endpoints from this instance."
    )
    webhook_dispatch_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Pause between two passes of the webhook dispatcher (enqueue, then send"
        " what is due).",
    )
    webhook_request_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Deadline of one webhook delivery attempt: resolving, connecting, sending"
        " and reading the answer.",
    )
    webhook_lease_s: float = Field(
        default=10.0,
        ge=1,
        le=600,
        description="How long a dispatcher holds the deliveries it claimed; renewed every third"
        " of it while it sends them, so those of an instance that died are sent again by"
        " another within this time.",
    )
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: list(RETRY_SCHEDULE_S),
        min_length=1,
        max_length=50,
        description="Seconds to wait after each failed delivery attempt (JSON list); a"
        " delivery fails after one attempt more than the list is long.",
    )
    shutdown_grace_s: int = Field(
        default=15,
        ge=1,
        le=600,
        description="On SIGTERM: how long requests in flight may take to finish, then how long"
        " the webhook dispatcher may take to send and record the batch it is sending (beyond"
        " it, what is still claimed goes out again after its lease).",
    )
    group_commit_wait_ms: float = Field(
        default=1.0,
        ge=0,
        le=50,
        description="How long a batch of writes waits for more company once writes arrive"
        " together (a lone write never waits); see Group commit in the README.",
    )
    group_commit_size_max: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Most writes one group commit (one database transaction) carries.",
    )
    settler_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="Sandbox settler: decide pending sandbox items older than this (off when"
        " unset; `serve --demo` sets 5).",
    )
    document_expiry: bool = Field(
        default=True,
        description="Run the sweep that turns expired VALIDATED documents OUT_OF_DATE from this"
        " instance (at start, then every `document_expiry_interval_s`).",
    )
    document_expiry_interval_s: float = Field(
        default=3600.0,
        gt=0,
        le=86_400,
        description="Pause between two sweeps that turn expired VALIDATED documents OUT_OF_DATE"
        " (every platform, production included).",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production: no introspection, field suggestions or playground; JSON logs;"
        " no cross-origin browser access unless listed; uploads need a CSRF preflight header.",
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may call /graphql over HTTP (JSON list); empty: any"
        " origin in development, none in production.",
    )
    cors_allowed_headers: list[str] = Field(
        default_factory=lambda: list(CORS_ALLOWED_HEADERS_DEFAULT),
        description="Request headers pages of the allowed origins may send (JSON list; replaces"
        ' the default list; ["*"]: any).',
    )
    cors_extra_allowed_headers: list[str] = Field(
        default_factory=list,
        description="Request headers allowed in addition to `cors_allowed_headers` (JSON list).",
    )
    rate_limit_window_s: int = Field(
        default=60, ge=1, le=86_400, description="The window of every rate limit (moving)."
    )
    rate_limit_requests: int | None = Field(
        default=600,
        ge=0,
        description="HTTP requests per credential (API key or user token) per window; 0: off.",
    )
    rate_limit_subscriptions: int | None = Field(
        default=60,
        ge=0,
        description="New subscriptions (SSE requests, WebSocket subscribe messages) per"
        " credential per window; 0: off.",
    )
    rate_limit_failed_authentications: int | None = Field(
        default=30,
        ge=0,
        description="Failed authentications per client address per window, after which the"
        " address is refused (429) before any key lookup; 0: off.",
    )
    query_bytes_max: int = Field(
        default=50_000,
        ge=1_000,
        le=1_000_000,
        description="Largest GraphQL document (the `query` string, UTF-8 bytes);"
        " QUERY_TOO_LARGE beyond.",
    )
    query_tokens_max: int = Field(
        default=5_000,
        ge=100,
        le=100_000,
        description="Most lexical tokens (comments included) in a document; TOO_MANY_TOKENS.",
    )
    query_depth_max: int = Field(
        default=15,
        ge=2,
        le=100,
        description="Deepest nesting of fields, fragments expanded (introspection needs 15);"
        " QUERY_TOO_DEEP.",
    )
    query_aliases_max: int = Field(
        default=30, ge=0, le=1_000, description="Most aliases per operation; TOO_MANY_ALIASES."
    )
    query_directives_max: int = Field(
        default=50,
        ge=0,
        le=1_000,
        description="Most directives written in a document; TOO_MANY_DIRECTIVES.",
    )
    query_cost_max: int = Field(
        default=20_000,
        ge=100,
        le=10_000_000,
        description="Largest cost of an operation (1 per field, times first/last on"
        " connections, times the ids of nodes); QUERY_TOO_COMPLEX.",
    )
    query_cost_report: bool = Field(
        default=True,
        description="Add the cost to the `extensions` of every response (when off, only when"
        ' the request\'s `extensions` hold `{"cost": true}`).',
    )
    compiled_reads: bool = Field(
        default=True,
        description="Run each read document through a plan compiled once (gateway.graphql"
        ".compiled), which answers byte for byte as the general executor does; false sends every"
        " document to the general executor.",
    )

    persisted_queries: bool = Field(
        default=True,
        description="Automatic persisted queries (Apollo's `extensions.persistedQuery`): a"
        " document sent once with its sha256 is then run by its hash alone. Off: a hash that is"
        " not a trusted document gets PersistedQueryNotSupported.",
    )
    persisted_queries_max: int = Field(
        default=1_000,
        ge=1,
        le=1_000_000,
        description="Most automatic persisted queries kept (least recently used go first; in"
        " Redis, the oldest stored).",
    )
    persisted_queries_ttl_s: int = Field(
        default=86_400,
        ge=1,
        description="How long Redis keeps an automatic persisted query (with `redis_url`).",
    )
    trusted_documents: list[Path] | None = Field(
        default=None,
        description="Trusted documents (JSON list of paths): directories of .graphql files,"
        ' .graphql files, JSON manifests {"<sha256>": "<document>"} (GraphQL Code Generator\'s'
        " persisted-documents.json, Relay's persistOutput). Unset: the project's queries/"
        " folder when present. Checked and validated at start-up.",
    )
    trusted_documents_only: bool = Field(
        default=False,
        description="Run only trusted documents (PERSISTED_QUERY_NOT_TRUSTED for any other),"
        " over HTTP and WebSocket; no automatic persisted queries are stored.",
    )

    # Metrics.
    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics at /metrics (on the public port, or only on"
        " `metrics_port` when that is set).",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65_535,
        description="Serve /metrics on this port of its own (with `metrics_host`) instead of"
        " the public one; with `serve --workers N`, the parent process serves every worker's.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        max_length=255,
        description="The address the metrics port listens on (with `metrics_port`).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="A bearer token /metrics asks for (`Authorization: Bearer <token>`, on"
        " either port; 401 without it). Unset: /metrics asks for no credential.",
    )

    # Traces.
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry traces: a span per request, GraphQL operation, SQL statement"
        " and webhook attempt, exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT when set."
        " Off: no instrumentation is installed at all.",
    )
    tracing_console: bool = Field(
        default=False,
        description="With MPS_TRACING and no OTLP endpoint: print each span to standard output"
        " (development).",
    )

    # Retention and webhook management.
    retention: bool = Field(
        default=True,
        description="Purge old idempotency records and finished webhook deliveries from this"
        " instance, every `retention_interval_s` (several instances may: the deletes are"
        " idempotent).",
    )
    retention_interval_s: float = Field(
        default=3600, gt=0, le=7 * 86_400, description="Pause between two purges."
    )
    idempotency_retention_hours: int = Field(
        default=48,
        ge=24,
        le=24 * 365,
        description="Idempotency records older than this are purged: a request repeating"
        " their key afterwards is a new request. At least 24 h (the documented guarantee).",
    )
    delivery_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Webhook deliveries (SUCCEEDED or FAILED, never PENDING) created longer ago"
        " than this are purged with their attempts.",
    )
    retention_batch_size: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Rows deleted per purge batch, each batch a short transaction of its own.",
    )
    retention_pause_s: float = Field(
        default=0.2,
        ge=0,
        le=60,
        description="Pause between two purge batches, so other writers get the tables.",
    )

    # Server-sent events.
    sse_retry_ms: int = Field(
        default=3_000,
        ge=100,
        le=300_000,
        description="The `retry:` each SSE stream opens with: how long a browser's EventSource"
        " waits before it reconnects (and resumes with Last-Event-ID) when a stream breaks.",
    )

    # Statements and exports.
    export_batch_rows: int = Field(
        default=1_000,
        ge=1,
        le=10_000,
        description="Rows a CSV export reads per SQL statement (keyset batches): what an export"
        " holds in memory at a time, however long its window.",
    )

    @field_validator("cors_allowed_headers", "cors_extra_allowed_headers")
    @classmethod
    def _header_names(cls, names: list[str]) -> list[str]:
        """Header names, so that a comma-joined string in one entry is refused, not ignored."""
        for name in names:
            if name != "*" and not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"not an HTTP header name: {name!r}")
        return names
