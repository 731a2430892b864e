"""What the background services measure for /metrics (gateway.graphql.runtime.metrics): the
event hub's lag and the webhook dispatcher's results and backlog.

- Hub lag, in events: for each platform with subscribers in this process, the newest sequence a
  carrier announced minus the last one the hub has fanned out, summed; 0 once it caught up.
  In seconds: how long after an event was committed (its `occurredAt`) the hub fanned it out.
- Webhooks: every attempt by result (`succeeded`, `failed`: the endpoint answered otherwise
  or not at all, `unrecorded`: its claim was lost before the result was recorded), and how
  long the most overdue pending delivery has been due, read at the start of each dispatch
  pass (one indexed read), 0 when none is.
"""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter, Gauge, Histogram

HUB_LAG_EVENTS = Gauge(
    "mps_event_hub_lag_events",
    "Events committed and announced but not yet fanned out to this process's subscribers.",
    multiprocess_mode="livesum",
)
HUB_DELAY_SECONDS = Histogram(
    "mps_event_hub_delay_seconds",
    "Seconds from an event's commit to the hub fanning it out to subscribers.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
WEBHOOK_DELIVERIES = Counter(
    "mps_webhook_deliveries",
    "Webhook delivery attempts by result.",
    ["result"],
)
WEBHOOK_OLDEST_PENDING_AGE = Gauge(
    "mps_webhook_oldest_pending_age_seconds",
    "Age in seconds of the oldest pending webhook delivery (0 when none is pending).",
    multiprocess_mode="livemax",
)


def event_fanned_out(occurred_at: dt.datetime) -> None:
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    delay_s = (dt.datetime.now(dt.UTC) - occurred_at).total_seconds()
    HUB_DELAY_SECONDS.observe(max(0.0, delay_s))


def webhook_attempted(*, succeeded: bool, recorded: bool) -> None:
    result = "unrecorded" if not recorded else "succeeded" if succeeded else "failed"
    WEBHOOK_DELIVERIES.labels(result).inc()


def oldest_pending_age(created_at: dt.datetime | None, *, now: dt.datetime) -> None:
    """Set the backlog gauge from when the oldest pending delivery was enqueued (0: none)."""
    if created_at is None:
        WEBHOOK_OLDEST_PENDING_AGE.set(0)
        return
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=dt.UTC)
    WEBHOOK_OLDEST_PENDING_AGE.set(max(0.0, (now - created_at).total_seconds()))
