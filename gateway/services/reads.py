"""Read use cases for one platform. Each method is a batch: many keys, one statement.

A `PlatformReader` is bound to the caller's platform, and under a user token to that user, so
nothing it returns can belong to another platform or, for a user, lie outside the user's
subtree; the GraphQL layer wraps its methods in per-request dataloaders.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from gateway.domain.enums import EventType
from gateway.domain.pagination import Page, PageRequest
from gateway.store import readers
from gateway.store.delivery_tables import WebhookAttempt, WebhookDelivery
from gateway.store.engine import Database
from gateway.store.journal_tables import Event, WebhookEndpoint
from gateway.store.ledger_tables import LedgerEntry
from gateway.store.readers import UserCriteria
from gateway.store.tables import Account, Person, User

__all__ = ["PlatformReader", "UserCriteria"]
M = TypeVar("M")


class PlatformReader:
    def __init__(
        self, db: Database, *, platform_id: uuid.UUID, user_id: uuid.UUID | None = None
    ) -> None:
        self.db = db
        self.platform_id = platform_id
        self.user_id = user_id

    async def users(self, ids: Sequence[uuid.UUID]) -> list[User]:
        async with self.db.session() as session:
            return await readers.rows_by_ids(
                session, model=User, platform_id=self.platform_id, user_id=self.user_id, ids=ids
            )

    async def persons(self, ids: Sequence[uuid.UUID]) -> list[Person]:
        async with self.db.session() as session:
            return await readers.rows_by_ids(
                session, model=Person, platform_id=self.platform_id, user_id=self.user_id, ids=ids
            )

    async def accounts(self, ids: Sequence[uuid.UUID]) -> list[Account]:
        async with self.db.session() as session:
            return await readers.rows_by_ids(
                session, model=Account, platform_id=self.platform_id, user_id=self.user_id, ids=ids
            )

    async def node_types(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        async with self.db.session() as session:
            return await readers.node_types(
                session, platform_id=self.platform_id, user_id=self.user_id, ids=ids
            )

    async def persons_of_users(self, user_ids: Sequence[uuid.UUID]) -> list[Person]:
        async with self.db.session() as session:
            return await readers.persons_of_users(
                session, platform_id=self.platform_id, user_id=self.user_id, user_ids=user_ids
            )

    async def users_page(self, criteria: UserCriteria, page: PageRequest) -> Page[User]:
        async with self.db.session() as session:
            return await readers.users_page(
                session,
                platform_id=self.platform_id,
                user_id=self.user_id,
                criteria=criteria,
                page=page,
            )

    async def accounts_pages_of_users(
        self, user_ids: Sequence[uuid.UUID], page: PageRequest
    ) -> dict[uuid.UUID, Page[Account]]:
        async with self.db.session() as session:
            return await readers.accounts_pages_of_users(
                session,
                platform_id=self.platform_id,
                user_id=self.user_id,
                user_ids=user_ids,
                page=page,
            )

    async def by_ids(self, model: type[M], ids: Sequence[uuid.UUID]) -> list[M]:
        async with self.db.session() as session:
            rows: list[M] = await readers.rows_by_ids(
                session, model=model, platform_id=self.platform_id, user_id=self.user_id, ids=ids
            )
            return rows

    async def of_users(self, model: type[M], user_ids: Sequence[uuid.UUID]) -> list[M]:
        async with self.db.session() as session:
            rows: list[M] = await readers.rows_of_users(
                session,
                model=model,
                platform_id=self.platform_id,
                user_id=self.user_id,
                user_ids=user_ids,
            )
            return rows

    async def page(self, model: Any, page: PageRequest) -> Page[Any]:
        async with self.db.session() as session:
            return await readers.platform_page(
                session, model=model, platform_id=self.platform_id, user_id=self.user_id, page=page
            )

    async def entries_pages(
        self, account_ids: Sequence[uuid.UUID], page: PageRequest
    ) -> dict[uuid.UUID, Page[LedgerEntry]]:
        async with self.db.session() as session:
            return await readers.entries_pages_of_accounts(
                session,
                platform_id=self.platform_id,
                user_id=self.user_id,
                account_ids=account_ids,
                page=page,
            )

    async def events_page(
        self, page: PageRequest, types: Sequence[EventType] | None
    ) -> Page[Event]:
        async with self.db.session() as session:
            return await readers.events_page(
                session, platform_id=self.platform_id, user_id=self.user_id, page=page, types=types
            )

    async def webhook_endpoints(self) -> list[WebhookEndpoint]:
        async with self.db.session() as session:
            return await readers.webhook_endpoints(
                session, platform_id=self.platform_id, user_id=self.user_id
            )

    async def webhook_deliveries_page(
        self, endpoint_id: uuid.UUID, page: PageRequest
    ) -> Page[WebhookDelivery]:
        async with self.db.session() as session:
            return await readers.webhook_deliveries_page(
                session,
                platform_id=self.platform_id,
                user_id=self.user_id,
                endpoint_id=endpoint_id,
                page=page,
            )

    async def webhook_attempts(self, delivery_ids: Sequence[uuid.UUID]) -> list[WebhookAttempt]:
        async with self.db.session() as session:
            return await readers.webhook_attempts(
                session,
                platform_id=self.platform_id,
                user_id=self.user_id,
                delivery_ids=delivery_ids,
            )
