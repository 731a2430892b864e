"""A bounded mapping that forgets its least recently used entry: the caches of documents,
plans and statements that the gateway keeps per text or per shape."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
DEFAULT_SIZE_MAX = 256


class Lru(Generic[K, V]):
    """A dict that forgets its least recently used entry beyond `size_max` entries."""

    def __init__(self, size_max: int = DEFAULT_SIZE_MAX) -> None:
        self.size_max = size_max
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size_max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
