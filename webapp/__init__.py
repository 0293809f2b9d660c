"""Tropa's app factory: `create_app()` for gunicorn, the CLI and the tests."""

import os
from pathlib import Path

from flask import Flask, has_request_context, session
from flask_login import current_user
from sqlalchemy import event

from webapp.config import load_config
from webapp.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

LANGUAGES = ("ru", "en")
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def select_locale() -> str:
    """Russian first: the user's explicit choice, else their profile, else ru."""
    if not has_request_context():  # the CLI, or a service called outside a request
        return "ru"
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return "ru"


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    instance_path = instance_path or os.environ.get("TROPA_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(load_config(Path(app.instance_path)))
    app.config.update(overrides or {})
    from webapp import deployment, metrics

    shared_key = bool(os.environ.get("TROPA_SECRET_KEY")) or "SECRET_KEY" in (overrides or {})
    deployment.init_app(app, secret_key_from_environment=shared_key)
    metrics.init_app(app)  # first, so that its clock and request id see every request

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    bootstrap.init_app(app)
    limiter.init_app(app)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)

    from webapp import filters, headers, services, views

    login_manager.user_loader(services.user_for_session)

    login_manager.login_view = "webapp.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to open this page.")

    filters.register(app)
    app.register_blueprint(views.bp)

    # Each feature package registers its blueprint and connects its receivers to the
    # named signals (webapp.signals) in its init_app: who reacts to what is read there.
    # Lower packages first (webapp <- events <- courses <- certificates <- projects <- reports).
    import certificates
    import courses
    import events
    import feedback
    import projects
    import reports

    for package in (events, courses, certificates, feedback, projects, reports):
        package.init_app(app)

    headers.init_app(app)

    return app


def _tune_sqlite(engine) -> None:
    """WAL, foreign keys, a long busy timeout, and BEGIN issued by us.

    pysqlite's own transaction handling cannot say BEGIN IMMEDIATE, which the seat lock
    needs (events.services.seats.event_lock), so we take BEGIN over.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
