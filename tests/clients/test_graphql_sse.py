"""graphql-sse (its client, with its defaults: distinct connections mode) against a real
gateway server.

`tests/js/graphql-sse-client.mjs` reads the event log with queries, follows
TRANSFER_SUCCESSFUL events with a subscription, and makes a transfer with a mutation. The
client asks for nothing but `text/event-stream`: each query and mutation is answered as one
`next` event and `complete`, the subscription as a stream of events.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.nodejs import NodeTools, RunningGateway, run_script


def test_graphql_sse_queries_mutates_and_subscribes(
    gateway: RunningGateway, node_tools: NodeTools, tmp_path: Path
) -> None:
    summary = run_script(node_tools.node, "graphql-sse-client.mjs", gateway, tmp_path / "sse.json")
    assert summary["ok"] is True

    exchanges = summary["exchanges"]
    assert {exchange["operationName"] for exchange in exchanges} == {
        "EventLog",
        "FollowEvents",
        "CreateTransfer",
    }
    for exchange in exchanges:
        assert exchange["method"] == "POST"
        assert exchange["accept"] == "text/event-stream"
        assert exchange["status"] == 200
        assert exchange["contentType"].startswith("text/event-stream")
    transfer = summary["transfer"]
    assert transfer["status"] == "SUCCEEDED"
    assert [(e["type"], e["objectId"]) for e in summary["events"]] == [
        ("TRANSFER_SUCCESSFUL", transfer["id"])
    ]
