"""The one way to write: `unit_of_work()`.

A unit begins a transaction that can write at once (SQLite: `BEGIN IMMEDIATE` after waiting
its turn in the writers' queue, so a read that later writes can never fail with "database
is locked"; PostgreSQL: a normal transaction whose first statements take the row locks the
rule needs), commits once at its end, and rolls back on any error. Services open it;
views, the CLI and the worker never commit by themselves.

A unit refuses to start while the session holds changes nobody committed: work written
outside a unit is a bug to find, not something to commit silently. A unit opened inside
another joins it (the outer one commits), so a service can call another service.

Slow work (rendering mail, issuing certificates) is recorded in the unit as a job row
(webapp.jobs) and done after commit; `after_commit` runs a callable once the unit has
committed, e.g. to try the unit's jobs at once. `before_commit` runs one as the unit's last
step (bumping a cache stamp: webapp.caching), so the row it updates is held only while the
unit commits.
"""

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy.orm import Session as OrmSession

from webapp.extensions import UNIT_DEPTH, WROTE_OUTSIDE_UNIT, db

_DEPTH = UNIT_DEPTH
_AFTER_COMMIT = "tropa_after_commit"
_BEFORE_COMMIT = "tropa_before_commit"


class UnitOfWorkError(RuntimeError):
    """A programming error: a write outside a unit of work, found when the next unit starts."""


class _SQLiteWriterQueue:
    """The queue for SQLite's one writer: the threads of a process wait on a lock, and the
    processes (gunicorn's workers) on a lock file beside the database, each waiter woken as
    soon as the writer before it commits. Without it they poll in SQLite's busy handler,
    whose back-off sleeps (up to 100 ms a try) let a waiter starve: seconds of tail latency
    for a door's scanners or a burst of registrations."""

    def __init__(self):
        # Reentrant: a unit joined by another never waits for itself.
        self._threads = threading.RLock()
        self._files: dict[tuple[int, str], IO] = {}

    @contextmanager
    def turn(self, database: str | None) -> Iterator[None]:
        with self._threads:
            lock_file = self._lock_file(database)
            if lock_file is None:  # an in-memory database lives in this process only
                yield
                return
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _lock_file(self, database: str | None) -> IO | None:
        if not database or database == ":memory:":
            return None
        # Opened by each process itself: a file inherited across fork() would be one lock
        # owner for parent and child, and exclude neither.
        key = (os.getpid(), database)
        if key not in self._files:
            self._files[key] = open(f"{database}.writer-lock", "a")  # noqa: SIM115  kept open
        return self._files[key]


_sqlite_writers = _SQLiteWriterQueue()


def in_unit_of_work() -> bool:
    return db.session.info.get(_DEPTH, 0) > 0


def has_pending_changes(session: OrmSession) -> bool:
    """Objects added, changed or deleted and not flushed, or writes flushed or executed in
    the open transaction outside a unit (noted by TropaSession)."""
    return not session._is_clean() or bool(session.info.get(WROTE_OUTSIDE_UNIT))


@contextmanager
def unit_of_work(lock: Callable[[], object] | None = None) -> Iterator[OrmSession]:
    """One transaction that commits once at its end; `lock` runs first (a
    `SELECT ... FOR UPDATE` of the rows the rule guards). Yields the session."""
    session = db.session()
    if in_unit_of_work():
        # Joining the enclosing unit: its transaction, its commit; our lock too.
        session.info[_DEPTH] += 1
        try:
            if lock is not None:
                lock()
            yield session
        finally:
            session.info[_DEPTH] -= 1
        return
    if has_pending_changes(session):
        raise UnitOfWorkError("changes were made outside a unit of work")
    # A read transaction left open by earlier SELECTs is ended (it holds nothing to keep),
    # so this unit's first statement takes the lock.
    if session.in_transaction():
        session.rollback()
    if db.engine.dialect.name == "sqlite":
        with _sqlite_writers.turn(db.engine.url.database):
            yield from _run(session, lock)
    else:
        yield from _run(session, lock)
    # After the writers' queue is left: slow follow-ups never hold other writers up.
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


def _run(session: OrmSession, lock):
    session.info[_DEPTH] = 1
    session.info[_AFTER_COMMIT] = []
    session.info[_BEFORE_COMMIT] = {}  # a dict as an ordered set: each callback runs once
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    try:
        if lock is not None:
            lock()
        yield session
        for callback in session.info.pop(_BEFORE_COMMIT):
            callback()
        session.commit()
    except BaseException:
        session.rollback()
        session.info.pop(_BEFORE_COMMIT, None)
        session.info.pop(_AFTER_COMMIT, None)
        raise
    finally:
        session.info[_DEPTH] = 0


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current unit has committed (never when it rolls back)."""
    if not in_unit_of_work():
        raise UnitOfWorkError("after_commit outside a unit of work")
    db.session.info[_AFTER_COMMIT].append(callback)


def before_commit(callback: Callable[[], object]) -> None:
    """Run `callback` as the current unit's last step before it commits, once however often
    it is asked for (callbacks that are equal, e.g. the same bound method, are one)."""
    if not in_unit_of_work():
        raise UnitOfWorkError("before_commit outside a unit of work")
    db.session.info[_BEFORE_COMMIT][callback] = None


def end_read() -> None:
    """End a read-only transaction (e.g. before a slow step outside any lock)."""
    session = db.session()
    if has_pending_changes(session):
        raise UnitOfWorkError("changes were made outside a unit of work")
    session.rollback()
