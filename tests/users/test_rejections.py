"""Rejections of users and persons: duplicates, invalid person fields under their dotted paths,
persons only on legal users, ownership beyond 100 %. Malformed countries and dates never reach a
service: the scalars refuse them with a top-level `BAD_USER_INPUT` error. None of them changes
anything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PlatformHandle
from tests.support.calls import field_paths, mutate, rejected, state, top_level_error
from tests.support.documents import ADD_PERSON, CREATE_USER
from tests.support.inputs import legal_person, natural_person, unique, user_input
from tests.support.users import add_person, create_legal_user, create_natural_user


async def test_an_email_already_taken_is_a_duplicate_whatever_its_case(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    name = unique("taken")
    await create_natural_user(client, sandbox, email=f"{name}@example.com")
    before = await state(client, sandbox)

    payload = await mutate(
        client,
        sandbox,
        CREATE_USER,
        user_input({"natural": natural_person()}, email=f"{name.upper()}@EXAMPLE.com"),
    )

    assert rejected(payload, "DuplicateRejection", "DUPLICATE")["field"] == "email"
    assert await state(client, sandbox) == before


async def test_a_login_already_taken_is_a_duplicate(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    login = unique("login")
    await create_natural_user(client, sandbox, login=login)
    before = await state(client, sandbox)

    payload = await mutate(
        client, sandbox, CREATE_USER, user_input({"legal": legal_person()}, login=login)
    )

    assert rejected(payload, "DuplicateRejection", "DUPLICATE")["field"] == "login"
    assert await state(client, sandbox) == before


async def test_the_same_email_on_another_platform_is_no_duplicate(
    client: httpx.AsyncClient, sandbox: PlatformHandle, other_sandbox: PlatformHandle
) -> None:
    email, login = f"{unique('shared')}@example.com", unique("shared")
    await create_natural_user(client, sandbox, email=email, login=login)

    await create_natural_user(client, other_sandbox, email=email, login=login)


async def test_invalid_person_fields_are_listed_under_their_dotted_paths(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    before = await state(client, sandbox)
    person = natural_person(firstName=" ", birthDate="2999-01-01")
    person["address"]["city"] = ""

    natural = await mutate(
        client,
        sandbox,
        CREATE_USER,
        user_input({"natural": person}, email="not-an-email", login="-x"),
    )
    legal = await mutate(
        client,
        sandbox,
        CREATE_USER,
        user_input(
            {
                "legal": legal_person(
                    legalName="", representative=natural_person(birthDate="1800-01-01")
                )
            }
        ),
    )

    assert field_paths(natural) == [
        "email",
        "login",
        "person.natural.firstName",
        "person.natural.birthDate",
        "person.natural.address.city",
    ]
    assert field_paths(legal) == ["person.legal.legalName", "person.legal.representative.birthDate"]
    assert await state(client, sandbox) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("nationality", "XX"), ("nationality", "fr"), ("birthDate", "2001-02-30"),
     ("birthDate", "10/12/1985")],
)  # fmt: skip
async def test_malformed_countries_and_dates_are_refused_by_their_scalars(
    client: httpx.AsyncClient, sandbox: PlatformHandle, field: str, value: str
) -> None:
    before = await state(client, sandbox)

    error = await top_level_error(
        client, sandbox, CREATE_USER, user_input({"natural": natural_person(**{field: value})})
    )

    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert await state(client, sandbox) == before


async def test_a_person_both_natural_and_legal_is_a_bad_user_input(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    person = {"natural": natural_person(), "legal": legal_person()}

    error = await top_level_error(client, sandbox, CREATE_USER, user_input(person))

    assert error["extensions"]["code"] == "BAD_USER_INPUT", error


async def test_persons_are_added_only_to_legal_users(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    before = await state(client, sandbox, user_id)

    payload = await mutate(
        client,
        sandbox,
        ADD_PERSON,
        {"userId": user_id, "person": natural_person(), "roles": ["DIRECTOR"]},
    )

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert await state(client, sandbox, user_id) == before


@pytest.mark.parametrize(
    ("extra", "paths"),
    [
        ({"roles": []}, ["roles"]),
        ({"ownershipPercentage": 0.0}, ["ownershipPercentage"]),
        ({"ownershipPercentage": 100.5}, ["ownershipPercentage"]),
        ({"ownershipPercentage": -3.0}, ["ownershipPercentage"]),
        ({"isUserRepresentative": True}, ["isUserRepresentative"]),
        ({"person": natural_person(lastName="", birthDate="2999-12-31")},
         ["person.lastName", "person.birthDate"]),
        ({"idempotencyKey": "k" * 256}, ["idempotencyKey"]),
    ],
    ids=["no-role", "zero-share", "over-100", "negative-share", "representative-without-role",
         "bad-person", "key-too-long"],
)  # fmt: skip
async def test_invalid_additions_of_persons_are_refused_on_their_fields(
    client: httpx.AsyncClient, sandbox: PlatformHandle, extra: dict[str, Any], paths: list[str]
) -> None:
    legal = await create_legal_user(client, sandbox)
    before = await state(client, sandbox, legal.id)
    input = {"userId": legal.id, "person": natural_person(), "roles": ["BENEFICIAL_OWNER"], **extra}

    payload = await mutate(client, sandbox, ADD_PERSON, input)

    assert field_paths(payload) == paths
    assert await state(client, sandbox, legal.id) == before


async def test_owners_may_not_hold_more_than_100_percent_together(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)
    await add_person(client, sandbox, legal.id, ["BENEFICIAL_OWNER"], ownershipPercentage=60.0)
    await add_person(client, sandbox, legal.id, ["SHAREHOLDER"], ownershipPercentage=40.0)

    payload = await mutate(
        client,
        sandbox,
        ADD_PERSON,
        {
            "userId": legal.id,
            "person": natural_person(),
            "roles": ["SHAREHOLDER"],
            "ownershipPercentage": 0.5,
        },
    )

    assert field_paths(payload) == ["ownershipPercentage"]


# ---- other fields --------------------------------------------------------------------------
