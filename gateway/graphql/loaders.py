"""Per-request dataloaders over a platform-scoped reader.

Loaders are created for each request (never shared), so their caches never outlive a request
nor cross a tenant boundary. Loading a user's persons primes the person-by-id loader, and a
page of rows primes the by-id loader of their table, so walking back up the graph costs
nothing. Each loader batches every key asked for in one tick into one statement.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from aiodataloader import DataLoader

from gateway.domain.pagination import Page, PageRequest
from gateway.services.reads import PlatformReader
from gateway.store.ledger_tables import LedgerEntry
from gateway.store.tables import Account, Person, User

PageKey = tuple[uuid.UUID, PageRequest]
Batch = Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]


class Loaders:
    def __init__(self, reader: PlatformReader) -> None:
        self.reader = reader
        self._by_id: dict[type, DataLoader[uuid.UUID, Any]] = {}
        self._of_user: dict[type, DataLoader[uuid.UUID, list[Any]]] = {}
        self.node_type: DataLoader[uuid.UUID, str | None] = DataLoader(self._node_types)
        self.persons_of_user: DataLoader[uuid.UUID, list[Person]] = DataLoader(
            self._persons_of_users
        )
        self.accounts_of_user: DataLoader[PageKey, Page[Account]] = DataLoader(
            self._paged(reader.accounts_pages_of_users)
        )
        self.entries_of_account: DataLoader[PageKey, Page[LedgerEntry]] = DataLoader(
            self._paged(reader.entries_pages)
        )

    def by_id(self, model: type) -> DataLoader[uuid.UUID, Any]:
        """The row of `model` with an id in the caller's platform, or None."""
        if model not in self._by_id:
            self._by_id[model] = DataLoader(self._rows_by_id(model))
        return self._by_id[model]

    def of_user(self, model: type) -> DataLoader[uuid.UUID, list[Any]]:
        """Every row of `model` of a user, oldest first."""
        if model not in self._of_user:
            self._of_user[model] = DataLoader(self._rows_of_user(model))
        return self._of_user[model]

    @property
    def user(self) -> DataLoader[uuid.UUID, User | None]:
        return self.by_id(User)

    @property
    def person(self) -> DataLoader[uuid.UUID, Person | None]:
        return self.by_id(Person)

    @property
    def account(self) -> DataLoader[uuid.UUID, Account | None]:
        return self.by_id(Account)

    def prime(self, rows: Sequence[Any]) -> None:
        for row in rows:
            self.by_id(type(row)).prime(row.id, row)

    def prime_users(self, users: Sequence[User]) -> None:
        self.prime(users)

    def _rows_by_id(self, model: type) -> Batch:
        async def batch(ids: list[uuid.UUID]) -> list[Any]:
            rows: list[Any] = await self.reader.by_ids(model, ids)
            found = {row.id: row for row in rows}
            return [found.get(key) for key in ids]

        return batch

    def _rows_of_user(self, model: type) -> Batch:
        async def batch(user_ids: list[uuid.UUID]) -> list[list[Any]]:
            grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
            rows: list[Any] = await self.reader.of_users(model, user_ids)
            for row in rows:
                grouped[row.user_id].append(row)
            self.prime(rows)
            return [grouped[user_id] for user_id in user_ids]

        return batch

    async def _node_types(self, ids: list[uuid.UUID]) -> list[str | None]:
        found = await self.reader.node_types(ids)
        return [found.get(key) for key in ids]

    async def _persons_of_users(self, user_ids: list[uuid.UUID]) -> list[list[Person]]:
        grouped: dict[uuid.UUID, list[Person]] = defaultdict(list)
        persons = await self.reader.persons_of_users(user_ids)
        for person in persons:
            grouped[person.user_id].append(person)
        self.prime(persons)
        return [grouped[user_id] for user_id in user_ids]

    def _paged(
        self, fetch: Callable[..., Coroutine[Any, Any, dict[uuid.UUID, Page[Any]]]]
    ) -> Batch:
        """One statement per distinct page request (in practice: one for the whole list)."""

        async def batch(keys: list[PageKey]) -> list[Page[Any]]:
            by_request: dict[PageRequest, list[uuid.UUID]] = defaultdict(list)
            for parent_id, page in keys:
                by_request[page].append(parent_id)
            pages: dict[PageKey, Page[Any]] = {}
            for page, parent_ids in by_request.items():
                found = await fetch(parent_ids, page)
                pages.update({(parent_id, page): found[parent_id] for parent_id in parent_ids})
                for child_page in found.values():
                    self.prime(child_page.items)
            return [pages[key] for key in keys]

        return batch
