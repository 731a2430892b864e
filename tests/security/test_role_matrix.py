"""The role matrix: every mutation of the schema, sent by each credential its `@roles` does not
allow, is refused with FORBIDDEN before anything runs, and changes nothing: with a key of the
victim's own platform (aimed at objects that platform owns) as with a key of another platform.
A READONLY or OPERATOR key reads what a BACKEND key reads.

The credentials: an API key of each role (BACKEND, OPERATOR, READONLY) on the victim's platform
and on another platform, and the victim user's own token (USER_TOKEN), built once
(tests/security/conftest.py). The mutations and their inputs come from the schema
(tests/security/plans.py), so a new mutation is in the matrix from the day it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from gateway.store.engine import Database
from tests.conftest import PlatformHandle
from tests.security.conftest import OTHER, SCHEMA, VICTIM, World
from tests.security.matrix import CREDENTIAL_ROLES, platform_list_fields, platform_lists_document
from tests.security.plans import IdSlot, MutationPlan, mutation_plans
from tests.security.probes import post, snapshot

PLANS = mutation_plans(SCHEMA)
REFUSED = [(plan, role) for plan in PLANS for role in CREDENTIAL_ROLES if role not in plan.roles]
LISTS = platform_lists_document(SCHEMA, platform_list_fields(SCHEMA), 3)
ROOTS = "{ platform { id name environment allowedCurrencies } viewer { id } }"


def test_every_mutation_declares_its_roles_and_each_role_is_refused_somewhere() -> None:
    assert all(plan.roles for plan in PLANS), [plan.name for plan in PLANS if not plan.roles]
    refused_roles = {role for _, role in REFUSED}
    assert refused_roles == set(CREDENTIAL_ROLES), "every credential kind is refused something"
    readonly = [plan.name for plan in PLANS if "READONLY" in plan.roles]
    assert readonly == [], "a READONLY key changes nothing"


async def _snapshots(db: Database, world: World) -> list[Any]:
    other = world.keys[(OTHER, "BACKEND")].id
    return [
        await snapshot(db.engine, world.tables, platform_id)
        for platform_id in (world.platform_id, other)
    ]


def _aimed_at_the_victim(world: World, plan: MutationPlan) -> Mapping[IdSlot, str]:
    ids = {}
    for slot in plan.slots:
        assert slot.role is not None, slot
        ids[slot] = world.victim.objects[slot.role]
    return ids


@pytest.mark.parametrize(
    ("plan", "role"), REFUSED, ids=[f"{role}-{plan.name}" for plan, role in REFUSED]
)
async def test_a_credential_the_mutation_does_not_allow_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, db: Database, world: World, plan: MutationPlan, role: str
) -> None:
    credentials: list[PlatformHandle] = [world.keys[(VICTIM, role)]]
    if role != "USER_TOKEN":  # a token acts on its own platform only
        credentials.append(world.keys[(OTHER, role)])
    before = await _snapshots(db, world)
    for handle in credentials:
        variables, uploads = plan.variables(_aimed_at_the_victim(world, plan))
        body = await post(http, plan.document, variables, uploads, handle.headers)
        assert body.get("data") is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"], body
        [error] = body["errors"]
        assert error["path"] == [plan.name]
        if role != "USER_TOKEN":
            assert "allowed: " in error["message"], error
    assert await _snapshots(db, world) == before, "a refused credential changed something"


@pytest.mark.parametrize("role", ["OPERATOR", "READONLY"])
async def test_operator_and_readonly_keys_read_everything_a_backend_key_reads(
    http: httpx.AsyncClient, world: World, role: str
) -> None:
    backend, other = world.keys[(VICTIM, "BACKEND")], world.keys[(VICTIM, role)]
    for document in (ROOTS, LISTS):
        expected = await post(http, document, {}, [], backend.headers)
        assert "errors" not in expected, expected
        assert await post(http, document, {}, [], other.headers) == expected
