"""GraphQL over HTTP content negotiation: which media type answers, with which status.

The status codes follow the GraphQL over HTTP specification: with
`application/graphql-response+json` a request error (no `data` entry) is a 400 and an
execution that started is a 200; with `application/json` both are 200 (legacy clients), and
only a request that is not GraphQL over HTTP at all (bad JSON, no query) is a 400.
"""

from __future__ import annotations

import httpx
import pytest

from gateway.graphql.runtime.negotiation import negotiate, parse_accept
from tests.conftest import PlatformHandle

QUERY = {"query": "{ platform { name } }"}
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8"
JSON = "application/json"
URQL_QUERY_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json,"
    " text/event-stream, multipart/mixed"
)
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
APOLLO_SUBSCRIPTION_ACCEPT = (
    "multipart/mixed;boundary=graphql;subscriptionSpec=1.0," + APOLLO_ACCEPT
)


async def _post(
    client: httpx.AsyncClient, platform: PlatformHandle, body: object, accept: str | None
) -> httpx.Response:
    headers = dict(platform.headers)
    if accept is not None:
        headers["Accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", JSON),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.8, application/graphql-response+json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE_JSON),
        ("text/html, */*;q=0.1", JSON),
        (APOLLO_ACCEPT, GRAPHQL_RESPONSE_JSON),
        (URQL_QUERY_ACCEPT, GRAPHQL_RESPONSE_JSON),
        ("text/event-stream, application/json", JSON),  # a query: one result, never a stream
        ("multipart/mixed;subscriptionSpec=1.0, application/json", JSON),
    ],
)
async def test_a_query_is_answered_in_the_media_type_the_client_prefers(
    client: httpx.AsyncClient, platform: PlatformHandle, accept: str | None, media_type: str
) -> None:
    response = await _post(client, platform, QUERY, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.json()["data"]["platform"]["name"]


@pytest.mark.parametrize(
    "accept", ["application/xml", "text/html", "application/json;q=0", "multipart/mixed"]
)
async def test_nothing_acceptable_is_406_with_a_json_error(
    client: httpx.AsyncClient, platform: PlatformHandle, accept: str
) -> None:
    response = await _post(client, platform, QUERY, accept)
    assert response.status_code == 406
    assert response.headers["content-type"] == JSON
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert "application/graphql-response+json" in error["message"]


async def test_a_mutation_for_a_client_that_reads_only_multipart_streams_is_not_run(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    mutation = {"query": "mutation { __typename }"}
    response = await _post(client, platform, mutation, "multipart/mixed;subscriptionSpec=1.0")
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


TWO_OPERATIONS = "query A { platform { name } } query B { platform { id } }"
REQUEST_ERRORS = [
    ({"query": "{ platform { name "}, "GRAPHQL_PARSE_FAILED"),
    ({"query": TWO_OPERATIONS}, "BAD_REQUEST"),  # which one? the request must say
    ({"query": TWO_OPERATIONS, "operationName": "C"}, "BAD_REQUEST"),
    ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    (
        {
            "query": "query ($n: Int) { platform { users(first: $n) { totalCount } } }",
            "variables": {"n": "ten"},
        },
        "BAD_USER_INPUT",
    ),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    client: httpx.AsyncClient, platform: PlatformHandle, body: dict[str, object], code: str
) -> None:
    response = await _post(client, platform, body, "application/graphql-response+json")
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    answer = response.json()
    assert "data" not in answer
    assert [error["extensions"]["code"] for error in answer["errors"]] == [code]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_200_without_data_in_json(
    client: httpx.AsyncClient, platform: PlatformHandle, body: dict[str, object], code: str
) -> None:
    response = await _post(client, platform, body, "application/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    answer = response.json()
    assert "data" not in answer
    assert [error["extensions"]["code"] for error in answer["errors"]] == [code]


@pytest.mark.parametrize("accept", ["application/graphql-response+json", "application/json"])
async def test_a_field_error_during_execution_keeps_200_and_its_data(
    client: httpx.AsyncClient, platform: PlatformHandle, accept: str
) -> None:
    body = {"query": "{ platform { users(first: 101) { totalCount } } }"}
    response = await _post(client, platform, body, accept)
    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] is None  # present: execution started
    assert answer["errors"][0]["path"] == ["platform", "users"]


@pytest.mark.parametrize("accept", ["application/graphql-response+json", "application/json"])
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": "{ platform { id } }", "variables": "x"},
        {"query": 42},
    ],
)
async def test_requests_that_are_not_graphql_over_http_are_400_in_both_media_types(
    client: httpx.AsyncClient, platform: PlatformHandle, accept: str, body: dict[str, object]
) -> None:
    response = await _post(client, platform, body, accept)
    assert response.status_code == 400
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_the_earlier_refusals_stay_as_they_were_whatever_the_accept_header(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    accept = {"Accept": "application/graphql-response+json"}
    unauthenticated = await client.post("/graphql", json=QUERY, headers=accept)
    assert unauthenticated.status_code == 401
    wrong_type = await client.post(
        "/graphql",
        content="{}",
        headers={**platform.headers, **accept, "Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    mutation_over_get = await client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={**platform.headers, **accept},
    )
    assert mutation_over_get.status_code == 405
    assert mutation_over_get.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


# ---- the Accept header itself ----------------------------------------------------------------


def test_accept_parameters_may_be_quoted_and_hold_commas() -> None:
    [multipart, json] = parse_accept(
        'multipart/mixed;boundary="a,b";subscriptionSpec="1.0", application/json;q=0.5'
    )
    assert (multipart.type, multipart.subtype, multipart.params) == (
        "multipart",
        "mixed",
        {"boundary": "a,b", "subscriptionspec": "1.0"},
    )
    assert (json.subtype, json.q, json.index) == ("json", 0.5, 1)


@pytest.mark.parametrize(
    ("accept", "single", "stream", "stream_first"),
    [
        (None, "application/json", None, False),
        ("text/event-stream", None, "sse", True),
        ("text/event-stream, multipart/mixed", None, "sse", True),  # urql, subscriptions
        (URQL_QUERY_ACCEPT, "application/graphql-response+json", "sse", False),
        (
            APOLLO_SUBSCRIPTION_ACCEPT,
            "application/graphql-response+json",
            "multipart-subscription",
            True,
        ),
        ("multipart/mixed;subscriptionSpec=1.0;boundary=other", None, None, False),
        ("multipart/mixed;deferSpec=20220824, application/json", "application/json", None, False),
        ("*/*", "application/json", None, False),  # a wildcard promises no stream reader
        ("application/json, text/event-stream;q=0.5", "application/json", "sse", False),
        ("text/event-stream;q=0, application/json", "application/json", None, False),
    ],
)
def test_negotiation_ranks_single_results_and_streams_apart(
    accept: str | None, single: str | None, stream: str | None, stream_first: bool
) -> None:
    negotiation = negotiate(accept)
    assert (negotiation.single, negotiation.stream, negotiation.stream_first) == (
        single,
        stream,
        stream_first,
    )
