"""What clients send to create things, as plain values, and the checks each field must pass.

Every check reports a `FieldProblem` under the dotted input path the client used
(`person.natural.birthDate`), so one `ValidationFailed` lists every bad field at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from gateway.domain.errors import FieldProblem, ValidationFailed
from gateway.domain.money import MINOR_UNITS_MAX

TEXT_LENGTH_MAX = 200
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{2,99}")
PERSON_AGE_MAX_YEARS = 130


@dataclass(frozen=True, slots=True)
class AddressData:
    line1: str
    postal_code: str
    city: str
    country: str
    line2: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class NaturalPersonData:
    first_name: str
    last_name: str
    birth_date: dt.date
    nationality: str
    address: AddressData


@dataclass(frozen=True, slots=True)
class LegalPersonData:
    legal_name: str
    category: str
    nationality: str
    address: AddressData
    representative: NaturalPersonData
    registration_number: str | None = None


@dataclass
class Checks:
    """Collects problems; `done()` raises them all at once."""

    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.problems.append(FieldProblem(path, message))

    def text(
        self,
        path: str,
        value: str | None,
        *,
        required: bool = True,
        length_max: int = TEXT_LENGTH_MAX,
    ) -> None:
        if value is None or not value.strip():
            if required:
                self.add(path, "Must not be blank.")
            return
        if len(value) > length_max:
            self.add(path, f"Must have at most {length_max} characters.")
        if any(not ch.isprintable() for ch in value):
            self.add(path, "Must not contain control characters.")

    def done(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


def check_email(checks: Checks, path: str, value: str) -> str:
    """The e-mail in normalised form (domain lower-cased); a problem when it is invalid."""
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as error:
        checks.add(path, str(error))
        return value


def check_login(checks: Checks, path: str, value: str) -> None:
    if not LOGIN_PATTERN.fullmatch(value):
        checks.add(path, "3 to 100 letters, digits or . _ @ + -, starting with a letter or digit.")


def check_address(checks: Checks, path: str, address: AddressData) -> None:
    checks.text(f"{path}.line1", address.line1)
    checks.text(f"{path}.line2", address.line2, required=False)
    checks.text(f"{path}.postalCode", address.postal_code, length_max=20)
    checks.text(f"{path}.city", address.city, length_max=100)
    checks.text(f"{path}.region", address.region, required=False, length_max=100)


def check_natural_person(
    checks: Checks, path: str, person: NaturalPersonData, *, today: dt.date
) -> None:
    checks.text(f"{path}.firstName", person.first_name)
    checks.text(f"{path}.lastName", person.last_name)
    if person.birth_date > today:
        checks.add(f"{path}.birthDate", "Must not be in the future.")
    elif today.year - person.birth_date.year > PERSON_AGE_MAX_YEARS:
        checks.add(f"{path}.birthDate", f"Must be within the last {PERSON_AGE_MAX_YEARS} years.")
    check_address(checks, f"{path}.address", person.address)


def check_legal_person(
    checks: Checks, path: str, person: LegalPersonData, *, today: dt.date
) -> None:
    checks.text(f"{path}.legalName", person.legal_name, length_max=300)
    checks.text(f"{path}.category", person.category, length_max=100)
    checks.text(
        f"{path}.registrationNumber", person.registration_number, required=False, length_max=100
    )
    check_address(checks, f"{path}.address", person.address)
    check_natural_person(checks, f"{path}.representative", person.representative, today=today)


def check_amount(checks: Checks, path: str, amount: int) -> None:
    """Amounts of movements are strictly positive integers within the JavaScript-safe range."""
    if amount <= 0:
        checks.add(path, "Must be a positive number of minor units.")
    elif amount > MINOR_UNITS_MAX:
        checks.add(path, f"Must not exceed {MINOR_UNITS_MAX}.")
