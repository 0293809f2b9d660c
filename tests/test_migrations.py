"""The migrations build the schema the models declare; /healthz reports the database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from webapp import MIGRATIONS_DIR
from webapp.cli import main
from webapp.extensions import db


def schema_differences() -> list:
    """What Alembic's autogenerate would still have to change: [] when in step."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def migration_scripts(app) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config(MIGRATIONS_DIR))


def test_the_migrated_test_database_matches_the_models(app_ctx):
    """The session app's schema was built by `upgrade()`: SQLite, or PostgreSQL in CI."""
    assert schema_differences() == []


def test_the_migrations_have_one_head(app_ctx):
    """Two revisions written at once on the same parent would leave two heads."""
    assert len(migration_scripts(app_ctx).get_heads()) == 1


@pytest.fixture
def fresh_app(make_app, tmp_path):
    """An app on an empty SQLite file, its app context pushed (the CLI acts on current_app)."""
    fresh = make_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}"})
    with fresh.app_context():
        yield fresh


def test_tropa_db_upgrade_builds_an_empty_database_and_downgrade_undoes_it(fresh_app):
    tropa = fresh_app.test_cli_runner()
    assert inspect(db.engine).get_table_names() == []

    upgraded = tropa.invoke(main, ["db", "upgrade"])

    assert upgraded.exit_code == 0, upgraded.output
    assert schema_differences() == []
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == migration_scripts(fresh_app).get_current_head()

    downgraded = tropa.invoke(main, ["db", "downgrade", "base"])

    assert downgraded.exit_code == 0, downgraded.output
    assert inspect(db.engine).get_table_names() == ["alembic_version"]
    assert tropa.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert schema_differences() == []


# --- /healthz -----------------------------------------------------------------------------


def test_healthz_reports_the_app_and_its_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json["status"] == response.json["app"] == response.json["database"] == "ok"
    assert response.json["database_backend"] == db.engine.dialect.name
    # the rest (outbox, worker, deferred work): tests/test_health.py


def test_healthz_answers_503_when_the_database_is_unreachable(make_app, tmp_path):
    broken = make_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no-such-folder' / 'tropa.db'}"}
    )

    response = broken.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert response.json["database"] == "error"
    assert response.json["app"] == "ok"
