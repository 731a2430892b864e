"""Mutation inputs as the contract names them, and their conversion to service values."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from gateway.domain.enums import DocumentType, PayInMethod, PersonRole
from gateway.domain.inputs import AddressData, LegalPersonData, NaturalPersonData
from gateway.graphql.scalars import CountryCode, Currency, Date, MinorUnits


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    region: str | None = None
    country: CountryCode

    def data(self) -> AddressData:
        return AddressData(
            line1=self.line1,
            line2=self.line2,
            postal_code=self.postal_code,
            city=self.city,
            region=self.region,
            country=self.country,
        )


@strawberry.input
class MoneyInput:
    amount: MinorUnits
    currency: Currency


@strawberry.input
class NaturalPersonInput:
    first_name: str
    last_name: str
    birth_date: Date
    nationality: CountryCode
    address: AddressInput

    def data(self) -> NaturalPersonData:
        return NaturalPersonData(
            first_name=self.first_name,
            last_name=self.last_name,
            birth_date=self.birth_date,
            nationality=self.nationality,
            address=self.address.data(),
        )


@strawberry.input
class LegalPersonInput:
    legal_name: str
    category: str
    registration_number: str | None = None
    nationality: CountryCode
    address: AddressInput
    representative: NaturalPersonInput = strawberry.field(
        description="Becomes the user representative (MPS: at least one is required)."
    )

    def data(self) -> LegalPersonData:
        return LegalPersonData(
            legal_name=self.legal_name,
            category=self.category,
            registration_number=self.registration_number,
            nationality=self.nationality,
            address=self.address.data(),
            representative=self.representative.data(),
        )


@strawberry.input(one_of=True)
class PersonInput:
    natural: NaturalPersonInput | None = strawberry.UNSET
    legal: LegalPersonInput | None = strawberry.UNSET

    def data(self) -> NaturalPersonData | LegalPersonData:
        if self.legal:
            return self.legal.data()
        assert self.natural
        return self.natural.data()


@strawberry.input
class CreateUserInput:
    email: str
    login: str
    person: PersonInput
    idempotency_key: str | None = None


@strawberry.input
class AddPersonInput:
    user_id: strawberry.ID = strawberry.field(description="A LEGAL user.")
    person: NaturalPersonInput
    roles: list[PersonRole]
    ownership_percentage: float | None = None
    is_user_representative: bool | None = None
    idempotency_key: str | None = None


@strawberry.input
class OpenAccountInput:
    user_id: strawberry.ID
    currency: Currency = strawberry.field(description="One of the platform's allowedCurrencies.")
    label: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class AddBankAccountInput:
    user_id: strawberry.ID
    owner_name: str
    iban: str
    bic: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class SubmitDocumentInput:
    user_id: strawberry.ID
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The person the document is about; the holder when omitted."
    )
    type: DocumentType
    file: Upload


@strawberry.input
class RequestValidationInput:
    user_id: strawberry.ID


@strawberry.input
class CreateTransferInput:
    debited_account_id: strawberry.ID
    credited_account_id: strawberry.ID
    amount: MoneyInput
    label: str | None = None
    idempotency_key: str = strawberry.field(description="Required for every money movement.")


@strawberry.input
class CreateMandateInput:
    user_id: strawberry.ID
    bank_account_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class CreatePayInInput:
    credited_account_id: strawberry.ID
    amount: MoneyInput
    method: PayInMethod
    mandate_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for DIRECT_DEBIT; the mandate must be ACTIVE."
    )
    idempotency_key: str


@strawberry.input
class CreatePayOutInput:
    debited_account_id: strawberry.ID
    bank_account_id: strawberry.ID = strawberry.field(
        description="Must belong to the account's user."
    )
    amount: MoneyInput
    label: str | None = None
    idempotency_key: str


@strawberry.input
class AccountStatusInput:
    account_id: strawberry.ID
