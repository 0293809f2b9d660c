"""Write transactions that take their locks first, the same way on SQLite and PostgreSQL."""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from webapp.extensions import db


class _SQLiteWriterQueue:
    """The queue for SQLite's one writer: the threads of a process wait on a lock, and the
    processes (gunicorn's workers) on a lock file beside the database, each waiter woken as
    soon as the writer before it commits. Without it they poll in SQLite's busy handler,
    whose back-off sleeps (up to 100 ms a try) let a waiter starve: seconds of tail latency
    for a door's scanners or a burst of registrations."""

    def __init__(self):
        # Reentrant: a write transaction opened inside another (a mistake) must not hang.
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


@contextmanager
def write_transaction() -> Iterator[None]:
    """A fresh transaction that commits on success and rolls back on any error.

    On SQLite it starts with BEGIN IMMEDIATE, taking the database's write lock at once (a
    reader cannot later become the writer in WAL mode), after waiting its turn in the
    writers' queue; on PostgreSQL the caller's first statement should be a
    `SELECT ... FOR UPDATE` of the rows it guards. Whatever the caller had open is committed
    first, so the lock is the transaction's first statement.
    """
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        with _sqlite_writers.turn(db.engine.url.database):
            yield from _transaction()
    else:
        yield from _transaction()


def _transaction():
    db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
