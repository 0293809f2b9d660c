"""Per-process caches: each gunicorn worker keeps its own small dict.

ShortCache, for the hot paths (the door's check-in API): entries live a few seconds, so
nothing has to be shared between processes or invalidated across them. What it holds may
be at most `seconds` old in another process (a revoked API token may still open the
check-in API for those seconds there; the process that revoked it forgets it at once).

StampedCache, for costly reads (the dashboard's figures): an entry is used only while a
stamp read from the database on each use is the one it was computed at, so a change
reaches every process at once. The database stays the one source of truth.
"""

import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from webapp.types import utcnow

V = TypeVar("V")

_ALL: list["ShortCache | StampedCache"] = []


class ShortCache(Generic[V]):
    """key → value for `seconds`; at most `max_entries` (the oldest go first)."""

    def __init__(self, seconds: float, max_entries: int = 2048):
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()  # a worker may serve requests in threads
        _ALL.append(self)

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value, or `load()`'s (cached unless it is None: a miss is asked again)."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()  # outside the lock: two threads may both load, the last one stays
        if value is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._forget_oldest(now)
                self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _forget_oldest(self, now: float) -> None:
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:  # dicts keep insertion order
            del self._entries[next(iter(self._entries))]


class StampedCache(Generic[V]):
    """key → value while the stamp given on each use is the one the value was computed at,
    and until the value's own expiry (figures that change with the clock alone); at most
    `max_entries` keys, the oldest computed go first."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[Hashable, datetime | None, V]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def get_or_load(
        self, key: Hashable, stamp: Hashable, load: Callable[[], tuple[V, datetime | None]]
    ) -> V:
        """The value computed at this stamp and not expired, or `load()`'s: (value, the
        moment it expires or None). A None stamp (unknown) is never trusted."""
        entry = self._entries.get(key)
        if entry is not None and stamp is not None:
            computed_at, expires, value = entry
            if computed_at == stamp and (expires is None or utcnow() < expires):
                return value
        value, expires = load()  # outside the lock: two threads may both load
        with self._lock:
            self._entries.pop(key, None)  # a key computed anew is the newest
            while len(self._entries) >= self.max_entries:  # dicts keep insertion order
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (stamp, expires, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_all() -> None:
    """Forget every cache of this process (tests start each with a fresh database)."""
    for cache in _ALL:
        cache.clear()
