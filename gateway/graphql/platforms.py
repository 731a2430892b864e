"""The Platform: the caller's tenant, root of every list of its objects, and the `platform`
query.

A Platform is a Node that is never read from a table by id: `node(id:)` answers it only for the
caller's own platform, which the request's context holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from gateway.domain.enums import Environment, EventType
from gateway.domain.errors import InvalidArgument
from gateway.domain.ids import parse_id
from gateway.domain.pagination import OrderDirection
from gateway.graphql.context import Info
from gateway.graphql.fees import FeeAccount, fee_accounts
from gateway.graphql.filters import (
    AnyFilter,
    CreatedAtOrder,
    EventFilter,
    PayInFilter,
    PayOutFilter,
    TransferFilter,
    listing_connection,
    listing_of,
    listing_page,
)
from gateway.graphql.nodes import NODES
from gateway.graphql.relay import (
    Connection,
    Node,
    connection,
    event_connection,
    event_page_arguments,
    page_arguments,
)
from gateway.graphql.scalars import Currency, DateTime
from gateway.graphql.users import UserFilter, users_connection
from gateway.store import journal_tables as event_tables
from gateway.store import ledger_tables, tables
from gateway.store.filters import created_column

if TYPE_CHECKING:
    from gateway.graphql.accounts import Account
    from gateway.graphql.events import Event
    from gateway.graphql.ledger import Transfer
    from gateway.graphql.payments import PayIn, PayOut
    from gateway.graphql.users import User
    from gateway.graphql.webhooks import WebhookEndpoint

strawberry.enum(Environment)


async def _page_of(
    info: Info,
    table: Any,
    name: str,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: AnyFilter | None = None,
    order_by: CreatedAtOrder | None = None,
) -> Connection[Any]:
    """A page of the platform's `name` objects (rows of `table`), as a connection: by id, or
    filtered and ordered by creation time when `filter` or `orderBy` is given."""
    listing = listing_of(filter, order_by, default=OrderDirection.ASC)
    if listing is None:
        page = page_arguments(first, after, last, before)
        rows = await info.context.loaders.reader.page(table, page)
        return connection(rows, NODES.converter(name))
    page = listing_page(listing, first, after, last, before)
    rows = await info.context.loaders.reader.page(table, page, listing)
    return listing_connection(rows, NODES.converter(name), listing, created_column(table))


@strawberry.type
class Platform(Node):
    name: str
    environment: Environment
    allowed_currencies: list[Currency]
    created_at: DateTime

    @classmethod
    def of(cls, row: tables.Platform) -> Platform:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            environment=row.environment,
            allowed_currencies=[Currency(code) for code in row.allowed_currencies],
            created_at=DateTime(row.created_at),
        )

    @strawberry.field
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: UserFilter | None = None,
    ) -> Connection[Annotated[User, strawberry.lazy("gateway.graphql.users")]]:
        return await users_connection(info, page_arguments(first, after, last, before), filter)

    @strawberry.field
    async def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Account, strawberry.lazy("gateway.graphql.accounts")]]:
        return await _page_of(info, tables.Account, "Account", first, after, last, before)

    @strawberry.field
    async def transfers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: TransferFilter | None = None,
        order_by: CreatedAtOrder | None = None,
    ) -> Connection[Annotated[Transfer, strawberry.lazy("gateway.graphql.ledger")]]:
        return await _page_of(
            info, ledger_tables.Transfer, "Transfer", first, after, last, before, filter, order_by
        )

    @strawberry.field
    async def pay_ins(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: PayInFilter | None = None,
        order_by: CreatedAtOrder | None = None,
    ) -> Connection[Annotated[PayIn, strawberry.lazy("gateway.graphql.payments")]]:
        return await _page_of(
            info, ledger_tables.PayIn, "PayIn", first, after, last, before, filter, order_by
        )

    @strawberry.field
    async def pay_outs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: PayOutFilter | None = None,
        order_by: CreatedAtOrder | None = None,
    ) -> Connection[Annotated[PayOut, strawberry.lazy("gateway.graphql.payments")]]:
        return await _page_of(
            info, ledger_tables.PayOut, "PayOut", first, after, last, before, filter, order_by
        )

    @strawberry.field(
        description="Oldest first; optionally of some types, or about one object (objectId):"
        " with `actor`, who did what to it and when. With `filter` or `orderBy`: by"
        " occurredAt, either way."
    )
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        types: list[EventType] | None = None,
        object_id: strawberry.ID | None = None,
        filter: EventFilter | None = None,
        order_by: CreatedAtOrder | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("gateway.graphql.events")]]:
        narrowed = repr((sorted(t.name for t in types or ()), object_id))
        listing = listing_of(filter, order_by, default=OrderDirection.ASC, also=narrowed)
        if listing is None:
            page = event_page_arguments(first, after, platform_id=info.context.platform.id)
        else:
            page = listing_page(listing, first, after)
        wanted = None if object_id is None else parse_id(object_id)
        if object_id is not None and wanted is None:
            raise InvalidArgument("`objectId` is not a valid id.", argument="objectId")
        reader = info.context.loaders.reader
        rows = await reader.events_page(page, types, wanted, listing)
        if listing is None:
            return event_connection(rows, NODES.converter("Event"))
        created = created_column(event_tables.Event)
        return listing_connection(rows, NODES.converter("Event"), listing, created)

    @strawberry.field
    async def webhook_endpoints(
        self, info: Info
    ) -> list[Annotated[WebhookEndpoint, strawberry.lazy("gateway.graphql.webhooks")]]:
        rows = await info.context.loaders.reader.webhook_endpoints()
        convert = NODES.converter("WebhookEndpoint")
        return [convert(row) for row in rows]

    @strawberry.field(description="The platform's fee accounts, one per currency, by currency.")
    async def fee_accounts(self, info: Info) -> list[FeeAccount]:
        return await fee_accounts(info)


NODES.register(Platform, table=None)


@strawberry.type
class PlatformQueries:
    @strawberry.field(description="The platform that the caller's credential belongs to.")
    def platform(self, info: Info) -> Platform:
        return Platform.of(info.context.platform)
