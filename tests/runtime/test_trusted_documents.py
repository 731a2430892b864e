"""Trusted documents: a manifest (queries/, .graphql files, JSON maps as GraphQL Code Generator
and Relay write them) checked and validated at start-up; its documents run by hash (Apollo's
extension, `documentId`, `doc_id`), and with `trusted_documents_only` nothing else runs, over
HTTP, SSE and WebSocket."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.cli import main
from gateway.graphql.runtime.trusted_documents import (
    PROJECT_QUERIES,
    TrustedDocumentsError,
    default_paths,
    trusted_documents,
)
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.support.persisted import app_client, apq, codes, fresh_query, get_params, sha256
from tests.support.server import LiveServer, serve
from tests.support.websocket import init, receive, socket

VIEWER = (PROJECT_QUERIES / "Viewer.graphql").read_text()
WATCH_EVENTS = (PROJECT_QUERIES / "WatchEvents.graphql").read_text()
CREATE_USER = (PROJECT_QUERIES / "CreateUser.graphql").read_text()
RELAY_QUERY = "query RelayPlatform { platform { id environment } }"


def manifest(tmp_path: Path, *documents: str, **entries: str) -> Path:
    """A JSON manifest as Relay's `persistOutput` and the codegen client preset write it."""
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({**{sha256(d): d for d in documents}, **entries}))
    return path


# Loading the manifest


def test_the_project_queries_are_the_default_manifest() -> None:
    documents = trusted_documents(default_paths())
    assert len(documents) == len(list(PROJECT_QUERIES.glob("*.graphql")))
    assert documents[sha256(VIEWER)] == VIEWER


def test_a_json_manifest_may_prefix_its_hashes(tmp_path: Path) -> None:
    prefixed = {f"sha256:{sha256(RELAY_QUERY)}": RELAY_QUERY}
    path = tmp_path / "prefixed.json"
    path.write_text(json.dumps(prefixed))
    assert trusted_documents([path]) == {sha256(RELAY_QUERY): RELAY_QUERY}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"0" * 64: RELAY_QUERY}), "is not the sha256 of its document"),
        (json.dumps([RELAY_QUERY]), "must be a JSON object"),
        (json.dumps({sha256(RELAY_QUERY): 1}), "is not a string"),
        ("{not json", "is not JSON"),
    ],
)
def test_a_bad_json_manifest_stops_the_start_up(
    tmp_path: Path, settings: Settings, content: str, message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(TrustedDocumentsError, match=message) as refused:
        create_app(settings.model_copy(update={"trusted_documents": [path]}))
    assert str(path) in str(refused.value)


def test_a_document_invalid_against_the_schema_stops_the_start_up(
    tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / "Broken.graphql").write_text("query Broken { platform { noSuchField } }")
    with pytest.raises(TrustedDocumentsError, match=r"Broken\.graphql is not valid.*noSuchField"):
        create_app(settings.model_copy(update={"trusted_documents": [tmp_path]}))
    with pytest.raises(TrustedDocumentsError, match="not valid"):
        create_app(settings.model_copy(update={"trusted_documents": [manifest(tmp_path, "{ x")]}))


def test_a_missing_path_stops_the_start_up(tmp_path: Path, settings: Settings) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(TrustedDocumentsError, match="nowhere is not a file or directory"):
        create_app(settings.model_copy(update={"trusted_documents": [missing]}))


def test_trusted_only_without_a_manifest_stops_the_start_up(settings: Settings) -> None:
    only = settings.model_copy(update={"trusted_documents_only": True, "trusted_documents": []})
    with pytest.raises(TrustedDocumentsError, match="no trusted documents"):
        create_app(only)


def test_serve_says_why_it_will_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MPS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'never.db'}")
    monkeypatch.setenv("MPS_TRUSTED_DOCUMENTS", "[]")
    monkeypatch.setenv("MPS_TRUSTED_DOCUMENTS_ONLY", "true")
    assert main(["serve", "--port", "0"]) == 1
    assert "MPS_TRUSTED_DOCUMENTS_ONLY=true but there are no trusted documents" in (
        capsys.readouterr().err
    )


# Trusted documents by hash, APQ on (the default)


@pytest.mark.parametrize("persisted_queries", [True, False])
async def test_a_trusted_document_runs_by_hash_without_being_sent_first(
    db: Database, settings: Settings, platform: PlatformHandle, persisted_queries: bool
) -> None:
    update = {"persisted_queries": persisted_queries}
    async with app_client(settings.model_copy(update=update), db) as http:
        response = await http.post(
            "/graphql", json={"extensions": apq(VIEWER)}, headers=platform.headers
        )
    assert response.status_code == 200
    assert response.json()["data"]["platform"]["id"]


# Trusted documents only


@pytest.fixture
def only(settings: Settings, tmp_path: Path) -> Settings:
    paths = [PROJECT_QUERIES, manifest(tmp_path, RELAY_QUERY)]
    return settings.model_copy(update={"trusted_documents_only": True, "trusted_documents": paths})


@pytest.fixture
async def http(db: Database, only: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(only, db) as client:
        yield client


@pytest.mark.parametrize(
    "body",
    [
        {"extensions": apq(VIEWER)},
        {"documentId": f"sha256:{sha256(VIEWER)}"},
        {"documentId": sha256(VIEWER)},
        {"doc_id": sha256(VIEWER)},
        {"query": VIEWER},
        {"query": VIEWER, "extensions": apq(VIEWER)},
    ],
)
async def test_a_document_of_queries_runs_by_hash_or_in_full(
    http: httpx.AsyncClient, platform: PlatformHandle, body: dict[str, object]
) -> None:
    posted = await http.post("/graphql", json=body, headers=platform.headers)
    got = await http.get("/graphql", params=get_params(body), headers=platform.headers)
    for response in (posted, got):
        assert response.status_code == 200, response.text
        assert response.json()["data"]["platform"]["id"]


async def test_a_document_of_a_json_manifest_runs_by_its_document_id(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    body = {"documentId": f"sha256:{sha256(RELAY_QUERY)}", "variables": {}}
    response = await http.post("/graphql", json=body, headers=platform.headers)
    assert response.status_code == 200
    assert response.json()["data"]["platform"]["environment"] == "SANDBOX"


async def test_any_other_document_is_refused_and_never_registered(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    query = fresh_query()
    refused = [
        await http.post("/graphql", json=body, headers=platform.headers)
        for body in (
            {"query": query},
            {"query": query, "extensions": apq(query)},  # APQ registration
            {"extensions": apq(query)},
            {"documentId": f"sha256:{sha256(query)}"},
        )
    ]
    for response in refused:
        assert response.status_code == 400
        assert codes(response) == ["PERSISTED_QUERY_NOT_TRUSTED"]
        assert "only trusted documents" in response.json()["errors"][0]["message"]


async def test_an_untrusted_subscription_over_sse_is_refused(
    http: httpx.AsyncClient, platform: PlatformHandle
) -> None:
    headers = {**platform.headers, "Accept": "text/event-stream"}
    body = {"query": "subscription { events { id } }"}
    response = await http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_NOT_TRUSTED"]


async def create_user(live: LiveServer, platform: PlatformHandle) -> str:
    """A user, made with the trusted CreateUser sent by its hash."""
    login = f"u{uuid.uuid4().hex[:12]}"
    address = {"line1": "1 rue", "postalCode": "75001", "city": "Paris", "country": "FR"}
    person = {"firstName": "Ada", "lastName": "Byron", "birthDate": "1990-01-01"}
    natural = {**person, "nationality": "FR", "address": address}
    variables = {
        "input": {"email": f"{login}@example.com", "login": login, "person": {"natural": natural}}
    }
    body = {"extensions": apq(CREATE_USER), "variables": variables}
    async with httpx.AsyncClient(base_url=live.http) as http:
        response = await http.post("/graphql", json=body, headers=platform.headers)
    user_id: str = response.json()["data"]["createUser"]["user"]["id"]
    return user_id


@pytest.fixture
async def live(db: Database, only: Settings) -> AsyncIterator[LiveServer]:
    async for server in serve(only, db):
        yield server


async def test_over_a_websocket_a_trusted_subscription_runs_by_hash_and_no_other(
    live: LiveServer, platform: PlatformHandle
) -> None:
    untrusted = {"query": "subscription { events { id } }"}
    by_hash = {"extensions": apq(WATCH_EVENTS), "variables": {"types": ["USER_CREATED"]}}
    async with socket(live) as ws:
        await init(ws, platform)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": by_hash}))
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": untrusted}))
        refusal = await receive(ws)
        user_id = await create_user(live, platform)
        event = await receive(ws)
    assert (refusal["id"], refusal["type"]) == ("2", "error")
    assert refusal["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_TRUSTED"
    assert (event["id"], event["type"]) == ("1", "next")
    assert event["payload"]["data"]["events"]["objectId"] == user_id
