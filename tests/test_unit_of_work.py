"""webapp.transactions.unit_of_work: one transaction, one commit, refusal of stray writes."""

import threading

import pytest
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import Organisation, OrganisationType
from webapp.transactions import (
    UnitOfWorkError,
    after_commit,
    before_commit,
    in_unit_of_work,
    unit_of_work,
)


def _organisation(name: str) -> Organisation:
    return Organisation(name=name, type=OrganisationType.SONKO)


def _names() -> set[str]:
    db.session.rollback()
    return set(db.session.scalars(select(Organisation.name)))


def test_commits_once_at_the_end(app_ctx):
    with unit_of_work() as session:
        assert in_unit_of_work()
        session.add(_organisation("Первая"))
    assert not in_unit_of_work()
    assert _names() == {"Первая"}


def test_rolls_back_on_any_error(app_ctx):
    with pytest.raises(ZeroDivisionError), unit_of_work() as session:
        session.add(_organisation("Потерянная"))
        session.flush()
        1 / 0  # noqa: B018
    assert _names() == set()


def test_a_unit_inside_another_joins_it(app_ctx):
    with pytest.raises(RuntimeError), unit_of_work() as session:
        session.add(_organisation("Внешняя"))
        with unit_of_work():
            session.add(_organisation("Внутренняя"))
        assert _names_in(session) == {"Внешняя", "Внутренняя"}
        raise RuntimeError("the outer unit fails: the inner one's work goes too")
    assert _names() == set()


def _names_in(session) -> set[str]:
    return set(session.scalars(select(Organisation.name)))


def test_refuses_to_start_over_unflushed_changes(app_ctx):
    db.session.add(_organisation("Забытая"))
    with pytest.raises(UnitOfWorkError), unit_of_work():
        pass
    db.session.rollback()


def test_refuses_to_start_over_a_flushed_write(app_ctx):
    db.session.add(_organisation("Сброшенная"))
    db.session.flush()
    with pytest.raises(UnitOfWorkError), unit_of_work():
        pass
    db.session.rollback()


def test_refuses_to_start_over_a_write_statement(app_ctx):
    db.session.execute(update(Organisation).values(name="x"))
    with pytest.raises(UnitOfWorkError), unit_of_work():
        pass
    db.session.rollback()


def test_a_read_transaction_is_no_obstacle(app_ctx):
    assert _names() == set()  # a SELECT opened a transaction
    with unit_of_work() as session:
        session.add(_organisation("После чтения"))
    assert _names() == {"После чтения"}


def test_after_commit_runs_only_after_a_commit(app_ctx):
    ran = []
    with unit_of_work():
        after_commit(lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(ValueError), unit_of_work():
        after_commit(lambda: ran.append("rolled back"))
        raise ValueError
    assert ran == ["committed"]


def test_before_commit_runs_last_in_the_unit_and_once(app_ctx):
    ran = []

    def last_step() -> None:
        ran.append(_names_in(db.session))  # inside the transaction, after the unit's work

    with unit_of_work() as session:
        before_commit(last_step)
        session.add(_organisation("Первая"))
        with unit_of_work():
            before_commit(last_step)  # asked again by a joined unit: still once
        assert ran == []
    assert ran == [{"Первая"}]
    with pytest.raises(ValueError), unit_of_work():
        before_commit(last_step)
        raise ValueError
    assert ran == [{"Первая"}]
    with pytest.raises(UnitOfWorkError):
        before_commit(last_step)


def test_after_commit_runs_once_other_writers_may_go(app):
    """A follow-up (mail, certificates) must not hold SQLite's writers' queue: another
    thread's unit can commit while it runs."""
    other_committed = threading.Event()

    def other_writer() -> None:
        with app.app_context():
            with unit_of_work() as session:
                session.add(_organisation("Соседняя"))
            other_committed.set()
            db.session.remove()

    def follow_up() -> None:
        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(timeout=10)
        assert other_committed.is_set(), "the follow-up held the writers' queue"

    with app.app_context():
        try:
            with unit_of_work() as session:
                session.add(_organisation("Первая"))
                after_commit(follow_up)
            assert _names() == {"Первая", "Соседняя"}
        finally:
            db.session.rollback()
            for organisation in db.session.scalars(select(Organisation)):
                db.session.delete(organisation)
            db.session.commit()
            db.session.remove()
