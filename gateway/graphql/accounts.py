"""Accounts and bank accounts: the types, opening an account, registering an IBAN, and the
account administration reserved to the platform's key (block, unblock, close).

An account is mono-currency; its balance is the sum of its ledger entries.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain.enums import AccountStatus
from gateway.domain.errors import Forbidden
from gateway.domain.pagination import OrderDirection
from gateway.graphql.access import BACKEND, OPERATOR, USER_TOKEN, allow, require_own
from gateway.graphql.account_statements import AccountStatement, statement_of
from gateway.graphql.context import Info
from gateway.graphql.filters import (
    CreatedAtOrder,
    LedgerEntryFilter,
    listing_connection,
    listing_of,
    listing_page,
)
from gateway.graphql.money import Money
from gateway.graphql.nodes import NODES
from gateway.graphql.rejections import (
    IdempotencyConflictRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.relay import Connection, Node, connection, page_arguments
from gateway.graphql.scalars import Currency, DateTime
from gateway.services import accounts
from gateway.services.accounts import AccountChange
from gateway.store import ledger_tables, tables
from gateway.store.filters import created_column

if TYPE_CHECKING:
    from gateway.graphql.ledger import LedgerEntry
    from gateway.graphql.users import User


strawberry.enum(AccountStatus)


@strawberry.type
class Account(Node):
    currency: Currency = strawberry.field(
        description="Fixed at opening: an account is mono-currency."
    )
    label: str | None
    status: AccountStatus
    balance: Money = strawberry.field(
        description="Funds available; the sum of the account's entries."
    )
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: tables.Account) -> Account:
        return cls(
            id=strawberry.ID(str(row.id)),
            currency=Currency(row.currency),
            label=row.label,
            status=row.status,
            balance=Money.of(row.balance, row.currency),
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
        )

    @strawberry.field
    def user(self, info: Info) -> Annotated[User, strawberry.lazy("gateway.graphql.users")]:
        user: User = NODES.edge(info.context.loaders, "User", self.user_id)
        return user

    @strawberry.field(description="Newest first, unless `orderBy` says otherwise.")
    async def entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: LedgerEntryFilter | None = None,
        order_by: CreatedAtOrder | None = None,
    ) -> Connection[Annotated[LedgerEntry, strawberry.lazy("gateway.graphql.ledger")]]:
        convert = NODES.converter("LedgerEntry")
        loader = info.context.loaders.entries_of_account
        listing = listing_of(filter, order_by, default=OrderDirection.DESC, signed_amounts=True)
        if listing is None:
            page = page_arguments(first, after, last, before)
            return connection(await loader.load((uuid.UUID(self.id), page, None)), convert)
        page = listing_page(listing, first, after, last, before)
        entries = await loader.load((uuid.UUID(self.id), page, listing))
        return listing_connection(
            entries, convert, listing, created_column(ledger_tables.LedgerEntry)
        )

    @strawberry.field(
        description="The balance at `from` and at `to`, and the entries in between (`from`"
        " included, `to` excluded, at most 366 days apart)."
    )
    async def statement(
        self,
        info: Info,
        start: Annotated[DateTime, strawberry.argument(name="from")],
        to: DateTime,
    ) -> AccountStatement:
        return await statement_of(info, uuid.UUID(self.id), start, to)


NODES.register(Account, table=tables.Account)


async def account_named_by(info: Info, account_id: uuid.UUID) -> Account:
    """The account an operation names. Only a user token's loaders hide one: the other
    party's account of a transfer, which the caller sees by id only."""
    row = await info.context.loaders.account.load(account_id)
    if row is None:
        raise Forbidden("This account belongs to another user; its id is on the transfer.")
    return Account.of(row)


@strawberry.type
class BankAccount(Node):
    owner_name: str
    iban: str = strawberry.field(description="Validated, in electronic format (no spaces).")
    bic: str | None
    created_at: DateTime
    user_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: ledger_tables.BankAccount) -> BankAccount:
        return cls(
            id=strawberry.ID(str(row.id)),
            owner_name=row.owner_name,
            iban=row.iban,
            bic=row.bic,
            created_at=DateTime(row.created_at),
            user_id=row.user_id,
        )

    @strawberry.field
    def user(self, info: Info) -> Annotated[User, strawberry.lazy("gateway.graphql.users")]:
        user: User = NODES.edge(info.context.loaders, "User", self.user_id)
        return user


NODES.register(BankAccount, table=ledger_tables.BankAccount)


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
class AccountStatusInput:
    account_id: strawberry.ID


@strawberry.type
class OpenAccountSuccess:
    account: Account


@strawberry.type
class AddBankAccountSuccess:
    bank_account: BankAccount


@strawberry.type
class AccountStatusSuccess:
    account: Account


OpenAccountPayload = Annotated[
    OpenAccountSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("OpenAccountPayload"),
]
AddBankAccountPayload = Annotated[
    AddBankAccountSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("AddBankAccountPayload"),
]
AccountStatusPayload = Annotated[
    AccountStatusSuccess | NotFoundRejection | InvalidStateRejection,
    strawberry.union("AccountStatusPayload"),
]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Open an account in one of the platform's currencies.",
    )
    async def open_account(self, info: Info, input: OpenAccountInput) -> OpenAccountPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        new = accounts.NewAccount(
            user_id=input.user_id,
            currency=input.currency,
            label=input.label,
            idempotency_key=input.idempotency_key,
        )
        outcome = await accounts.open_account(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return OpenAccountSuccess(account=Account.of(outcome.value))

    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN), description="Register an IBAN of the user."
    )
    async def add_bank_account(
        self,
        info: Info,
        input: AddBankAccountInput,
    ) -> AddBankAccountPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        new = accounts.NewBankAccount(
            user_id=input.user_id,
            owner_name=input.owner_name,
            iban=input.iban,
            bic=input.bic,
            idempotency_key=input.idempotency_key,
        )
        outcome = await accounts.add_bank_account(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return AddBankAccountSuccess(bank_account=BankAccount.of(outcome.value))


async def _change_account(info: Info, account_id: str, change: AccountChange) -> Account:
    services = info.context.services
    row = await accounts.change_account_status(
        services.db, platform_id=info.context.platform.id, account_id=account_id, change=change
    )
    return Account.of(row)


# The platform's administration of accounts, which a user token may not do.
@strawberry.type
class AccountStatusMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Block an account: it neither sends nor receives.",
    )
    async def block_account(self, info: Info, input: AccountStatusInput) -> AccountStatusPayload:
        account = await _change_account(info, input.account_id, AccountChange.BLOCK)
        return AccountStatusSuccess(account=account)

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Unblock a BLOCKED account: back to VALIDATED (CREATED while its user is not"
        " validated).",
    )
    async def unblock_account(
        self,
        info: Info,
        input: AccountStatusInput,
    ) -> AccountStatusPayload:
        account = await _change_account(info, input.account_id, AccountChange.UNBLOCK)
        return AccountStatusSuccess(account=account)

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Close an account for good: only at a zero balance, with nothing in flight.",
    )
    async def close_account(self, info: Info, input: AccountStatusInput) -> AccountStatusPayload:
        account = await _change_account(info, input.account_id, AccountChange.CLOSE)
        return AccountStatusSuccess(account=account)
