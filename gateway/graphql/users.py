"""Users: the type, the platform's users page, `viewer`, `createUser`, `updateUser`, and the
user's lifecycle: `blockUser`, `unblockUser` (operators), `closeUser` (see
gateway/services/lifecycle.py and gateway/services/profiles.py for the rules).

Leaf fields are plain attributes filled when a row becomes a GraphQL object; only relationship
edges are resolvers, and each goes through a per-request loader, so a deep query costs one
statement per level, whatever the number of objects. A page of users loads, for all its users
at once, the persons and accounts its selection asks for, so that each user's edges answer
without a task of their own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from gateway.domain.enums import RefusalReason, UserKind, UserStatus, ValidationStatus
from gateway.domain.errors import InvalidArgument
from gateway.domain.pagination import Page, PageRequest
from gateway.graphql.access import BACKEND, OPERATOR, USER_TOKEN, allow, require_own
from gateway.graphql.context import Info
from gateway.graphql.kyc import requirements_of_user
from gateway.graphql.loaders import now_or_later
from gateway.graphql.nodes import NODES, PLATFORM, DataIntegrityError
from gateway.graphql.persons import PersonInput
from gateway.graphql.rejections import (
    DuplicateRejection,
    IdempotencyConflictRejection,
    InvalidStateRejection,
    NotFoundRejection,
    ValidationRejection,
)
from gateway.graphql.relay import Connection, Node, connection, page_arguments
from gateway.graphql.scalars import DateTime
from gateway.services import lifecycle, profiles, users
from gateway.store import ledger_tables, tables
from gateway.store.readers import UserCriteria

if TYPE_CHECKING:
    from gateway.graphql.accounts import Account, BankAccount
    from gateway.graphql.kyc import KycDocument, Requirement
    from gateway.graphql.persons import Person
    from gateway.graphql.platforms import Platform

strawberry.enum(UserKind)
strawberry.enum(UserStatus)
strawberry.enum(ValidationStatus)


@strawberry.input
class UserFilter:
    email: str | None = None
    validation_status: ValidationStatus | None = None
    kind: UserKind | None = None


@strawberry.type
class User(Node):
    email: str
    login: str
    kind: UserKind
    status: UserStatus
    validation_status: ValidationStatus
    qualified_at: DateTime | None
    blocked_reason: str | None = strawberry.field(
        description="Why an operator blocked the user; null unless BLOCKED."
    )
    validation_reasons: list[RefusalReason] = strawberry.field(
        description="The reasons of the last validation decision (empty when none were given)."
    )
    validation_message: str | None = strawberry.field(
        description="The free message of the last validation decision."
    )
    created_at: DateTime
    updated_at: DateTime
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: tables.User) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            login=row.login,
            kind=row.kind,
            status=row.status,
            validation_status=row.validation_status,
            qualified_at=DateTime(row.qualified_at) if row.qualified_at else None,
            blocked_reason=row.blocked_reason,
            validation_reasons=[RefusalReason(r) for r in row.validation_reasons or ()],
            validation_message=row.validation_message,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            row_id=row.id,
        )

    @strawberry.field
    def platform(
        self, info: Info
    ) -> Annotated[Platform, strawberry.lazy("gateway.graphql.platforms")]:
        platform: Platform = NODES.convert(PLATFORM, info.context.platform)
        return platform

    # The three edges below are plain functions: when the users page prefetched their rows
    # (see _prefetch_for_users) they answer at once, else they hand graphql-core an awaitable.
    @strawberry.field(description="The natural person, or the legal person of a LEGAL user.")
    def holder(self, info: Info) -> Annotated[Person, strawberry.lazy("gateway.graphql.persons")]:
        return now_or_later(info.context.loaders.persons_of_user, self.row_id, self._holder)

    def _holder(self, persons: list[tables.Person]) -> Person:
        if not persons or not persons[0].is_holder:
            raise DataIntegrityError(f"user {self.row_id} has no holder person")
        holder: Person = NODES.convert("Person", persons[0])
        return holder

    @strawberry.field(description="Every person of the user, holder first.")
    def persons(
        self, info: Info
    ) -> list[Annotated[Person, strawberry.lazy("gateway.graphql.persons")]]:
        return now_or_later(info.context.loaders.persons_of_user, self.row_id, _persons)

    @strawberry.field
    def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]]:
        page = page_arguments(first, after, last, before)
        key = (self.row_id, page)
        return now_or_later(info.context.loaders.accounts_of_user, key, _account_connection)

    @strawberry.field(description="What is still missing before validation can be requested.")
    async def requirements(
        self, info: Info
    ) -> list[Annotated[Requirement, strawberry.lazy("gateway.graphql.kyc")]]:
        return await requirements_of_user(info, self.row_id)

    @strawberry.field
    async def bank_accounts(
        self, info: Info
    ) -> list[Annotated[BankAccount, strawberry.lazy("gateway.graphql.accounts")]]:
        rows = await info.context.loaders.of_user(ledger_tables.BankAccount).load(self.row_id)
        convert = NODES.converter("BankAccount")
        return [convert(row) for row in rows]

    @strawberry.field
    async def documents(
        self, info: Info
    ) -> list[Annotated[KycDocument, strawberry.lazy("gateway.graphql.kyc")]]:
        rows = await info.context.loaders.of_user(tables.KycDocument).load(self.row_id)
        convert = NODES.converter("KycDocument")
        return [convert(row) for row in rows]


NODES.register(User, table=tables.User)


def _persons(rows: list[tables.Person]) -> list[Person]:
    convert = NODES.converter("Person")
    return [convert(row) for row in rows]


def _account_connection(page: Page[tables.Account]) -> Connection[Account]:
    return connection(page, NODES.converter("Account"))


async def users_connection(
    info: Info, page: PageRequest, filter: UserFilter | None
) -> Connection[User]:
    """A page of the caller's users, with the edges its selection asks for prefetched."""
    given = filter or UserFilter()
    criteria = UserCriteria(given.email, given.validation_status, given.kind)
    loaders = info.context.loaders
    found = await loaders.reader.users_page(criteria, page)
    loaders.prime_users(found.items)
    await _prefetch_for_users(info, [row.id for row in found.items])
    return connection(found, User.of)


def _flatten(selections: list[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, those inside fragments included."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _flatten(selection.selections)


def _node_fields(info: Info) -> Iterator[SelectedField]:
    """The fields selected on each node of the connection being resolved (nodes, edges.node)."""
    for part in _flatten([s for field in info.selected_fields for s in field.selections]):
        if part.name == "nodes":
            yield from _flatten(part.selections)
        elif part.name == "edges":
            for edge in _flatten(part.selections):
                if edge.name == "node":
                    yield from _flatten(edge.selections)


def _page_of(arguments: dict[str, Any]) -> PageRequest | None:
    """The page an `accounts` selection asks for, or None when its arguments are not plain
    (the selection keeps literals as text): the user's own field then reads and checks them."""
    try:
        first, last = (
            None if arguments.get(name) is None else int(arguments[name])
            for name in ("first", "last")
        )
        after, before = arguments.get("after"), arguments.get("before")
        if not all(cursor is None or isinstance(cursor, str) for cursor in (after, before)):
            return None
        return page_arguments(first, after, last, before)
    except (InvalidArgument, TypeError, ValueError):
        return None


async def _prefetch_for_users(info: Info, user_ids: list[uuid.UUID]) -> None:
    """Load, for a whole page of users at once, the persons and accounts pages its selection
    asks for (one statement each, as the loaders would), so that each user's edges answer
    without a task of their own. Arguments a user's edge would refuse are left to it."""
    if not user_ids:
        return
    loaders = info.context.loaders
    fields = list(_node_fields(info))
    pages = {_page_of(field.arguments) for field in fields if field.name == "accounts"}
    waits: list[Awaitable[Any]] = [
        loaders.accounts_of_user.load_many([(user_id, page) for user_id in user_ids])
        for page in pages
        if page is not None
    ]
    if any(field.name in ("holder", "persons", "requirements") for field in fields):
        waits.append(loaders.persons_of_user.load_many(user_ids))
    if waits:
        await asyncio.gather(*waits)


@strawberry.input
class CreateUserInput:
    email: str
    login: str
    person: PersonInput
    idempotency_key: str | None = None


@strawberry.type
class CreateUserSuccess:
    user: User


CreateUserPayload = Annotated[
    CreateUserSuccess | ValidationRejection | DuplicateRejection | IdempotencyConflictRejection,
    strawberry.union("CreateUserPayload"),
]


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND),
        description="Create a user with its holder (and legal representative).",
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        new = users.NewUser(
            email=input.email,
            login=input.login,
            person=input.person.data(),
            idempotency_key=input.idempotency_key,
        )
        outcome = await users.create_user(
            info.context.services.db, platform_id=info.context.platform.id, new=new
        )
        return CreateUserSuccess(user=User.of(outcome.value))


@strawberry.input
class UpdateUserInput:
    user_id: strawberry.ID
    email: str | None = strawberry.field(default=None, description="Unchanged when null.")
    login: str | None = strawberry.field(default=None, description="Unchanged when null.")
    idempotency_key: str | None = None


@strawberry.type
class UpdateUserSuccess:
    user: User


UpdateUserPayload = Annotated[
    UpdateUserSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | DuplicateRejection
    | IdempotencyConflictRejection,
    strawberry.union("UpdateUserPayload"),
]


@strawberry.input
class BlockUserInput:
    user_id: strawberry.ID
    reason: str | None = strawberry.field(
        default=None, description="Why (at most 500 characters); shown as User.blockedReason."
    )
    idempotency_key: str | None = None


@strawberry.input
class UserStatusInput:
    user_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type
class UserStatusSuccess:
    user: User


UserStatusPayload = Annotated[
    UserStatusSuccess
    | ValidationRejection
    | NotFoundRejection
    | InvalidStateRejection
    | IdempotencyConflictRejection,
    strawberry.union("UserStatusPayload"),
]


def _services(info: Info) -> tuple[Any, uuid.UUID]:
    return info.context.services.db, info.context.platform.id


@strawberry.type
class UserLifecycleMutations:
    @strawberry.mutation(
        extensions=allow(BACKEND, USER_TOKEN),
        description="Change the user's e-mail or login (given fields only).",
    )
    async def update_user(self, info: Info, input: UpdateUserInput) -> UpdateUserPayload:
        await require_own(info, tables.User, input.user_id, what="user")
        update = profiles.UserUpdate(
            user_id=input.user_id,
            email=input.email,
            login=input.login,
            idempotency_key=input.idempotency_key,
        )
        db, platform_id = _services(info)
        user = await profiles.update_user(db, platform_id=platform_id, update=update)
        return UpdateUserSuccess(user=User.of(user))

    @strawberry.mutation(
        extensions=allow(OPERATOR),
        description="Block an ACTIVE user: its accounts neither send nor receive, its tokens"
        " stop working (a new one is needed after unblocking).",
    )
    async def block_user(self, info: Info, input: BlockUserInput) -> UserStatusPayload:
        change = lifecycle.UserChange(
            user_id=input.user_id, reason=input.reason, idempotency_key=input.idempotency_key
        )
        db, platform_id = _services(info)
        user = await lifecycle.block_user(db, platform_id=platform_id, change=change)
        return UserStatusSuccess(user=User.of(user))

    @strawberry.mutation(
        extensions=allow(OPERATOR), description="Unblock a BLOCKED user: money moves again."
    )
    async def unblock_user(self, info: Info, input: UserStatusInput) -> UserStatusPayload:
        change = lifecycle.UserChange(user_id=input.user_id, idempotency_key=input.idempotency_key)
        db, platform_id = _services(info)
        user = await lifecycle.unblock_user(db, platform_id=platform_id, change=change)
        return UserStatusSuccess(user=User.of(user))

    @strawberry.mutation(
        extensions=allow(BACKEND, OPERATOR),
        description="Close a user for good: only with every account at zero and nothing in"
        " flight; its accounts close, its ACTIVE mandates are canceled, its tokens revoked.",
    )
    async def close_user(self, info: Info, input: UserStatusInput) -> UserStatusPayload:
        change = lifecycle.UserChange(user_id=input.user_id, idempotency_key=input.idempotency_key)
        db, platform_id = _services(info)
        user = await lifecycle.close_user(db, platform_id=platform_id, change=change)
        return UserStatusSuccess(user=User.of(user))


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="Under a user token: that user; under a platform API key: null.")
    async def viewer(self, info: Info) -> User | None:
        user_id = info.context.principal.user_id
        if user_id is None:
            return None
        row = await info.context.loaders.user.load(user_id)
        return None if row is None else User.of(row)
