"""Apollo Client (`@apollo/client`: ApolloClient, InMemoryCache, HttpLink with its defaults)
against a real gateway server.

`tests/js/apollo-client.mjs` subscribes over plain HTTP (Apollo's multipart subscriptions)
while mutations create and settle a pay-out, and runs queries through a PersistedQueryLink:
the gateway does not support persisted queries, and says so in the way that makes the link
send the full document, then stop sending hashes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.nodejs import NodeTools, RunningGateway, run_script

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
PAY_OUT_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_SUCCESSFUL"]


def test_apollo_client_subscribes_over_multipart_http_and_does_without_persisted_queries(
    gateway: RunningGateway, node_tools: NodeTools, tmp_path: Path
) -> None:
    summary = run_script(node_tools.node, "apollo-client.mjs", gateway, tmp_path / "apollo.json")
    assert summary["ok"] is True
    _check_the_pay_out_was_followed(summary)
    _check_the_persisted_query_link_fell_back_to_full_documents(summary)


def _check_the_pay_out_was_followed(summary: dict[str, Any]) -> None:
    [subscription] = [e for e in summary["exchanges"] if e["operationName"] == "FollowEvents"]
    assert subscription["method"] == "POST"
    assert subscription["accept"].startswith(
        "multipart/mixed;boundary=graphql;subscriptionSpec=1.0"
    )
    assert (
        subscription["contentType"] == 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"'
    )
    pay_out = summary["payOut"]
    assert pay_out["status"] == "SUCCEEDED"
    followed = [
        (e["type"], e["status"]) for e in summary["events"] if e["objectId"] == pay_out["id"]
    ]
    assert followed == list(zip(PAY_OUT_EVENTS, ["CREATED", "PENDING", "SUCCEEDED"], strict=True))

    others = [e for e in summary["exchanges"] if e["operationName"] != "FollowEvents"]
    assert {e["operationName"] for e in others} == {"EventLog", "CreatePayOut", "SimulatePayOut"}
    for exchange in others:  # Apollo prefers application/graphql-response+json
        assert exchange["status"] == 200
        assert exchange["contentType"].startswith(GRAPHQL_RESPONSE_JSON)


def _check_the_persisted_query_link_fell_back_to_full_documents(summary: dict[str, Any]) -> None:
    assert summary["persisted"]["first"]["name"]  # the query still succeeds
    assert summary["persisted"]["second"]["id"] == summary["persisted"]["first"]["id"]
    hashed, full, later = summary["persistedExchanges"]

    assert hashed["operationName"] == "PlatformName"
    assert hashed["hasQuery"] is False
    assert len(hashed["persistedQuery"]["sha256Hash"]) == 64
    assert hashed["status"] == 200
    assert hashed["errors"] == [
        {"message": "PersistedQueryNotSupported", "code": "PERSISTED_QUERY_NOT_SUPPORTED"}
    ]

    assert (full["operationName"], full["hasQuery"], full["status"]) == ("PlatformName", True, 200)
    assert full["errors"] == []
    # the link has disabled itself: the next query is sent in full, without a hash
    assert (later["operationName"], later["hasQuery"], later["persistedQuery"]) == (
        "PlatformEnvironment",
        True,
        None,
    )
    assert later["errors"] == []
