"""Several gateway processes on one PostgreSQL: an event committed through one instance
reaches a subscriber connected to another, carried by LISTEN/NOTIFY, or by Redis when
configured. Polling is set far beyond the test's patience, so only the carrier can deliver."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.processes import gateway_process

ADDRESS = {"line1": "1 rue", "postalCode": "75001", "city": "Paris", "country": "FR"}


async def call(http: httpx.AsyncClient, key: str, query: str, **variables: Any) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def funded_pair(http: httpx.AsyncClient, key: str) -> tuple[str, str]:
    accounts = []
    for _ in range(2):
        login = f"u{uuid.uuid4().hex[:10]}"
        person = {
            "natural": {
                "firstName": "Ada",
                "lastName": "Byron",
                "birthDate": "1990-01-01",
                "nationality": "FR",
                "address": ADDRESS,
            }
        }
        user = await call(
            http,
            key,
            "mutation ($i: CreateUserInput!) { createUser(input: $i) {"
            " ... on CreateUserSuccess { user { id } } } }",
            i={"email": f"{login}@example.com", "login": login, "person": person},
        )
        opened = await call(
            http,
            key,
            'mutation ($u: ID!) { openAccount(input: {userId: $u, currency: "EUR"}) {'
            " ... on OpenAccountSuccess { account { id } } } }",
            u=user["createUser"]["user"]["id"],
        )
        accounts.append(opened["openAccount"]["account"]["id"])
    pay_in = await call(
        http,
        key,
        "mutation ($a: ID!, $k: String!) { createPayIn(input: {creditedAccountId: $a,"
        ' method: BANK_WIRE, amount: {amount: 10000, currency: "EUR"}, idempotencyKey: $k}) {'
        " ... on CreatePayInSuccess { payIn { id } } } }",
        a=accounts[0],
        k=f"fund-{accounts[0]}",  # one key per account: a platform may fund several pairs
    )
    await call(
        http,
        key,
        "mutation ($p: ID!) { simulatePayIn(input: {payInId: $p, outcome: SUCCEEDED}) {"
        " __typename } }",
        p=pay_in["createPayIn"]["payIn"]["id"],
    )
    return accounts[0], accounts[1]


def _platform(env: dict[str, str], workdir: Path) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "gateway", "platform", "create", "--name", "Instances", "--json"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key: str = json.loads(created.stdout)["apiKey"]
    return key


@pytest.fixture
def environment(postgresql_url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MPS_DATABASE_URL": postgresql_url,
        "MPS_EVENTS_POLL_INTERVAL_S": "600",
        "MPS_LOG_LEVEL": "WARNING",
        "MPS_DOCUMENTS_DIR": str(tmp_path / "documents"),
    }
    env.pop("MPS_REDIS_URL", None)
    return env


SUBSCRIBE = {
    "id": "1",
    "type": "subscribe",
    "payload": {"query": "subscription { events(types: [TRANSFER_SUCCESSFUL]) { objectId } }"},
}
TRANSFER = (
    "mutation ($d: ID!, $c: ID!) { createTransfer(input: {debitedAccountId: $d,"
    ' creditedAccountId: $c, amount: {amount: 2500, currency: "EUR"}, idempotencyKey: "t1"})'
    " { ... on CreateTransferSuccess { transfer { id } } } }"
)


async def _transfer_reaches_the_other_instance(env: dict[str, str], workdir: Path) -> None:
    key = _platform(env, workdir)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
    with gateway_process(env, workdir) as first, gateway_process(env, workdir) as second:
        async with httpx.AsyncClient(base_url=first, timeout=10) as http:
            debited, credited = await funded_pair(http, key)
            ws_url = second.replace("http://", "ws://") + "/graphql"
            protocols: Any = ["graphql-transport-ws"]
            async with websockets.connect(ws_url, subprotocols=protocols) as ws:
                await ws.send(json.dumps(init))
                assert json.loads(await ws.recv()) == {"type": "connection_ack"}
                await ws.send(json.dumps(SUBSCRIBE))
                await asyncio.sleep(0.5)  # the subscription registers on the second instance
                moved = await call(http, key, TRANSFER, d=debited, c=credited)
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    transfer_id = moved["createTransfer"]["transfer"]["id"]
    assert message["type"] == "next", message
    assert message["payload"]["data"]["events"]["objectId"] == transfer_id


async def test_a_transfer_on_one_instance_reaches_a_subscriber_on_another_through_postgresql(
    environment: dict[str, str], tmp_path: Path
) -> None:
    await _transfer_reaches_the_other_instance(environment, tmp_path)


async def test_a_transfer_on_one_instance_reaches_a_subscriber_on_another_through_redis(
    environment: dict[str, str], tmp_path: Path, redis_url: str
) -> None:
    await _transfer_reaches_the_other_instance(
        {**environment, "MPS_REDIS_URL": redis_url}, tmp_path
    )
