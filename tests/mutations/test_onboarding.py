"""Onboarding, worked examples: users, persons, accounts and bank accounts, read back by query."""

from __future__ import annotations

import httpx

from tests.conftest import PlatformHandle
from tests.mutations.helpers import (
    ADD_BANK_ACCOUNT,
    BLOCK_ACCOUNT,
    CLOSE_ACCOUNT,
    CREATE_USER,
    FR_BIC,
    FR_IBAN,
    FR_IBAN_PRINTED,
    GB_IBAN,
    OPEN_ACCOUNT,
    UNBLOCK_ACCOUNT,
    add_bank_account,
    add_person,
    address,
    create_legal_user,
    create_natural_user,
    events,
    fund,
    legal_person,
    mutate,
    natural_person,
    node,
    open_account,
    query,
    read_account,
    read_user,
    rejected,
    success,
    summary,
    unique,
    user_input,
    validate,
)

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


async def test_opening_an_account_starts_it_created_at_zero_and_lists_it_under_the_user(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)

    payload = await mutate(
        client, sandbox, OPEN_ACCOUNT, {"userId": user_id, "currency": "EUR", "label": " Main "}
    )

    account = success(payload, "OpenAccountSuccess")["account"]
    assert account["currency"] == "EUR"
    assert account["label"] == "Main"
    assert account["status"] == "CREATED"
    assert account["balance"] == {"amount": 0, "currency": "EUR", "decimal": "0.00"}
    assert account["user"] == {"id": user_id}
    read = await read_account(client, sandbox, account["id"])
    assert read["entries"] == {"totalCount": 0, "nodes": []}
    user = await read_user(client, sandbox, user_id)
    assert user["accounts"]["totalCount"] == 1
    assert user["accounts"]["nodes"][0]["id"] == account["id"]
    assert summary(await events(client, sandbox, ["ACCOUNT_CREATED"])) == [
        ("ACCOUNT_CREATED", None, "CREATED")
    ]


async def test_an_account_opened_for_a_validated_user_is_validated_at_once(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    await validate(client, sandbox, user_id)

    account_id = await open_account(client, sandbox, user_id)

    assert (await read_account(client, sandbox, account_id))["status"] == "VALIDATED"


async def test_an_account_can_be_opened_in_any_allowed_currency(
    client: httpx.AsyncClient, eur_usd: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, eur_usd)

    euros = await open_account(client, eur_usd, user_id, "EUR")
    dollars = await open_account(client, eur_usd, user_id, "USD")

    assert (await read_account(client, eur_usd, euros))["balance"]["currency"] == "EUR"
    assert (await read_account(client, eur_usd, dollars))["balance"]["currency"] == "USD"


async def test_adding_a_bank_account_stores_the_iban_in_electronic_format(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    input = {"userId": user_id, "ownerName": "  Ada Lovelace ", "iban": FR_IBAN_PRINTED.lower(),
             "bic": "bnpa frpp xxx"}  # fmt: skip

    payload = await mutate(client, sandbox, ADD_BANK_ACCOUNT, input)

    bank_account = success(payload, "AddBankAccountSuccess")["bankAccount"]
    assert bank_account["iban"] == FR_IBAN
    assert bank_account["bic"] == FR_BIC
    assert bank_account["ownerName"] == "Ada Lovelace"
    assert bank_account["user"] == {"id": user_id}
    assert (await node(client, sandbox, bank_account["id"], "BankAccount")) == {
        "__typename": "BankAccount",
        **bank_account,
    }
    second = await add_bank_account(client, sandbox, user_id, GB_IBAN)
    listed = (await read_user(client, sandbox, user_id))["bankAccounts"]
    assert [(b["id"], b["iban"]) for b in listed] == [
        (bank_account["id"], FR_IBAN),
        (second, GB_IBAN),
    ]
    assert len(await events(client, sandbox, ["BANK_ACCOUNT_CREATED"])) == 2


async def test_a_bank_account_without_a_bic_has_none(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    bank_account_id = await add_bank_account(client, sandbox, user_id)
    assert (await node(client, sandbox, bank_account_id, "BankAccount"))["bic"] is None


async def test_blocking_then_unblocking_an_account_brings_it_back_validated(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    await validate(client, sandbox, user_id)
    account_id = await open_account(client, sandbox, user_id)

    blocked = await mutate(client, sandbox, BLOCK_ACCOUNT, {"accountId": account_id})
    assert success(blocked, "AccountStatusSuccess")["account"]["status"] == "BLOCKED"
    assert (await read_account(client, sandbox, account_id))["status"] == "BLOCKED"

    unblocked = await mutate(client, sandbox, UNBLOCK_ACCOUNT, {"accountId": account_id})
    assert success(unblocked, "AccountStatusSuccess")["account"]["status"] == "VALIDATED"
    assert (await read_account(client, sandbox, account_id))["status"] == "VALIDATED"
    assert summary(await events(client, sandbox, ["ACCOUNT_BLOCKED", "ACCOUNT_UNBLOCKED"]))[
        -2:
    ] == [
        ("ACCOUNT_BLOCKED", "VALIDATED", "BLOCKED"),
        ("ACCOUNT_UNBLOCKED", "BLOCKED", "VALIDATED"),
    ]


async def test_closing_an_account_at_zero_is_final(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)

    closed = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": account_id})

    assert success(closed, "AccountStatusSuccess")["account"]["status"] == "CLOSED"
    assert (await read_account(client, sandbox, account_id))["status"] == "CLOSED"
    for document in (BLOCK_ACCOUNT, UNBLOCK_ACCOUNT, CLOSE_ACCOUNT):
        again = await mutate(client, sandbox, document, {"accountId": account_id})
        rejected(again, "InvalidStateRejection", "INVALID_STATE")
    assert summary(await events(client, sandbox, ["ACCOUNT_CLOSED"])) == [
        ("ACCOUNT_CLOSED", "CREATED", "CLOSED")
    ]


async def test_an_account_holding_funds_cannot_be_closed(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    account_id = await open_account(client, sandbox, user_id)
    await fund(client, sandbox, account_id, 1)

    payload = await mutate(client, sandbox, CLOSE_ACCOUNT, {"accountId": account_id})

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
    assert (await read_account(client, sandbox, account_id))["status"] == "CREATED"


async def test_unblocking_an_account_that_is_not_blocked_is_an_invalid_state(
    client: httpx.AsyncClient, sandbox: PlatformHandle
) -> None:
    user_id = await create_natural_user(client, sandbox)
    await validate(client, sandbox, user_id)
    account_id = await open_account(client, sandbox, user_id)

    payload = await mutate(client, sandbox, UNBLOCK_ACCOUNT, {"accountId": account_id})

    rejected(payload, "InvalidStateRejection", "INVALID_STATE")
