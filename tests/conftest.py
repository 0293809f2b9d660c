"""Fixtures: one app per test run on a real database, emptied after every test.

The database is SQLite (a file in a temporary folder) unless TROPA_TEST_DATABASE_URL names
a PostgreSQL database; `make test` runs the suite once on each. The schema is built by the
Alembic migrations, so every run also proves they work.
"""

import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError

from webapp import caching, create_app
from webapp.extensions import db, limiter
from webapp.models import Role, User, UserRole
from webapp.services import hash_password
from webapp.types import utcnow

PASSWORD = "correct-horse-42"

# For tests whose subject does not depend on the database (markup, deployment files, the
# test cluster script): they run in the SQLite pass of `make test` only.
database_independent = pytest.mark.skipif(
    bool(os.environ.get("TROPA_TEST_DATABASE_URL")),
    reason="the same on both databases: runs in the SQLite pass",
)
TRANSLATIONS = Path(__file__).resolve().parent.parent / "webapp" / "translations"


def pytest_sessionstart(session):
    """Compile the translation catalogues (build output, not committed) that are missing or
    older than their .po, so a plain `pytest` works on a fresh clone."""
    compile_translations()


def compile_translations() -> None:
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        # Written aside and moved in: parallel test workers never read half a file.
        partial = mo.with_name(f"{mo.name}.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        os.replace(partial, mo)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TROPA_TEST_DATABASE_URL")
    if url:
        return worker_database(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'tropa-test.db'}"


def worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (tropa_test_gw0, ...),
    created on first use: every worker drops and rebuilds its schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    server = make_url(url)
    name = f"{server.database}_{worker}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def reset_schema(app) -> None:
    """Drop everything, then build the schema from the migrations."""
    with app.app_context():
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.drop_all()
        upgrade()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context — its own `g`, locale, current user and
    database session — as in production, even though the test holds an app context.

    The test's database session is committed around every request, so the request sees
    what the test wrote and the test then reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            db.session.commit()


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def app(tmp_path_factory, instance_dir):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "tropa.test",
            "TROPA_BASE_URL": "http://tropa.test",
        },
        instance_path=str(instance_dir),
    )
    app.test_client_class = IsolatedClient
    reset_schema(app)
    return app


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        _truncate(tables)
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))  # noqa: S608  our own table names
    db.session.commit()
    caching.clear_all()  # ids are used again by the next test's rows


def _truncate(tables: list[str], tries: int = 5) -> None:
    """TRUNCATE takes every table at once; a browser test's page may still be polling the
    live server when its test ends, and PostgreSQL may pick the TRUNCATE to break the
    deadlock: then it is tried again (the poll's transaction is over by then)."""
    for attempt in range(tries):
        try:
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as error:
            db.session.rollback()
            if "deadlock" not in str(error) or attempt == tries - 1:
                raise
            time.sleep(0.2)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_tables()
        db.session.remove()


@pytest.fixture
def client(app_ctx):
    return app_ctx.test_client()


@pytest.fixture
def english_messages(app_ctx):
    """Messages made outside a page (services, the CLI) in English, so assertions hold
    whatever the Russian catalogue says (outside a request the default is Russian)."""
    with force_locale("en"):
        yield


@pytest.fixture
def english(client, english_messages):
    """The test client's pages in English too (GET /lang/en), and messages as above."""
    client.get("/lang/en")
    return client


# What a second app inherits from the session app: same database, same test switches.
_SHARED_CONFIG = (
    "TESTING",
    "SQLALCHEMY_DATABASE_URI",
    "WTF_CSRF_ENABLED",
    "RATELIMIT_ENABLED",
    "SERVER_NAME",
    "TROPA_BASE_URL",
)


@pytest.fixture
def make_app(app, app_ctx, tmp_path):
    """`make_app({"RATELIMIT_ENABLED": True, ...})`: another app on the test database, for
    switches the session app keeps off (rate limits, CSRF).

    The extensions are module-level singletons shared by every app, and Flask-Limiter keeps
    its on/off switch and its counters on the one Limiter: afterwards it is cleared and
    handed back to the session app (where it is off), or later tests would be rate-limited.
    """
    built = []

    def build(overrides: dict | None = None):
        config = {key: app.config[key] for key in _SHARED_CONFIG}
        other = create_app(
            {**config, **(overrides or {})}, instance_path=str(tmp_path / f"app-{len(built)}")
        )
        other.test_client_class = IsolatedClient
        built.append(other)
        return other

    yield build
    for other in built:
        with other.app_context():
            db.engine.dispose()
    if limiter.enabled:
        limiter.reset()
    limiter.init_app(app)


_PASSWORD_HASH = {}


def make_user(email: str, *roles: Role, name: str | None = None) -> User:
    """A user with PASSWORD; the slow scrypt hash is computed once per run."""
    if "hash" not in _PASSWORD_HASH:
        _PASSWORD_HASH["hash"] = hash_password(PASSWORD)
    user = User(
        email=email,
        full_name=name or email.split("@")[0].title(),
        password_hash=_PASSWORD_HASH["hash"],
        consent_at=utcnow(),
        consent_policy_version="2026-01",
    )
    for role in roles or (Role.PARTICIPANT,):
        user.role_rows.append(UserRole(role=role))
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def users(app_ctx) -> dict[str, User]:
    return {
        "participant": make_user("anna@example.org", Role.PARTICIPANT, name="Анна Смирнова"),
        "trainer": make_user("trainer@example.org", Role.TRAINER, name="Олег Трейнеров"),
        "organiser": make_user("org@example.org", Role.ORGANISER, name="Ольга Орлова"),
        "admin": make_user("admin@example.org", Role.ADMIN, name="Иван Админов"),
    }


def login(client, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def make_course(app_ctx):
    """Build a published course with sessions; keyword arguments override the defaults."""
    from courses.models import Course, Direction, Programme
    from courses.services import catalogue
    from webapp.services import search_key
    from webapp.transactions import unit_of_work

    def build(title="Аудит социального проекта", capacity=20, sessions=3, **fields):
        programme = db.session.query(Programme).first() or Programme(title="Акселератор 2026")
        course = Course(
            title=title,
            description=fields.pop("description", "Первые шаги: **аудит** проекта."),
            programme=programme,
            level=fields.pop("level", 1),
            direction=fields.pop("direction", Direction.ADDITIONAL_EDUCATION),
            capacity=capacity,
            visibility=fields.pop("visibility", "published"),
            timezone="Europe/Moscow",
            **fields,
        )
        course.search_text = search_key(f"{course.title} {course.description}")
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
        from events.models import Session

        for number in range(sessions):
            begins = start + timedelta(days=7 * number)
            course.sessions.append(
                Session(starts_at=begins, ends_at=begins + timedelta(hours=2), room="Зал 1")
            )
        db.session.add(course)
        db.session.commit()
        with unit_of_work():  # as the courses' services do: the catalogue shows it at once
            catalogue.changed()
        return course

    return build


@pytest.fixture
def course(make_course):
    return make_course()


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app_ctx):
    """`with count_queries() as counter:` counts the SQL statements run inside."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting
