"""Per-request dataloaders over a platform-scoped reader.

Loaders are created for each request (never shared), so their caches never outlive a request
nor cross a tenant boundary. Loading a user's persons primes the person-by-id loader, and a
page of rows primes the by-id loader of their table, so walking back up the graph costs
nothing. Each loader batches every key asked for in one tick into one statement.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from gateway.domain.pagination import Listing, Page, PageRequest
from gateway.store.delivery_tables import WebhookDelivery, WebhookDeliveryStatus
from gateway.store.ledger_tables import LedgerEntry
from gateway.store.platform_reader import PlatformReader
from gateway.store.tables import Account, Person, User

PageKey = tuple[uuid.UUID, PageRequest]
# A page of a listing (filtered or ordered): None for the connection's own order.
ListingPageKey = tuple[uuid.UUID, PageRequest, Listing | None]
DeliveryPageKey = tuple[uuid.UUID, PageRequest, WebhookDeliveryStatus | None]  # endpoint's
Batch = Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]
K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
PENDING: Any = object()


class Loader(DataLoader[K, V]):
    """A DataLoader that can tell a value it already holds, without a round through the loop.

    Primed values are kept as they are and become futures only when loaded: a page of rows
    primes every row (hundreds per request), and most are never loaded by id afterwards."""

    def __init__(self, batch_load_fn: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> None:
        self._futures: dict[Any, asyncio.Future[V]] = {}
        self._primed: dict[Any, V] = {}
        super().__init__(batch_load_fn, cache_map=self._futures)

    def prime(self, key: K, value: V) -> Loader[K, V]:
        """As DataLoader's: a key already held keeps its value."""
        if key not in self._futures:
            self._primed.setdefault(key, value)
        return self

    def load(self, key: K) -> asyncio.Future[V]:
        if self._primed and key not in self._futures:
            value = self._primed.pop(key, PENDING)
            if value is not PENDING:
                super().prime(key, value)
        return super().load(key)

    def clear(self, key: K) -> Loader[K, V]:
        self._primed.pop(key, None)
        super().clear(key)
        return self

    def clear_all(self) -> Loader[K, V]:
        self._primed.clear()
        super().clear_all()
        return self

    def peek(self, key: K) -> V:
        """The loaded value of `key`, or PENDING when it is not (yet, or successfully) loaded."""
        future = self._futures.get(key)
        if future is None:
            return self._primed.get(key, PENDING)  # type: ignore[no-any-return]
        if not future.done() or future.cancelled() or future.exception():
            return PENDING  # type: ignore[no-any-return]
        return future.result()


def now_or_later(loader: Loader[K, V], key: K, convert: Callable[[V], T]) -> T:
    """`convert` of the key's value, now when the loader holds it (prefetched: no task, no
    await), else an awaitable of it, which graphql-core awaits like an async resolver's."""
    value = loader.peek(key)
    if value is not PENDING:
        return convert(value)

    async def later() -> T:
        return convert(await loader.load(key))

    return cast(T, later())


class Loaders:
    def __init__(self, reader: PlatformReader) -> None:
        self.reader = reader
        self._by_id: dict[type, Loader[uuid.UUID, Any]] = {}
        self._of_user: dict[type, DataLoader[uuid.UUID, list[Any]]] = {}
        self._children: dict[tuple[type, str], DataLoader[uuid.UUID, list[Any]]] = {}
        self._node_tables: Mapping[str, Any] | None = None
        self._node_type: DataLoader[uuid.UUID, str | None] | None = None
        self._owned: dict[str, DataLoader[Any, Any]] = {}
        self.persons_of_user: Loader[uuid.UUID, list[Person]] = Loader(self._persons_of_users)
        self.accounts_of_user: Loader[PageKey, Page[Account]] = Loader(
            self._paged(Account, reader.accounts_pages_of_users)
        )
        self.entries_of_account: DataLoader[ListingPageKey, Page[LedgerEntry]] = DataLoader(
            self._paged(LedgerEntry, reader.entries_pages)
        )
        self.deliveries_of_endpoint: DataLoader[DeliveryPageKey, Page[WebhookDelivery]] = (
            DataLoader(self._delivery_pages)
        )

    def clear(self) -> None:
        """Forget every value loaded. The loaders and their batch functions refer to each other,
        so what they cache is freed by the collector only; a request clears them when it ends,
        and the rows it read are freed at once."""
        named = [value for value in vars(self).values() if isinstance(value, DataLoader)]
        kept = (*self._by_id.values(), *self._of_user.values(), *self._children.values())
        kept += tuple(self._owned.values())
        for loader in (*named, *kept):
            loader.clear_all()

    def node_type(self, tables: Mapping[str, Any]) -> DataLoader[uuid.UUID, str | None]:
        """Which of `tables` (a name for each table: the node registry's) holds each id."""
        if self._node_type is None or self._node_tables is not tables:
            self._node_tables = tables
            self._node_type = DataLoader(partial(self._node_types, tables))
        return self._node_type

    def owned(
        self, name: str, make: Callable[[PlatformReader], DataLoader[Any, Any]]
    ) -> DataLoader[Any, Any]:
        """A loader that another module defines (`make` builds it on this request's reader),
        made on first use: one per name per request."""
        if name not in self._owned:
            self._owned[name] = make(self.reader)
        return self._owned[name]

    def by_id(self, model: type) -> Loader[uuid.UUID, Any]:
        """The row of `model` with an id in the caller's platform, or None."""
        if model not in self._by_id:
            self._by_id[model] = Loader(self._rows_by_id(model))
        return self._by_id[model]

    def of_user(self, model: type) -> DataLoader[uuid.UUID, list[Any]]:
        """Every row of `model` of a user, oldest first."""
        if model not in self._of_user:
            self._of_user[model] = DataLoader(self._rows_of_user(model))
        return self._of_user[model]

    def children(self, model: type, parent: str) -> DataLoader[uuid.UUID, list[Any]]:
        """Every row of `model` whose `parent` column names the key, oldest first (a
        transfer's reversals, a pay-in's refunds): one statement for all the keys of a tick."""
        if (model, parent) not in self._children:
            self._children[model, parent] = DataLoader(self._rows_of_parents(model, parent))
        return self._children[model, parent]

    @property
    def user(self) -> Loader[uuid.UUID, User | None]:
        return self.by_id(User)

    @property
    def person(self) -> Loader[uuid.UUID, Person | None]:
        return self.by_id(Person)

    @property
    def account(self) -> Loader[uuid.UUID, Account | None]:
        return self.by_id(Account)

    def prime(self, model: type, rows: Sequence[Any]) -> None:
        loader = self.by_id(model)
        for row in rows:
            loader.prime(row.id, row)

    def prime_users(self, users: Sequence[User]) -> None:
        self.prime(User, users)

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
            self.prime(model, rows)
            return [grouped[user_id] for user_id in user_ids]

        return batch

    def _rows_of_parents(self, model: type, parent: str) -> Batch:
        async def batch(parent_ids: list[uuid.UUID]) -> list[list[Any]]:
            grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
            rows: list[Any] = await self.reader.of_parents(model, parent, parent_ids)
            for row in rows:
                grouped[getattr(row, parent)].append(row)
            self.prime(model, rows)
            return [grouped[parent_id] for parent_id in parent_ids]

        return batch

    async def _node_types(
        self, tables: Mapping[str, Any], ids: list[uuid.UUID]
    ) -> list[str | None]:
        found = await self.reader.node_types(ids, tables=tables)
        return [found.get(key) for key in ids]

    async def _persons_of_users(self, user_ids: list[uuid.UUID]) -> list[list[Person]]:
        grouped: dict[uuid.UUID, list[Person]] = defaultdict(list)
        persons = await self.reader.persons_of_users(user_ids)
        for person in persons:
            grouped[person.user_id].append(person)
        self.prime(Person, persons)
        return [grouped[user_id] for user_id in user_ids]

    async def _delivery_pages(self, keys: list[DeliveryPageKey]) -> list[Page[WebhookDelivery]]:
        """One statement per distinct (page request, status): one for a whole list."""
        by_request: dict[tuple[PageRequest, Any], list[uuid.UUID]] = defaultdict(list)
        for endpoint_id, page, status in keys:
            by_request[page, status].append(endpoint_id)
        pages: dict[DeliveryPageKey, Page[WebhookDelivery]] = {}
        for (page, status), endpoint_ids in by_request.items():
            found = await self.reader.webhook_deliveries_pages(endpoint_ids, page, status)
            pages.update({(key, page, status): found[key] for key in endpoint_ids})
            for child_page in found.values():
                self.prime(WebhookDelivery, child_page.items)
        return [pages[key] for key in keys]

    def _paged(
        self, model: type, fetch: Callable[..., Coroutine[Any, Any, dict[uuid.UUID, Page[Any]]]]
    ) -> Batch:
        """One statement per distinct page request (in practice: one for the whole list). A
        key is (parent id, page request, what else the fetch takes: a listing)."""

        async def batch(keys: list[tuple[Any, ...]]) -> list[Page[Any]]:
            by_request: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                by_request[key[1:]].append(key[0])
            pages: dict[tuple[Any, ...], Page[Any]] = {}
            for request, parent_ids in by_request.items():
                found = await fetch(parent_ids, *request)
                pages.update({(parent_id, *request): found[parent_id] for parent_id in parent_ids})
                for child_page in found.values():
                    self.prime(model, child_page.items)
            return [pages[key] for key in keys]

        return batch
