"""Webhook attempts in traces: a CLIENT span per attempt, its `traceparent` sent along.

Each attempt is a child span of the operation that wrote the event, when that operation was
traced: the event log keeps its W3C traceparent (`events.trace_parent`, written by
gateway.services.unit_of_work), so a mutation's trace shows the webhook sends it caused, even
though the dispatcher sends them later, in its own loop and possibly on another instance
(every retry is one more child, hours later if the receiver is down). An event written
outside a traced operation (tracing off then, a trace not sampled, background work) has its
attempts as traces of their own. The span also names the delivery and the event
(`mps.webhook.delivery_id`, `mps.webhook.event_id`, the id a receiver sees as `webhook-id`).
The request carries the span's W3C `traceparent`, so a receiver that traces continues the same
trace (the header is not signed: Standard Webhooks signs the id, the timestamp and the body).

Attributes: `server.address` and `server.port` (the endpoint's host, never its full URL, whose
path or query may hold a token), `http.request.method`, `http.response.status_code`,
`mps.webhook.attempt` (1 for the first attempt), `mps.webhook.event_type`, and `error.type`
with an ERROR status when the attempt failed. Without a tracer (tracing off) the attempt is
sent as it always was.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.services.deliveries import Claimed
from gateway.services.delivery_policy import DeliveryPolicy
from gateway.services.webhook_requests import AttemptResult, attempt

SPAN_NAME = "webhook send"
W3C = TraceContextTextMapPropagator()


def _attributes(item: Claimed) -> dict[str, str | int]:
    parts = urlsplit(item.url)
    default_port = 443 if parts.scheme == "https" else 80
    return {
        "http.request.method": "POST",
        "server.address": parts.hostname or "",
        "server.port": parts.port or default_port,
        "mps.webhook.attempt": item.attempts_before + 1,
        "mps.webhook.delivery_id": str(item.delivery_id),
        "mps.webhook.event_id": str(item.event.id),
        "mps.webhook.event_type": item.event.type.value,
    }


async def traced_attempt(
    tracer: Tracer | None, client: httpx.AsyncClient, item: Claimed, policy: DeliveryPolicy
) -> AttemptResult:
    """`attempt`, in a span of its own when `tracer` is given (see the module)."""
    if tracer is None:
        return await attempt(client, item, policy)
    written_in = (
        W3C.extract({"traceparent": item.event.trace_parent}) if item.event.trace_parent else None
    )
    with tracer.start_as_current_span(
        SPAN_NAME, context=written_in, kind=SpanKind.CLIENT, attributes=_attributes(item)
    ) as span:
        carrier: dict[str, str] = {}
        W3C.inject(carrier)
        result = await attempt(client, item, policy, extra_headers=carrier)
        if result.status_code is not None:
            span.set_attribute("http.response.status_code", result.status_code)
        if not result.succeeded:
            reason = result.error or f"HTTP {result.status_code}"
            error_type = str(result.status_code) if result.error is None else "attempt_failed"
            span.set_attribute("error.type", error_type)
            span.set_status(Status(StatusCode.ERROR, reason))
        return result
