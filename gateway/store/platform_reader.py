"""The graph's reads for one platform. Each method is a batch: many keys, one statement.

A `PlatformReader` is bound to the caller's platform, and under a user token to that user, so
nothing it returns can belong to another platform or, for a user, lie outside the user's
subtree; the GraphQL layer wraps its methods in per-request dataloaders. Each method runs one
reader of gateway/store/readers.py on the request's shared connection (`ReadConnection`), or
on a connection of its own outside a request. What the methods return are records
(gateway/store/records.py), typed here as their models: a record has the model's column
attributes, read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain.enums import EventType
from gateway.domain.pagination import Listing, Page, PageRequest
from gateway.store import readers
from gateway.store.delivery_tables import WebhookDelivery, WebhookDeliveryStatus
from gateway.store.engine import Database, ReadConnection
from gateway.store.journal_tables import Event, WebhookEndpoint
from gateway.store.ledger_tables import FeeAccount, LedgerEntry
from gateway.store.readers import UserCriteria
from gateway.store.tables import Account, Person, User

M = TypeVar("M")


class PlatformReader:
    def __init__(
        self,
        db: Database,
        *,
        platform_id: uuid.UUID,
        user_id: uuid.UUID | None = None,
        connection: ReadConnection | None = None,
    ) -> None:
        self.db = db
        self.platform_id = platform_id
        self.user_id = user_id
        self.connection = connection

    def _reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """The request's connection when it has one (HTTP), else one for this read."""
        if self.connection is not None:
            return self.connection.use()
        return self.db.reading()

    async def node_types(
        self, ids: Sequence[uuid.UUID], *, tables: Mapping[str, Any]
    ) -> dict[uuid.UUID, str]:
        """Which of `tables` (name -> table) holds each id."""
        async with self._reading() as connection:
            return await readers.node_types(
                connection,
                platform_id=self.platform_id,
                user_id=self.user_id,
                ids=ids,
                tables=tables,
            )

    async def persons_of_users(self, user_ids: Sequence[uuid.UUID]) -> list[Person]:
        async with self._reading() as connection:
            return await readers.persons_of_users(
                connection, platform_id=self.platform_id, user_id=self.user_id, user_ids=user_ids
            )

    async def users_page(self, criteria: UserCriteria, page: PageRequest) -> Page[User]:
        async with self._reading() as connection:
            return await readers.users_page(
                connection,
                platform_id=self.platform_id,
                user_id=self.user_id,
                criteria=criteria,
                page=page,
            )

    async def accounts_pages_of_users(
        self, user_ids: Sequence[uuid.UUID], page: PageRequest
    ) -> dict[uuid.UUID, Page[Account]]:
        async with self._reading() as connection:
            return await readers.accounts_pages_of_users(
                connection,
                platform_id=self.platform_id,
                user_id=self.user_id,
                user_ids=user_ids,
                page=page,
            )

    async def by_ids(self, model: type[M], ids: Sequence[uuid.UUID]) -> list[M]:
        async with self._reading() as connection:
            rows: list[M] = await readers.rows_by_ids(
                connection, model=model, platform_id=self.platform_id, user_id=self.user_id, ids=ids
            )
            return rows

    async def of_users(self, model: type[M], user_ids: Sequence[uuid.UUID]) -> list[M]:
        async with self._reading() as connection:
            rows: list[M] = await readers.rows_of_users(
                connection,
                model=model,
                platform_id=self.platform_id,
                user_id=self.user_id,
                user_ids=user_ids,
            )
            return rows

    async def of_parents(
        self, model: type[M], parent: str, parent_ids: Sequence[uuid.UUID]
    ) -> list[M]:
        async with self._reading() as connection:
            rows: list[M] = await readers.rows_of_parents(
                connection,
                model=model,
                parent=parent,
                platform_id=self.platform_id,
                user_id=self.user_id,
                parent_ids=parent_ids,
            )
            return rows

    async def fee_accounts(self) -> list[FeeAccount]:
        async with self._reading() as connection:
            return await readers.fee_accounts(
                connection, platform_id=self.platform_id, user_id=self.user_id
            )

    async def page(
        self, model: Any, page: PageRequest, listing: Listing | None = None
    ) -> Page[Any]:
        async with self._reading() as connection:
            return await readers.platform_page(
                connection,
                model=model,
                platform_id=self.platform_id,
                user_id=self.user_id,
                page=page,
                listing=listing,
            )

    async def entries_pages(
        self, account_ids: Sequence[uuid.UUID], page: PageRequest, listing: Listing | None = None
    ) -> dict[uuid.UUID, Page[LedgerEntry]]:
        async with self._reading() as connection:
            return await readers.entries_pages_of_accounts(
                connection,
                platform_id=self.platform_id,
                user_id=self.user_id,
                account_ids=account_ids,
                page=page,
                listing=listing,
            )

    async def events_page(
        self,
        page: PageRequest,
        types: Sequence[EventType] | None,
        object_id: uuid.UUID | None = None,
        listing: Listing | None = None,
    ) -> Page[Event]:
        async with self._reading() as connection:
            return await readers.events_page(
                connection,
                platform_id=self.platform_id,
                user_id=self.user_id,
                page=page,
                types=types,
                object_id=object_id,
                listing=listing,
            )

    async def webhook_endpoints(self) -> list[WebhookEndpoint]:
        async with self._reading() as connection:
            return await readers.webhook_endpoints(
                connection, platform_id=self.platform_id, user_id=self.user_id
            )

    async def webhook_deliveries_pages(
        self,
        endpoint_ids: Sequence[uuid.UUID],
        page: PageRequest,
        status: WebhookDeliveryStatus | None = None,
    ) -> dict[uuid.UUID, Page[WebhookDelivery]]:
        async with self._reading() as connection:
            return await readers.webhook_deliveries_pages(
                connection,
                platform_id=self.platform_id,
                user_id=self.user_id,
                endpoint_ids=endpoint_ids,
                page=page,
                status=status,
            )
