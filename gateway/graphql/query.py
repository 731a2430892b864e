"""Query root: node lookups, the caller's platform and the viewer."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import parse_id
from gateway.graphql import operations
from gateway.graphql.context import Info
from gateway.graphql.loaders import Loaders
from gateway.graphql.relay import Node
from gateway.graphql.types import Account, Platform, User, person_of
from gateway.store import journal_tables, ledger_tables, tables

NODES_IDS_MAX = 100


async def _user(loaders: Loaders, key: uuid.UUID) -> Node | None:
    row = await loaders.user.load(key)
    return None if row is None else User.of(row)


async def _person(loaders: Loaders, key: uuid.UUID) -> Node | None:
    row = await loaders.person.load(key)
    return None if row is None else person_of(row)


async def _account(loaders: Loaders, key: uuid.UUID) -> Node | None:
    row = await loaders.account.load(key)
    return None if row is None else Account.of(row)


def _reader(model: type, convert: Callable[[Any], Node]) -> NodeReader:
    async def read(loaders: Loaders, key: uuid.UUID) -> Node | None:
        row = await loaders.by_id(model).load(key)
        return None if row is None else convert(row)

    return read


NodeReader = Callable[[Loaders, uuid.UUID], Awaitable[Node | None]]
_NODE_READERS: dict[str, NodeReader] = {
    "User": _user,
    "Person": _person,
    "Account": _account,
    "Transfer": _reader(ledger_tables.Transfer, operations.Transfer.of),
    "PayIn": _reader(ledger_tables.PayIn, operations.PayIn.of),
    "PayOut": _reader(ledger_tables.PayOut, operations.PayOut.of),
    "BankAccount": _reader(ledger_tables.BankAccount, operations.BankAccount.of),
    "DirectDebitMandate": _reader(
        ledger_tables.DirectDebitMandate, operations.DirectDebitMandate.of
    ),
    "KycDocument": _reader(tables.KycDocument, operations.KycDocument.of),
    "LedgerEntry": _reader(ledger_tables.LedgerEntry, operations.LedgerEntry.of),
    "Event": _reader(journal_tables.Event, operations.Event.of),
    "WebhookEndpoint": _reader(journal_tables.WebhookEndpoint, operations.WebhookEndpoint.of),
}


async def resolve_node(info: Info, id_text: str, *, loaders: Loaders | None = None) -> Node | None:
    """The object with this id in the caller's scope; None for unknown, foreign or malformed ids.

    `loaders` replaces the request's loaders (an event stream reads each object fresh)."""
    key = parse_id(id_text)
    if key is None:
        return None
    if key == info.context.platform.id:
        return Platform.of(info.context.platform)
    chosen = loaders or info.context.loaders
    table = await chosen.node_type.load(key)
    return None if table is None else await _NODE_READERS[table](chosen, key)


@strawberry.type
class Query:
    @strawberry.field(
        description="The object with this id; null when absent or outside the caller's scope."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description=f"Up to {NODES_IDS_MAX} objects by id, null where absent.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > NODES_IDS_MAX:
            raise InvalidArgument(f"`ids` may list at most {NODES_IDS_MAX} ids.", argument="ids")
        return [await resolve_node(info, id_text) for id_text in ids]

    @strawberry.field(description="The platform that the caller's credential belongs to.")
    def platform(self, info: Info) -> Platform:
        return Platform.of(info.context.platform)

    @strawberry.field(description="Under a user token: that user; under a platform API key: null.")
    async def viewer(self, info: Info) -> User | None:
        user_id = info.context.principal.user_id
        if user_id is None:
            return None
        row = await info.context.loaders.user.load(user_id)
        return None if row is None else User.of(row)
