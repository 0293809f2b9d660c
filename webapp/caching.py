"""Per-process caches for the hot paths; the database stays the one source of truth.

Each gunicorn worker keeps its own small dicts, so nothing is shared between processes.
Two kinds, by how a change elsewhere reaches them:

- `ShortCache` (the door's check-in API): entries live a few seconds and are never
  invalidated, so what one holds may be at most `seconds` old in another process (a revoked
  API token may still open the check-in API for those seconds there; the process that
  revoked it forgets it at once).
- `StampedCache` (the course catalogue, the dashboard's figures): entries are never stale.
  Every change of what they show bumps a version row in the database (`cache_stamps`)
  before its commit — the catalogue's in its unit of work (`changed()`), the dashboard's by
  database triggers on the tables its figures come from (migration 768f0e48c040); each
  lookup reads that row (one primary-key SELECT) and rebuilds an entry built under another
  version. The next request after a commit, in any process or host, sees it. An entry may
  also carry its own end (figures that change with the clock alone).
"""

import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.extensions import db
from webapp.models import CacheStamp
from webapp.transactions import before_commit
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
    """key → value for as long as the database's stamp `name` (a CacheStamp row) is the one
    the value was built under, and until the moment `ends(value)` gives, if any; at most
    `max_entries` (the oldest go first)."""

    def __init__(
        self,
        name: str,
        max_entries: int = 256,
        ends: Callable[[V], datetime | None] | None = None,
    ):
        self.name = name
        self.max_entries = max_entries
        self.ends = ends
        self._stamp: int | None = None  # the version the entries were built under
        self._entries: dict[Hashable, tuple[V, datetime | None]] = {}
        self._lock = threading.Lock()  # a worker may serve requests in threads
        _ALL.append(self)

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value if nothing changed since it was built, else `load()`'s.

        The stamp is read before `load()` reads the data, so a value is never older than
        the stamp it is kept under: a change committed in between is in it already, or
        bumps the stamp again after it."""
        stamp = self._read_stamp()
        with self._lock:
            entry = self._entries.get(key) if stamp == self._stamp else None
        if entry is not None and (entry[1] is None or utcnow() < entry[1]):
            return entry[0]
        value = load()  # outside the lock: two threads may both load, the last one stays
        ends = self.ends(value) if self.ends else None
        with self._lock:
            if stamp != self._stamp:  # a change since: what we hold is out of date
                self._entries.clear()
                self._stamp = stamp
            self._entries.pop(key, None)  # a key built anew is the newest
            if len(self._entries) >= self.max_entries:  # dicts keep insertion order
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (value, ends)
        return value

    def changed(self) -> None:
        """What the entries show is changing in the current unit of work: bump the stamp as
        the unit's last statement (once per unit), so that every process rebuilds after the
        commit. On PostgreSQL the row stays locked until the commit: writers that bump the
        same stamp queue for that moment only."""
        before_commit(self._bump)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._stamp = None

    def _read_stamp(self) -> int:
        found = db.session.scalar(select(CacheStamp.version).where(CacheStamp.name == self.name))
        return found or 0

    def _bump(self) -> None:
        # One statement that also creates the row at the stamp's first change: two first
        # changes at once must not both try to insert it.
        insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        db.session.execute(
            insert(CacheStamp)
            .values(name=self.name, version=1)
            .on_conflict_do_update(
                index_elements=[CacheStamp.name], set_={"version": CacheStamp.version + 1}
            )
        )


def clear_all() -> None:
    """Forget every cache of this process (tests start each with a fresh database)."""
    for cache in _ALL:
        cache.clear()
