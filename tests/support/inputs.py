"""Valid inputs for the mutations, each field overridable, and values no other test uses."""

from __future__ import annotations

import uuid
from typing import Any

FR_IBAN_PRINTED = "FR76 3000 6000 0112 3456 7890 189"
FR_IBAN = "FR7630006000011234567890189"
DE_IBAN = "DE89370400440532013000"
GB_IBAN = "GB82WEST12345698765432"
FR_BIC = "BNPAFRPPXXX"


def unique(prefix: str) -> str:
    """A value no other test uses (e-mails, logins, idempotency keys)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_key() -> str:
    return unique("key")


def address(**overrides: Any) -> dict[str, Any]:
    return {
        "line1": "12 rue de la Paix",
        "postalCode": "75002",
        "city": "Paris",
        "country": "FR",
        **overrides,
    }


def natural_person(**overrides: Any) -> dict[str, Any]:
    return {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "birthDate": "1985-12-10",
        "nationality": "FR",
        "address": address(),
        **overrides,
    }


def legal_person(**overrides: Any) -> dict[str, Any]:
    return {
        "legalName": "Acme SAS",
        "category": "company",
        "registrationNumber": "RCS Paris 123 456 789",
        "nationality": "FR",
        "address": address(line1="1 avenue des Champs-Elysees", postalCode="75008"),
        "representative": natural_person(firstName="Grace", lastName="Hopper"),
        **overrides,
    }


def user_input(person: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A CreateUserInput around `person` ({"natural": ...} or {"legal": ...})."""
    name = unique("user")
    return {"email": f"{name}@example.com", "login": name, "person": person, **overrides}


def money(amount: Any, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def transfer_input(
    debited: str, credited: str, amount: Any, currency: str = "EUR", **overrides: Any
) -> dict[str, Any]:
    return {
        "debitedAccountId": debited,
        "creditedAccountId": credited,
        "amount": money(amount, currency),
        "idempotencyKey": new_key(),
        **overrides,
    }


def wire_input(
    account_id: str, amount: Any, currency: str = "EUR", **overrides: Any
) -> dict[str, Any]:
    return {
        "creditedAccountId": account_id,
        "amount": money(amount, currency),
        "method": "BANK_WIRE",
        "idempotencyKey": new_key(),
        **overrides,
    }


def pay_out_input(
    account_id: str, bank_account_id: str, amount: Any, currency: str = "EUR", **overrides: Any
) -> dict[str, Any]:
    return {
        "debitedAccountId": account_id,
        "bankAccountId": bank_account_id,
        "amount": money(amount, currency),
        "idempotencyKey": new_key(),
        **overrides,
    }
