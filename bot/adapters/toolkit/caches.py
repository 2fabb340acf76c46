"""A bounded least-recently-used map whose entries expire: workspaces' clients, DM channels, profiles,
the buttons of sent messages."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: A time-to-live for entries that only the size bound removes.
FOREVER = float("inf")


class TtlCache(Generic[K, V]):
    """A bounded least-recently-used map whose entries expire (monotonic time).

    Args:
        size: Entries kept at most; the least recently used goes first.
        ttl: Seconds an entry lives (:data:`FOREVER`: until the size bound removes it).
        clock: Monotonic seconds.
    """

    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value, or None when absent or expired."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Store ``value``; the least recently used entry goes when the map is full."""
        self._items[key] = (self.clock() + (self.ttl if ttl is None else ttl), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        """Forget the entries whose key matches."""
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]

    def __len__(self) -> int:
        return len(self._items)
