"""Platform API keys managed from the command line open the API, and close it on revocation.

The CLI runs as a real process on each database; the requests go through the ASGI app (lifespan
included), so these are the paths an operator and a client take. Authentication reads the key's
row on every request: the request right after a revocation is refused, with no grace period,
and only the revoked key is affected. The service-level tests pin what the CLI relies on:
revoking is idempotent (also when racing), labels are checked, keys stay within their platform.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import httpx
import pytest

from gateway.domain.credentials import key_prefix
from gateway.domain.enums import Environment
from gateway.domain.errors import InvalidArgument, NotFound
from gateway.services.api_keys import ApiKeySummary, create_api_key, list_api_keys, revoke_api_key
from gateway.services.credentials import authenticate
from gateway.settings import Settings
from gateway.store.engine import Database
from tests.conftest import make_platform
from tests.support import graphql
from tests.test_cli import cli_json, cli_runs

PLATFORM_QUERY = "{ platform { id } }"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _platform_id_seen_with(client: httpx.AsyncClient, key: str) -> str:
    body = await graphql(client, PLATFORM_QUERY, headers=_bearer(key))
    assert "errors" not in body, body
    platform_id: str = body["data"]["platform"]["id"]
    return platform_id


async def _assert_refused(client: httpx.AsyncClient, key: str) -> None:
    body = await graphql(client, PLATFORM_QUERY, headers=_bearer(key), status=401)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert "data" not in body


def _prefix(key: str) -> str:
    prefix = key_prefix(key)
    assert prefix is not None
    return prefix


async def test_a_key_created_by_the_cli_authenticates_a_graphql_request(
    settings: Settings, db: Database, client: httpx.AsyncClient
) -> None:
    platform = await make_platform(db)
    created = cli_json(settings, "key", "create", "--platform", str(platform.id))
    assert await _platform_id_seen_with(client, created["apiKey"]) == str(platform.id)


async def test_a_revoked_key_is_refused_on_the_very_next_request_while_the_other_key_works(
    settings: Settings, db: Database, client: httpx.AsyncClient
) -> None:
    platform = await make_platform(db)
    created = cli_json(settings, "key", "create", "--platform", str(platform.id), "--label", "x")
    key = created["apiKey"]
    assert await _platform_id_seen_with(client, key) == str(platform.id)

    revoked = cli_json(settings, "key", "revoke", created["prefix"])
    assert (revoked["prefix"], revoked["newlyRevoked"]) == (created["prefix"], True)
    assert revoked["activeKeysLeft"] == 1
    await _assert_refused(client, key)
    assert await _platform_id_seen_with(client, platform.key) == str(platform.id)

    again, listing = cli_runs(
        settings,
        ["key", "revoke", revoked["id"]],
        ["key", "list", "--platform", str(platform.id), "--json"],
    )
    assert again.returncode == 0, again.stderr
    assert f"API key {created['prefix']} was already revoked at" in again.stdout
    assert again.stderr == ""
    [listed] = [row for row in json.loads(listing.stdout) if row["id"] == revoked["id"]]
    assert listed["revokedAt"] == revoked["revokedAt"], "revoking again keeps the first time"
    await _assert_refused(client, key)


async def test_revoking_the_last_active_key_is_allowed_with_a_warning(
    settings: Settings, db: Database, client: httpx.AsyncClient
) -> None:
    platform = await make_platform(db)
    [revoke] = cli_runs(settings, ["key", "revoke", _prefix(platform.key)])
    assert revoke.returncode == 0, revoke.stderr
    assert "revoked at" in revoke.stdout
    assert "warning" in revoke.stderr
    assert "no active API key left" in revoke.stderr
    assert platform.key not in revoke.stdout + revoke.stderr
    await _assert_refused(client, platform.key)

    fresh = cli_json(settings, "key", "create", "--platform", str(platform.id))
    assert await _platform_id_seen_with(client, fresh["apiKey"]) == str(platform.id)


async def test_a_new_key_takes_the_environment_of_its_platform(db: Database) -> None:
    environments = {Environment.SANDBOX: "mps_test_", Environment.PRODUCTION: "mps_live_"}
    for environment, start in environments.items():
        platform = await make_platform(db, environment=environment)
        created = await create_api_key(db, platform_id=platform.id, label="  nightly  ")
        assert created.key.startswith(f"{created.prefix}_")
        assert created.prefix.startswith(start)
        assert (created.environment, created.label) == (environment, "nightly")


async def test_a_platform_lists_only_its_own_keys_and_never_their_secrets(db: Database) -> None:
    platform, other = await make_platform(db), await make_platform(db)
    created = await create_api_key(db, platform_id=platform.id)
    keys = await list_api_keys(db, platform_id=platform.id)
    assert [key.prefix for key in keys] == [_prefix(platform.key), created.prefix]
    assert {key.platform_id for key in keys} == {platform.id}
    assert _prefix(other.key) not in {key.prefix for key in keys}
    assert {field.name for field in dataclasses.fields(ApiKeySummary)}.isdisjoint({"digest", "key"})


async def test_concurrent_revocations_of_one_key_revoke_it_once(db: Database) -> None:
    platform = await make_platform(db)
    created = await create_api_key(db, platform_id=platform.id)
    outcomes = await asyncio.gather(
        *(revoke_api_key(db, reference=created.prefix) for _ in range(6))
    )
    assert sum(outcome.newly_revoked for outcome in outcomes) == 1
    assert len({outcome.key.revoked_at for outcome in outcomes}) == 1
    assert {outcome.active_keys_left for outcome in outcomes} == {1}
    assert await authenticate(db, authorization=f"Bearer {created.key}") is None
    assert await authenticate(db, authorization=f"Bearer {platform.key}") is not None


@pytest.mark.parametrize("label", ["x" * 201, "two\nlines", "bell\a"])
async def test_labels_that_could_not_be_shown_on_one_line_are_refused(
    db: Database, label: str
) -> None:
    platform = await make_platform(db)
    with pytest.raises(InvalidArgument, match="label"):
        await create_api_key(db, platform_id=platform.id, label=label)
    assert len(await list_api_keys(db, platform_id=platform.id)) == 1


async def test_keys_of_an_unknown_platform_or_an_unknown_key_are_not_found(db: Database) -> None:
    platform, unknown = await make_platform(db), uuid.uuid4()
    with pytest.raises(NotFound):
        await create_api_key(db, platform_id=unknown)
    with pytest.raises(NotFound):
        await list_api_keys(db, platform_id=unknown)
    with pytest.raises(NotFound):
        await revoke_api_key(db, reference=str(unknown))
    with pytest.raises(InvalidArgument, match=_prefix(platform.key)) as refused:
        await revoke_api_key(db, reference=platform.key)
    assert platform.key not in str(refused.value), "the secret is not echoed back"
    assert await authenticate(db, authorization=f"Bearer {platform.key}") is not None
