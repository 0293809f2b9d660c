"""`tropa create-user`, the set-up scripts' way to make or fix an account."""

import pytest
from sqlalchemy import func, select

from webapp import services
from webapp.cli import main
from webapp.extensions import db
from webapp.models import Role, User


@pytest.fixture
def tropa(app_ctx):
    """Run a `tropa` command against the test app; returns click's result."""
    runner = app_ctx.test_cli_runner()

    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def users_named(email: str) -> int:
    return db.session.scalar(select(func.count()).where(User.email == email))


def test_create_user_with_several_roles(tropa):
    result = tropa(
        "create-user", "Boss@Example.org", "--name", "Борис Начальников",
        "--password", "set-up-secret-1", "--role", "organiser", "--role", "trainer",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "boss@example.org: organiser, trainer"
    user = services.find_user("boss@example.org")
    assert user.full_name == "Борис Начальников"
    assert user.roles == {Role.ORGANISER, Role.TRAINER}
    assert user.consent_policy_version == "2026-01"
    assert services.authenticate("boss@example.org", "set-up-secret-1") == user


def test_create_user_again_updates_the_user(tropa):
    tropa(
        "create-user", "boss@example.org", "--name", "Борис",
        "--password", "set-up-secret-1", "--role", "organiser", "--role", "trainer",
    )  # fmt: skip

    result = tropa(
        "create-user", "BOSS@example.org", "--name", "Борис Петрович",
        "--password", "changed-secret-2", "--role", "admin",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "boss@example.org: admin"
    assert users_named("boss@example.org") == 1
    user = db.session.scalar(select(User).execution_options(populate_existing=True))
    assert user.full_name == "Борис Петрович"
    assert user.roles == {Role.ADMIN}
    assert services.authenticate("boss@example.org", "changed-secret-2") == user
    assert services.authenticate("boss@example.org", "set-up-secret-1") is None


def test_create_user_without_a_role_makes_a_participant(tropa):
    result = tropa("create-user", "p@example.org", "--name", "П", "--password", "set-up-secret-1")

    assert result.exit_code == 0, result.output
    assert services.find_user("p@example.org").roles == {Role.PARTICIPANT}


def test_an_unknown_role_is_refused(tropa):
    result = tropa(
        "create-user", "boss@example.org", "--name", "Борис",
        "--password", "set-up-secret-1", "--role", "wizard",
    )  # fmt: skip

    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert "'wizard' is not one of" in result.output
    assert users_named("boss@example.org") == 0


def test_a_short_password_is_refused(tropa):
    result = tropa("create-user", "boss@example.org", "--name", "Борис", "--password", "short")

    assert result.exit_code == 2
    assert "at least 8 characters" in result.output
    assert users_named("boss@example.org") == 0


def test_signals_lists_each_signal_with_its_receivers(tropa):
    result = tropa("signals")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    anonymised = lines.index("person-anonymised")
    assert lines[anonymised + 1] == "    events.services.seats.anonymise_registrations"
    assert "    projects.services.steps.tick_steps_for_completions" in lines
