"""urql (`@urql/core`, its defaults, `fetchSubscriptions: true`) against a real gateway server.

`tests/js/urql-client.mjs` reads the event log with a query, sends an invalid query, follows
TRANSFER_SUCCESSFUL events with a subscription over HTTP, and makes a transfer with a
mutation. urql asks for `text/event-stream` with every operation: queries and mutations must
still be answered with one JSON result (the media type it prefers), and only the
subscription with a stream, which urql can read (its events end with `\\n\\n`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.nodejs import NodeTools, RunningGateway, run_script

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def _exchanges(summary: dict[str, Any], operation: str) -> list[dict[str, Any]]:
    found = [item for item in summary["exchanges"] if item["operationName"] == operation]
    assert found, f"no {operation} request among {summary['exchanges']}"
    return found


def test_urql_queries_mutates_and_subscribes_over_http(
    gateway: RunningGateway, node_tools: NodeTools, tmp_path: Path
) -> None:
    summary = run_script(node_tools.node, "urql-client.mjs", gateway, tmp_path / "urql.json")
    assert summary["ok"] is True

    for operation in ("EventLog", "CreateTransfer"):
        for exchange in _exchanges(summary, operation):
            assert "text/event-stream" in exchange["accept"]  # urql offers to read a stream...
            assert exchange["status"] == 200
            assert exchange["contentType"].startswith(GRAPHQL_RESPONSE_JSON)  # ...gets JSON
    [mutation] = _exchanges(summary, "CreateTransfer")
    assert mutation["method"] == "POST"

    [invalid] = _exchanges(summary, "Invalid")
    assert invalid["status"] == 400  # a request error, in the media type urql prefers
    assert invalid["contentType"].startswith(GRAPHQL_RESPONSE_JSON)
    assert invalid["hasData"] is False
    assert summary["invalid"] == {"codes": ["GRAPHQL_VALIDATION_FAILED"], "data": None}

    [subscription] = _exchanges(summary, "FollowEvents")
    assert subscription["method"] == "POST"
    assert subscription["contentType"].startswith("text/event-stream")
    transfer = summary["transfer"]
    assert transfer["status"] == "SUCCEEDED"
    assert [(e["type"], e["objectId"]) for e in summary["events"]] == [
        ("TRANSFER_SUCCESSFUL", transfer["id"])
    ]
