"""Webhook attempts in traces: a span per attempt, a child of the traced operation that wrote
the event (its own trace when none did), whose W3C `traceparent` the receiver gets; through
the dispatcher directly and through a running gateway whose mutation made the event."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.domain.enums import EventType
from gateway.services.demo import populate
from gateway.services.webhook_dispatcher import dispatch_once
from gateway.services.webhook_requests import new_client
from gateway.services.webhook_traces import SPAN_NAME
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support.documents import document
from tests.support.server import serve
from tests.support.websocket import create_user
from tests.webhooks.conftest import FAST, Endpoints, eventually
from tests.webhooks.receiver import Receiver

PASSES_MAX = 30
CREATE = document("CreateWebhookEndpoint")


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    found = InMemorySpanExporter()
    yield found
    found.shutdown()


def provider_for(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def traceparent_of(span: ReadableSpan) -> str:
    """The version, trace id and parent id of the span's `traceparent` (not its flags)."""
    assert span.context is not None
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}"


def ids_of(traceparent: str | None) -> str | None:
    return None if traceparent is None else traceparent.rsplit("-", 1)[0]


async def test_each_attempt_of_an_untraced_event_is_a_trace_of_its_own_the_receiver_continues(
    db: Database, endpoints: Endpoints, receiver: Receiver, exporter: InMemorySpanExporter
) -> None:
    receiver.fail_first = 1
    platform = await make_platform(db)
    endpoint = await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await populate(db, platform_id=platform.id, natural_users=1, legal_users=0, seed=7)
    tracer = provider_for(exporter).get_tracer("test")
    async with new_client(FAST) as client:
        for _ in range(PASSES_MAX):
            await dispatch_once(db, client=client, policy=FAST, tracer=tracer)
            if receiver.accepted:
                break

    first, second = receiver.requests
    spans = [span for span in exporter.get_finished_spans() if span.name == SPAN_NAME]
    assert [traceparent_of(span) for span in spans] == [
        ids_of(first.traceparent),
        ids_of(second.traceparent),
    ]
    failed, succeeded = spans
    assert [(span.attributes or {})["mps.webhook.attempt"] for span in spans] == [1, 2]
    assert [(span.attributes or {})["http.response.status_code"] for span in spans] == [500, 200]
    assert failed.status.status_code is StatusCode.ERROR
    assert succeeded.status.status_code is StatusCode.UNSET
    for span in spans:
        attributes = span.attributes or {}
        assert span.kind is SpanKind.CLIENT
        assert span.parent is None  # populate ran in no trace: nothing to continue
        assert attributes["server.address"] == "127.0.0.1"
        assert attributes["server.port"] == receiver.port
        assert attributes["mps.webhook.event_id"] == first.webhook_id
        assert attributes["mps.webhook.event_type"] == "USER_CREATED"
        assert "url.full" not in attributes
    assert spans[0].context is not None
    assert spans[1].context is not None
    assert spans[0].context.trace_id != spans[1].context.trace_id
    assert endpoint.id is not None


async def test_each_attempt_of_an_event_written_in_a_trace_is_a_child_of_its_writer(
    db: Database, endpoints: Endpoints, receiver: Receiver, exporter: InMemorySpanExporter
) -> None:
    receiver.fail_first = 1
    platform = await make_platform(db)
    await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    tracer = provider_for(exporter).get_tracer("test")
    with tracer.start_as_current_span("writer") as writer:
        await populate(db, platform_id=platform.id, natural_users=1, legal_users=0, seed=9)
    async with new_client(FAST) as client:  # later, outside the writer's span
        for _ in range(PASSES_MAX):
            await dispatch_once(db, client=client, policy=FAST, tracer=tracer)
            if receiver.accepted:
                break

    spans = [span for span in exporter.get_finished_spans() if span.name == SPAN_NAME]
    assert len(spans) == 2  # the failed attempt and its retry
    written = writer.get_span_context()
    for span, request in zip(spans, receiver.requests, strict=True):
        assert span.parent is not None
        assert (span.parent.trace_id, span.parent.span_id) == (
            written.trace_id,
            written.span_id,
        )
        assert ids_of(request.traceparent) == traceparent_of(span)  # the same trace, onwards


async def test_without_a_tracer_an_attempt_sends_no_traceparent(
    db: Database, endpoints: Endpoints, receiver: Receiver
) -> None:
    platform = await make_platform(db)
    await endpoints.create(platform.id, receiver, types=[EventType.USER_CREATED])
    await populate(db, platform_id=platform.id, natural_users=1, legal_users=0, seed=8)
    async with new_client(FAST) as client:
        for _ in range(PASSES_MAX):
            await dispatch_once(db, client=client, policy=FAST)
            if receiver.accepted:
                break

    [request] = receiver.requests
    assert request.traceparent is None


async def test_a_mutation_through_a_traced_gateway_leads_to_a_send_span_the_receiver_continues(
    db: Database, settings: Settings, receiver: Receiver, endpoints: Endpoints
) -> None:
    platform = await make_platform(db)
    exporter = InMemorySpanExporter()
    changes = {
        "tracing": True,
        "webhook_delivery": True,
        "webhook_dispatch_interval_s": 0.02,
        "webhook_allow_private_urls": True,
    }
    async for live in serve(settings.model_copy(update=changes), db, span_exporter=exporter):
        async with httpx.AsyncClient(base_url=live.http) as http:
            variables = {"input": {"url": receiver.url, "eventTypes": ["USER_CREATED"]}}
            response = await http.post(
                "/graphql",
                json={"query": CREATE, "variables": variables},
                headers=platform.headers,
            )
        created = response.json()["data"]["createWebhookEndpoint"]
        receiver.secret = created["secret"]
        endpoints.created.append((platform.id, uuid.UUID(created["endpoint"]["id"])))
        await create_user(live, platform)
        await eventually(lambda: bool(receiver.accepted))
        await eventually(lambda: _sends(exporter) != [])
        await asyncio.sleep(0)

    [request] = receiver.requests
    [send] = _sends(exporter)
    assert ids_of(request.traceparent) == traceparent_of(send)
    assert (send.attributes or {})["mps.webhook.attempt"] == 1
    assert (send.attributes or {})["http.response.status_code"] == 200
    [mutation] = [s for s in exporter.get_finished_spans() if s.name == "mutation"]
    assert (mutation.attributes or {})["graphql.operation.type"] == "mutation"
    assert mutation.context is not None
    assert send.context is not None
    # Sent later, by the dispatcher's loop, yet in the mutation's trace, under one of its spans.
    assert send.context.trace_id == mutation.context.trace_id
    assert send.parent is not None
    in_the_trace = {
        span.context.span_id
        for span in exporter.get_finished_spans()
        if span.context is not None and span.context.trace_id == mutation.context.trace_id
    }
    assert send.parent.span_id in in_the_trace


def _sends(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == SPAN_NAME]
