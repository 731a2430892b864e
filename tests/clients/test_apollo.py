"""Apollo Client (`@apollo/client`: ApolloClient, InMemoryCache, HttpLink with its defaults)
against a real gateway server.

`tests/js/apollo-client.mjs` subscribes over plain HTTP (Apollo's multipart subscriptions)
while mutations create and settle a pay-out, and runs queries through PersistedQueryLinks
(automatic persisted queries): a first hash misses and the link sends the document, which the
gateway stores, so that the same query from another client is served by its hash alone, over
POST and, with `useGETForHashedQueries`, over GET.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.nodejs import NodeTools, RunningGateway, run_script

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
PAY_OUT_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_SUCCESSFUL"]


def test_apollo_client_subscribes_over_multipart_http_and_uses_persisted_queries(
    gateway: RunningGateway, node_tools: NodeTools, tmp_path: Path
) -> None:
    summary = run_script(node_tools.node, "apollo-client.mjs", gateway, tmp_path / "apollo.json")
    assert summary["ok"] is True
    _check_the_pay_out_was_followed(summary)
    _check_the_persisted_query_links_were_served_by_hash(summary)


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


NOT_FOUND = [{"message": "PersistedQueryNotFound", "code": "PERSISTED_QUERY_NOT_FOUND"}]


def _brief(exchange: dict[str, Any]) -> tuple[object, ...]:
    persisted = exchange["persistedQuery"] or {}
    hashed = len(persisted.get("sha256Hash", "")) == 64 and persisted.get("version") == 1
    return (
        exchange["operationName"],
        exchange["method"],
        exchange["hasQuery"],
        hashed,
        exchange["status"],
        exchange["errors"],
    )


def _check_the_persisted_query_links_were_served_by_hash(summary: dict[str, Any]) -> None:
    persisted = summary["persisted"]
    assert persisted["first"] == persisted["second"]
    assert persisted["first"]["name"]
    assert persisted["third"] == persisted["fourth"]
    assert persisted["third"]["environment"] == "SANDBOX"
    # operation, method, document sent, hash sent, status, errors
    assert [_brief(exchange) for exchange in summary["persistedExchanges"]] == [
        ("PlatformName", "POST", False, True, 200, NOT_FOUND),  # a miss: the link resends
        ("PlatformName", "POST", True, True, 200, []),  # stored, executed
        ("PlatformName", "POST", False, True, 200, []),  # another client: the hash alone
        ("PlatformEnvironment", "GET", False, True, 200, NOT_FOUND),
        ("PlatformEnvironment", "POST", True, True, 200, []),
        ("PlatformEnvironment", "GET", False, True, 200, []),
    ]
