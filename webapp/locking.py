"""Deprecated: the old write transaction, kept only for the packages not yet moved to
`webapp.transactions.unit_of_work` (the one way to write). Delete once nothing imports it;
new code never uses it."""

from collections.abc import Iterator
from contextlib import contextmanager

from webapp.extensions import db
from webapp.transactions import _sqlite_writers


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
