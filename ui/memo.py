"""A process-wide memo for what every rerun of the same view would rebuild: the evaluated indicator table, the map's
deck and its JSON.

Why not ``st.cache_data``: it hashes its arguments with Streamlit's hasher and unpickles a fresh copy of the value
on every hit, which for a page's small frames costs about what recomputing them does. Here the key is a plain
tuple of hashable arguments (a View is a frozen dataclass) and every session gets the *same object* back, so
callers treat memoised values as read-only. Bounded by entries and age, like the Streamlit caches in
``ui/data.py``; keys carry the data version and the as-of minute, so an import or the next minute is a new entry.
Objects whose identity is part of a key (the current rules, a memoised table) are kept alive by the entry, so
their ``id`` cannot be reused while it lives.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Memo:
    """LRU of ``key -> value`` with a maximum age; thread-safe (every session's script thread shares it)."""

    def __init__(self, max_entries: int = 256, ttl: float = 600.0):
        self.max_entries, self.ttl = max_entries, ttl
        self._data: OrderedDict[Hashable, tuple[float, Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Any], pin: Any = None) -> Any:
        """The value for ``key``, made by ``make()`` on a miss; ``pin`` is kept alive with the entry."""
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                self._data.move_to_end(key)
                self.hits += 1
                return entry[1]
        value = make()  # outside the lock: two sessions may both make it once, neither waits on the other
        with self._lock:
            self.misses += 1
            self._data[key] = (now, value, pin)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
            self._sweep(now)
        return value

    def _sweep(self, now: float) -> None:
        """Drop expired entries from the least recently used end (under the lock). Keys carry the as-of minute, so
        without this every minute's entries would stay until ``max_entries`` pushed them out: memory would grow
        for as long as that takes (50 minutes for a wall rotating through ten regions) instead of staying at what
        the last ``ttl`` seconds used. An expired entry behind a fresh one goes when it is next asked for."""
        while self._data:
            oldest = next(iter(self._data.values()))
            if now - oldest[0] < self.ttl:
                break
            self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
