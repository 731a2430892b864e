"""Per-request dataloaders over a platform-scoped reader.

Loaders are created for each request (never shared), so their caches never outlive a request
nor cross a tenant boundary. Loading a user's persons primes the person-by-id loader, and a
users page primes the user-by-id loader, so walking back up the graph costs nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from aiodataloader import DataLoader

from gateway.domain.pagination import Page, PageRequest
from gateway.services.reads import PlatformReader
from gateway.store.tables import Account, Person, User

AccountsPageKey = tuple[uuid.UUID, PageRequest]


def _by_id(
    fetch: Callable[[list[uuid.UUID]], Awaitable[Sequence[Any]]],
) -> Callable[[list[uuid.UUID]], Coroutine[Any, Any, list[Any]]]:
    async def batch(ids: list[uuid.UUID]) -> list[Any]:
        found = {row.id: row for row in await fetch(ids)}
        return [found.get(key) for key in ids]

    return batch


class Loaders:
    def __init__(self, reader: PlatformReader) -> None:
        self.reader = reader
        self.user: DataLoader[uuid.UUID, User | None] = DataLoader(_by_id(reader.users))
        self.person: DataLoader[uuid.UUID, Person | None] = DataLoader(_by_id(reader.persons))
        self.account: DataLoader[uuid.UUID, Account | None] = DataLoader(_by_id(reader.accounts))
        self.node_type: DataLoader[uuid.UUID, str | None] = DataLoader(self._node_types)
        self.persons_of_user: DataLoader[uuid.UUID, list[Person]] = DataLoader(
            self._persons_of_users
        )
        self.accounts_of_user: DataLoader[tuple[uuid.UUID, PageRequest], Page[Account]] = (
            DataLoader(self._accounts_pages)
        )

    def prime_users(self, users: Sequence[User]) -> None:
        for user in users:
            self.user.prime(user.id, user)

    async def _node_types(self, ids: list[uuid.UUID]) -> list[str | None]:
        found = await self.reader.node_types(ids)
        return [found.get(key) for key in ids]

    async def _persons_of_users(self, user_ids: list[uuid.UUID]) -> list[list[Person]]:
        grouped: dict[uuid.UUID, list[Person]] = defaultdict(list)
        for person in await self.reader.persons_of_users(user_ids):
            grouped[person.user_id].append(person)
            self.person.prime(person.id, person)
        return [grouped[user_id] for user_id in user_ids]

    async def _accounts_pages(
        self, keys: list[tuple[uuid.UUID, PageRequest]]
    ) -> list[Page[Account]]:
        """One statement per distinct page request (in practice: one for the whole list)."""
        by_request: dict[PageRequest, list[uuid.UUID]] = defaultdict(list)
        for user_id, page in keys:
            by_request[page].append(user_id)
        pages: dict[tuple[uuid.UUID, PageRequest], Page[Account]] = {}
        for page, user_ids in by_request.items():
            found = await self.reader.accounts_pages_of_users(user_ids, page)
            pages.update({(user_id, page): found[user_id] for user_id in user_ids})
            for account_page in found.values():
                for account in account_page.items:
                    self.account.prime(account.id, account)
        return [pages[key] for key in keys]
