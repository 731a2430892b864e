"""Webhook endpoints: registered with a secret shown once, listed, deleted, per platform."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import PlatformHandle, make_platform
from tests.support import data
from tests.support.documents import document

CREATE = document("CreateWebhookEndpoint")
DELETE = """mutation ($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) {
  __typename ... on DeleteWebhookEndpointSuccess { deletedId } ... on Rejection { code }
} }"""
LIST = "{ platform { webhookEndpoints { id url eventTypes enabled } } }"


async def _create(client: httpx.AsyncClient, platform: PlatformHandle, **fields: Any) -> Any:
    result = await data(client, CREATE, {"input": fields}, headers=platform.headers)
    return result["createWebhookEndpoint"]


async def test_an_endpoint_is_created_with_a_secret_shown_once_and_listed_without_it(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    created = await _create(
        client,
        platform,
        url="https://hooks.example.com/mps",
        eventTypes=["PAY_IN_SUCCESSFUL", "TRANSFER_SUCCESSFUL"],
    )
    assert created["__typename"] == "CreateWebhookEndpointSuccess"
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 40
    listed = (await data(client, LIST, headers=platform.headers))["platform"]["webhookEndpoints"]
    assert listed == [created["endpoint"]]
    assert created["secret"] not in str(listed)
    assert sorted(created["endpoint"]["eventTypes"]) == ["PAY_IN_SUCCESSFUL", "TRANSFER_SUCCESSFUL"]


async def test_a_deleted_endpoint_is_gone_and_cannot_be_deleted_twice(
    client: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    endpoint_id = (await _create(client, platform, url="https://hooks.example.com/a"))["endpoint"][
        "id"
    ]
    first = await data(client, DELETE, {"id": endpoint_id}, headers=platform.headers)
    assert first["deleteWebhookEndpoint"] == {
        "__typename": "DeleteWebhookEndpointSuccess",
        "deletedId": endpoint_id,
    }
    again = await data(client, DELETE, {"id": endpoint_id}, headers=platform.headers)
    assert again["deleteWebhookEndpoint"] == {
        "__typename": "NotFoundRejection",
        "code": "NOT_FOUND",
    }
    assert (await data(client, LIST, headers=platform.headers))["platform"][
        "webhookEndpoints"
    ] == []
    node = await data(
        client,
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": endpoint_id},
        headers=platform.headers,
    )
    assert node == {"node": None}


async def test_another_platform_can_neither_see_nor_delete_an_endpoint(
    client: httpx.AsyncClient, db: Database, platform: PlatformHandle
) -> None:
    intruder = await make_platform(db)
    endpoint_id = (await _create(client, platform, url="https://hooks.example.com/b"))["endpoint"][
        "id"
    ]
    attempt = await data(client, DELETE, {"id": endpoint_id}, headers=intruder.headers)
    assert attempt["deleteWebhookEndpoint"]["__typename"] == "NotFoundRejection"
    listed = await data(client, LIST, headers=intruder.headers)
    assert listed["platform"]["webhookEndpoints"] == []
    node = await data(
        client,
        "query ($id: ID!) { node(id: $id) { id } }",
        {"id": endpoint_id},
        headers=intruder.headers,
    )
    assert node == {"node": None}
    mine = (await data(client, LIST, headers=platform.headers))["platform"]["webhookEndpoints"]
    assert [endpoint["id"] for endpoint in mine] == [endpoint_id]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://localhost/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://printer.local/x",
        "https://user:pass@hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "not a url",
        "https://hooks.example.com:99999/x",
        "https://" + "a" * 2100 + ".com/",
    ],
)
async def test_endpoint_urls_must_be_public_https(
    client: httpx.AsyncClient, platform: PlatformHandle, url: str
) -> None:
    created = await _create(client, platform, url=url)
    assert created["__typename"] == "ValidationRejection"
    assert [problem["field"] for problem in created["fields"]] == ["url"]
    assert (await data(client, LIST, headers=platform.headers))["platform"][
        "webhookEndpoints"
    ] == []
