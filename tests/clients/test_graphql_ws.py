"""A real graphql-ws client (Node.js) follows a pay-out through a real gateway server, then resumes.

The gateway process, its platform and funded holder, and Node.js come from tests.support.nodejs.

`tests/js/follow-pay-out.mjs` then uses the `graphql-ws` client over `ws` to:

0. see a wrong API key in `connection_init` refused (close code 4403);
1. follow one pay-out (`objectId` filter) from CREATED to SUCCEEDED: PAY_OUT_CREATED,
   PAY_OUT_PENDING, PAY_OUT_SUCCESSFUL, in order, each with the object as it is now;
2. dispose of its client, make more events while nobody listens (a pay-out that fails, a
   transfer), reconnect with a new client and `after: <last cursor received>`, and receive
   exactly the missed events in order (checked against `Platform.events(after:)`), then a
   live one, with no duplicate; the server's keep-alive pings (every 0.5 s here) are
   answered by graphql-ws on its own.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.nodejs import NodeTools, RunningGateway, run_script

PAY_OUT_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_SUCCESSFUL"]
MISSED_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_FAILED", "TRANSFER_SUCCESSFUL"]


# ---- The test -------------------------------------------------------------------------------


def test_a_graphql_ws_client_follows_a_pay_out_and_resumes_after_its_last_cursor(
    gateway: RunningGateway, node_tools: NodeTools, tmp_path: Path
) -> None:
    summary = run_script(
        node_tools.node,
        "follow-pay-out.mjs",
        gateway,
        tmp_path / "summary.json",
        MPS_STEP_TIMEOUT_MS="10000",
        MPS_TIMEOUT_MS="60000",
        MPS_MIN_PINGS="1",
    )
    assert summary["ok"] is True
    assert summary["wrongKey"]["code"] == 4403  # connection_init with a wrong key is refused

    followed = summary["payOut"]["events"]
    assert [event["type"] for event in followed] == PAY_OUT_EVENTS
    assert [event["status"] for event in followed] == ["CREATED", "PENDING", "SUCCEEDED"]
    assert [event["previousStatus"] for event in followed] == [None, "CREATED", "PENDING"]
    assert {event["objectId"] for event in followed} == {summary["payOut"]["id"]}
    assert followed[0]["object"]["status"] == "CREATED"  # received before it was settled
    assert followed[-1]["object"]["status"] == "SUCCEEDED"

    missed = summary["missed"]
    assert missed["expectedTypes"] == MISSED_EVENTS
    assert missed["receivedCount"] == missed["expectedCount"] == len(MISSED_EVENTS)
    assert [event["type"] for event in missed["events"]] == MISSED_EVENTS
    assert summary["live"]["type"] == "TRANSFER_SUCCESSFUL"

    received = [*followed, *missed["events"], summary["live"]]
    ids = [event["id"] for event in received]
    assert len(set(ids)) == len(ids) == summary["eventsReceived"], f"duplicates in {ids}"
    assert summary["duplicates"] == 0

    first, second = summary["connections"]
    assert first["connected"] == second["connected"] == 1  # no silent reconnection
    assert first["closes"] == [{"code": 1000, "reason": "Normal Closure"}]
    assert second["pingsReceived"] >= 1
    assert second["pongsSent"] == second["pingsReceived"]
