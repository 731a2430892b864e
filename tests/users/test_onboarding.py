"""Onboarding, worked examples: users and their persons, read back by query."""

from __future__ import annotations

import httpx

from tests.conftest import PlatformHandle
from tests.support.calls import mutate, node, query, success
from tests.support.documents import CREATE_USER
from tests.support.events import events, summary
from tests.support.inputs import address, legal_person, natural_person, unique, user_input
from tests.support.users import add_person, create_legal_user, read_user

USERS_BY_EMAIL = """
query ($email: String) { platform { users(filter: {email: $email}) { totalCount nodes { id } } } }
"""


async def test_creating_a_natural_user_returns_it_with_its_holder(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    login = unique("ada")
    person = natural_person(address=address(line2="Bâtiment B", region="Île-de-France"))
    input = user_input({"natural": person}, email=f"{login}@Example.COM", login=login)

    user = success(await mutate(client, sandbox, CREATE_USER, input), "CreateUserSuccess")["user"]

    assert user["email"] == f"{login}@example.com"  # the domain is normalised to lower case
    assert user["login"] == login
    assert (user["kind"], user["status"], user["validationStatus"]) == (
        "NATURAL",
        "ACTIVE",
        "NOT_SUBMITTED",
    )
    assert user["qualifiedAt"] is None
    holder = user["holder"]
    assert holder["__typename"] == "NaturalPerson"
    assert (holder["firstName"], holder["lastName"], holder["birthDate"]) == (
        "Ada",
        "Lovelace",
        "1985-12-10",
    )
    assert holder["roles"] == []
    assert holder["address"] == {
        "line1": "12 rue de la Paix",
        "line2": "Bâtiment B",
        "postalCode": "75002",
        "city": "Paris",
        "region": "Île-de-France",
        "country": "FR",
    }
    assert user["persons"] == [{"__typename": "NaturalPerson", "id": holder["id"]}]
    read = await read_user(client, sandbox, user["id"])
    assert {name: read[name] for name in user} == user
    assert (read["accounts"]["totalCount"], read["bankAccounts"], read["documents"]) == (0, [], [])
    listed = await query(client, sandbox, USERS_BY_EMAIL, {"email": user["email"]})
    assert listed["platform"]["users"]["nodes"] == [{"id": user["id"]}]
    assert summary(await events(client, sandbox)) == [
        ("USER_CREATED", None, "NOT_SUBMITTED"),
        ("PERSON_CREATED", None, None),
    ]


async def test_creating_a_legal_user_makes_its_entity_and_its_representative(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    input = user_input({"legal": legal_person()})

    user = success(await mutate(client, sandbox, CREATE_USER, input), "CreateUserSuccess")["user"]

    assert user["kind"] == "LEGAL"
    holder = user["holder"]
    assert holder["__typename"] == "LegalPerson"
    assert (holder["legalName"], holder["category"], holder["registrationNumber"]) == (
        "Acme SAS",
        "company",
        "RCS Paris 123 456 789",
    )
    [representative] = holder["representatives"]
    assert representative["firstName"] == "Grace"
    assert representative["roles"] == ["LEGAL_REPRESENTATIVE"]
    assert representative["isUserRepresentative"] is True
    assert representative["legalPerson"] == {"id": holder["id"]}
    assert holder["beneficialOwners"] == []
    assert [person["id"] for person in user["persons"]] == [holder["id"], representative["id"]]
    assert (await node(client, sandbox, representative["id"], "NaturalPerson"))["user"] == {
        "id": user["id"]
    }


async def test_adding_a_beneficial_owner_records_the_share_and_lists_them_on_the_entity(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)

    owner = await add_person(
        client, sandbox, legal.id, ["BENEFICIAL_OWNER"], ownershipPercentage=40.0
    )

    assert owner["roles"] == ["BENEFICIAL_OWNER"]
    assert owner["ownershipPercentage"] == 40.0
    assert owner["isUserRepresentative"] is False
    assert owner["user"] == {"id": legal.id}
    assert owner["legalPerson"] == {"id": legal.holder_id}
    user = await read_user(client, sandbox, legal.id)
    assert user["holder"]["beneficialOwners"] == [
        {"id": owner["id"], "firstName": "Alan", "ownershipPercentage": 40.0}
    ]
    assert owner["id"] in [person["id"] for person in user["persons"]]
    assert (await node(client, sandbox, owner["id"], "NaturalPerson"))[
        "ownershipPercentage"
    ] == 40.0


async def test_adding_a_director_and_a_shareholder_gives_each_its_role(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)

    director = await add_person(client, sandbox, legal.id, ["DIRECTOR"])
    shareholder = await add_person(
        client, sandbox, legal.id, ["SHAREHOLDER"], ownershipPercentage=12.5
    )

    assert (director["roles"], director["ownershipPercentage"]) == (["DIRECTOR"], None)
    assert (shareholder["roles"], shareholder["ownershipPercentage"]) == (["SHAREHOLDER"], 12.5)
    user = await read_user(client, sandbox, legal.id)
    assert len(user["persons"]) == 4
    assert user["holder"]["beneficialOwners"] == []  # neither owns more than 25 % by role
    assert [p["id"] for p in user["holder"]["representatives"]] == [legal.representative_id]


async def test_adding_a_second_representative_asks_for_their_identity_proof_too(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    legal = await create_legal_user(client, sandbox)

    second = await add_person(
        client, sandbox, legal.id, ["LEGAL_REPRESENTATIVE", "DIRECTOR"], isUserRepresentative=True
    )

    assert second["roles"] == ["DIRECTOR", "LEGAL_REPRESENTATIVE"]
    assert second["isUserRepresentative"] is True
    user = await read_user(client, sandbox, legal.id)
    assert [p["id"] for p in user["holder"]["representatives"]] == [
        legal.representative_id,
        second["id"],
    ]
    identity_proofs = [
        r["person"]["id"] for r in user["requirements"] if r["documentType"] == "IDENTITY_PROOF"
    ]
    assert identity_proofs == [legal.representative_id, second["id"]]
