"""Accounts: sign-up, sign-in and out, the login rate limit, password reset and change.

Password reset mail goes through a real SMTP server (aiosmtpd) on loopback. Pages are read
in English (GET /lang/en) so the assertions hold whatever the Russian catalogue says.
"""

import email
import email.policy
import re
from urllib.parse import urlsplit

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, text
from werkzeug.security import check_password_hash

from tests.conftest import PASSWORD, login, make_user
from tests.mail_support import CollectingHandler, free_port, smtp_server, use_smtp
from webapp import outbox, services
from webapp.extensions import db
from webapp.models import Role, User
from webapp.types import utcnow

NEW_PASSWORD = "a-brand-new-secret-7"
MY_LEARNING = "/my/learning"
RESET_LINK = re.compile(r"http://tropa\.test(/password/reset/\S+)")


def signup_form(**changes) -> dict:
    """A valid sign-up form; a change to None leaves that field out."""
    form = {
        "full_name": "Мария Петрова",
        "email": "maria@example.org",
        "password": "long-enough-pw",
        "password_repeat": "long-enough-pw",
        "consent": "y",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def is_signed_in(client) -> bool:
    return client.get("/profile").status_code == 200


# --- sign-up -----------------------------------------------------------------------------


def test_signup_creates_a_participant_with_consent_and_a_scrypt_hash(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TROPA_POLICY_VERSION", "2026-07-test")
    client.get("/lang/en")
    before = utcnow()

    response = client.post("/signup", data=signup_form())

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    user = services.find_user("maria@example.org")
    assert user.full_name == "Мария Петрова"
    assert user.roles == {Role.PARTICIPANT}
    assert user.locale == "en"
    assert user.consent_policy_version == "2026-07-test"
    assert before <= user.consent_at <= utcnow()
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, "long-enough-pw")
    # Nothing in the row holds the password in clear.
    row = db.session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user.id}).one()
    assert not any("long-enough-pw" in str(value) for value in row)
    # Signed in at once, on the profile page.
    assert "Мария Петрова" in client.get("/profile").get_data(as_text=True)


def test_signup_with_a_known_email_in_other_case_is_a_form_error(client, users):
    client.get("/lang/en")
    before = user_count()

    response = client.post("/signup", data=signup_form(email="ANNA@Example.org"))

    assert response.status_code == 200
    assert "An account with this e-mail already exists." in response.get_data(as_text=True)
    assert user_count() == before
    assert not is_signed_in(client)


def test_signup_without_consent_is_refused_with_a_message(client):
    client.get("/lang/en")

    response = client.post("/signup", data=signup_form(consent=None))

    assert response.status_code == 200
    assert "Consent is required to create an account." in response.get_data(as_text=True)
    assert services.find_user("maria@example.org") is None


def test_signup_with_a_short_password_is_refused(client):
    client.get("/lang/en")

    response = client.post(
        "/signup", data=signup_form(password="seven77", password_repeat="seven77")
    )

    assert response.status_code == 200
    assert "Field must be between 8 and 200 characters long." in response.get_data(as_text=True)
    assert services.find_user("maria@example.org") is None


def test_signup_page_links_the_privacy_policy(client, app):
    client.get("/lang/en")

    page = client.get("/signup").get_data(as_text=True)
    policy = client.get("/privacy").get_data(as_text=True)

    assert 'href="/privacy"' in page
    assert "152-FZ" in policy
    assert f"Version {app.config['TROPA_POLICY_VERSION']}" in policy


# --- sign-in and out ---------------------------------------------------------------------


def test_login_with_a_wrong_password_shows_an_error(client, users):
    client.get("/lang/en")

    response = client.post("/login", data={"email": "anna@example.org", "password": "wrong-one"})

    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_login_ignores_the_case_of_the_email(client, users):
    response = client.post("/login", data={"email": "Anna@EXAMPLE.org", "password": PASSWORD})

    assert response.status_code == 302
    assert is_signed_in(client)


def test_a_deleted_account_cannot_sign_in_and_its_session_ends(client, users):
    anna = users["participant"]
    login(client, anna)
    services.delete_account(anna)
    client.get("/lang/en")

    assert client.get("/profile").headers["Location"].startswith("/login")
    response = client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_an_account_marked_deleted_cannot_sign_in_with_its_old_details(client, users):
    """Whatever else deletion changes, deleted_at alone must close the account."""
    anna = users["participant"]
    anna.deleted_at = utcnow()
    db.session.commit()

    response = client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})

    assert response.status_code == 200
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/courses/", "/courses/"),
        ("/profile?tab=data", "/profile?tab=data"),
        ("https://evil.example/", MY_LEARNING),
        ("//evil.example", MY_LEARNING),
        ("//evil.example/courses/", MY_LEARNING),
        ("/\t/evil.example", MY_LEARNING),
        ("javascript:alert(1)", MY_LEARNING),
    ],
)
def test_login_follows_next_only_to_same_site_paths(client, users, next_url, expected):
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": "anna@example.org", "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_a_backslash_in_next_cannot_leave_the_site(client, users):
    """Browsers read `/\\evil.example` as `//evil.example`: the answer must stay on the site."""
    response = client.post(
        "/login",
        query_string={"next": "/\\evil.example"},
        data={"email": "anna@example.org", "password": PASSWORD},
    )

    location = response.headers["Location"]
    assert urlsplit(location.replace("\\", "/")).netloc == ""


def test_logout_needs_a_post(client, users):
    login(client, users["participant"])
    client.get("/lang/en")

    assert "Sign out?" in client.get("/logout").get_data(as_text=True)
    assert is_signed_in(client)
    response = client.post("/logout", follow_redirects=True)
    assert "You have signed out." in response.get_data(as_text=True)
    assert not is_signed_in(client)


# --- login rate limit --------------------------------------------------------------------


@pytest.fixture
def limited_client(make_app):
    """A client of an app with the login limits on, as configured by default: 10 wrong
    passwords a minute per account, 100 per address."""
    limited = make_app({"RATELIMIT_ENABLED": True})
    client = limited.test_client()
    client.get("/lang/en")
    return client


def failed_login(client, email: str, address: str = "127.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": "not-the-password"},
        environ_base={"REMOTE_ADDR": address},
    )


def assert_too_many_attempts(response) -> None:
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page
    assert "Please wait a minute and try again." in page
    assert int(response.headers["Retry-After"]) > 0


def test_a_whole_class_signs_in_from_one_address(limited_client, users):
    """40 people behind one Wi-Fi sign in within a minute: successful sign-ins use no budget."""
    people = [make_user(f"student{number}@example.org") for number in range(40)]

    for person in people:
        response = limited_client.post(
            "/login",
            data={"email": person.email, "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "10.1.1.1"},
        )
        assert response.status_code == 302, person.email
        limited_client.post("/logout", environ_base={"REMOTE_ADDR": "10.1.1.1"})


def test_wrong_passwords_for_one_account_are_refused_after_ten(limited_client, users):
    answers = [failed_login(limited_client, "anna@example.org").status_code for _ in range(30)]

    assert answers == [200] * 10 + [429] * 20
    assert_too_many_attempts(failed_login(limited_client, "anna@example.org"))
    # Even the right password waits now, so guessing cannot go on.
    right = limited_client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert right.status_code == 429
    # Others behind the same address still sign in.
    other = limited_client.post("/login", data={"email": "org@example.org", "password": PASSWORD})
    assert other.status_code == 302


def test_one_address_is_limited_across_accounts(make_app, users):
    client = make_app(
        {"RATELIMIT_ENABLED": True, "TROPA_LOGIN_ADDRESS_RATE_LIMIT": "4 per minute"}
    ).test_client()
    client.get("/lang/en")
    for account in ("anna@example.org", "trainer@example.org", "org@example.org"):
        assert failed_login(client, account).status_code == 200
        right = client.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
        assert right.status_code == 302  # not counted
        client.post("/logout")
    assert failed_login(client, "nobody@example.org").status_code == 200

    assert_too_many_attempts(failed_login(client, "admin@example.org"))


def test_one_account_is_limited_across_addresses(make_app, users):
    client = make_app({"RATELIMIT_ENABLED": True, "TROPA_LOGIN_RATE_LIMIT": "3 per minute"})
    client = client.test_client()
    client.get("/lang/en")
    for number in range(1, 4):
        response = failed_login(client, "anna@example.org", f"10.0.0.{number}")
        assert response.status_code == 200

    # A fourth address, first attempt of its own: the account's count refuses it.
    assert_too_many_attempts(failed_login(client, "ANNA@example.org", "10.0.0.4"))
    # Another account from another fresh address is not affected.
    other = failed_login(client, "trainer@example.org", "10.0.0.5")
    assert "Wrong e-mail or password." in other.get_data(as_text=True)


def test_the_session_app_is_not_rate_limited_after_a_limited_app(client, app, users, monkeypatch):
    """Runs after the tests above: the one Limiter all apps share must be back to the session
    app switched off (see make_app), or this 1-a-minute limit would refuse the second try."""
    monkeypatch.setitem(app.config, "TROPA_LOGIN_RATE_LIMIT", "1 per minute")

    for _attempt in range(3):
        assert failed_login(client, "anna@example.org").status_code == 200


# --- password reset over a real SMTP server ----------------------------------------------


@pytest.fixture
def mailbox(app, monkeypatch):
    """A real SMTP server on loopback; the app sends to it. Yields the received messages."""
    handler = CollectingHandler()
    with smtp_server(handler) as server:
        use_smtp(app, monkeypatch, server.port)
        yield handler.messages


def reset_path(message) -> str:
    """The path of the reset link in a message (the link is absolute, on TROPA_BASE_URL)."""
    match = RESET_LINK.search(message.get_body(("plain",)).get_content())
    assert match, message.get_body(("plain",)).get_content()
    return match.group(1)


def ask_for_reset(client, address: str):
    """Ask for a reset link, then run the outbox sender, which delivers it."""
    response = client.post("/password/reset", data={"email": address}, follow_redirects=True)
    with client.application.app_context():
        outbox.send_due()
    return response


def signs_in(client, password: str) -> bool:
    response = client.post("/login", data={"email": "anna@example.org", "password": password})
    signed_in = response.status_code == 302
    client.post("/logout")
    return signed_in


def test_password_reset_by_mail_sets_a_new_password(client, users, mailbox):
    client.get("/lang/en")

    answer = ask_for_reset(client, "Anna@Example.org")

    assert "a link to reset the password is on its way" in answer.get_data(as_text=True)
    assert len(mailbox) == 1
    message = mailbox[0]
    assert message["To"] == "anna@example.org"
    assert "Анна Смирнова" in message.get_body(("plain",)).get_content()
    path = reset_path(message)

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.headers["Location"] == "/login"
    assert signs_in(client, NEW_PASSWORD)
    assert not signs_in(client, PASSWORD)


def test_a_reset_link_works_only_once(client, users, mailbox):
    client.get("/lang/en")
    ask_for_reset(client, "anna@example.org")
    path = reset_path(mailbox[0])
    client.post(path, data={"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})

    again = client.post(
        path, data={"password": "third-password-9", "password_repeat": "third-password-9"}
    )

    assert again.headers["Location"] == "/password/reset"
    page = client.get("/password/reset").get_data(as_text=True)
    assert "This link is invalid or has expired." in page
    assert signs_in(client, NEW_PASSWORD)
    assert not signs_in(client, "third-password-9")


def test_a_reset_link_expires(client, app, users, mailbox, monkeypatch):
    """itsdangerous' own clock is moved; the rest of the process keeps real time."""
    max_age = app.config["TROPA_PASSWORD_RESET_MAX_AGE"]
    issued = 1_900_000_000
    clock = {"now": issued}
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _signer: clock["now"])
    client.get("/lang/en")
    ask_for_reset(client, "anna@example.org")
    path = reset_path(mailbox[0])

    clock["now"] = issued + max_age
    assert client.get(path).status_code == 200  # the last valid second

    clock["now"] = issued + max_age + 1
    response = client.post(path, data={"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.headers["Location"] == "/password/reset"
    assert "This link is invalid or has expired." in client.get("/password/reset").get_data(
        as_text=True
    )
    assert signs_in(client, PASSWORD)


def test_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(client, users, mailbox):
    client.get("/lang/en")

    unknown = ask_for_reset(client, "nobody@example.org")
    known = ask_for_reset(client, "anna@example.org")

    assert unknown.request.path == known.request.path == "/login"
    flash = "If this address has an account, a link to reset the password is on its way."
    assert flash in unknown.get_data(as_text=True)
    assert flash in known.get_data(as_text=True)
    assert [message["To"] for message in mailbox] == ["anna@example.org"]


def test_reset_answers_normally_when_the_mail_server_is_down(client, app, users, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    client.get("/lang/en")

    response = ask_for_reset(client, "anna@example.org")

    assert response.status_code == 200
    assert "a link to reset the password is on its way" in response.get_data(as_text=True)


def test_without_smtp_the_reset_mail_is_written_as_an_eml_file(
    client, app, users, monkeypatch, tmp_path
):
    mail_dir = tmp_path / "mail"
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "TROPA_MAIL_DIR", str(mail_dir))

    ask_for_reset(client, "anna@example.org")

    files = list(mail_dir.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "anna@example.org"
    assert client.get(reset_path(message)).status_code == 200


# --- change password ---------------------------------------------------------------------


def change_password(client, current: str, new: str, repeat: str | None = None):
    return client.post(
        "/password/change",
        data={"current_password": current, "password": new, "password_repeat": repeat or new},
    )


def test_change_password_with_a_wrong_current_password_is_a_form_error(client, users):
    login(client, users["participant"])
    client.get("/lang/en")

    response = change_password(client, "not-my-password", NEW_PASSWORD)

    assert response.status_code == 200
    assert "The current password is wrong." in response.get_data(as_text=True)
    client.post("/logout")
    assert signs_in(client, PASSWORD)


def test_change_password_needs_the_same_new_password_twice(client, users):
    login(client, users["participant"])
    client.get("/lang/en")

    response = change_password(client, PASSWORD, NEW_PASSWORD, repeat="something-else-1")

    assert "The passwords differ." in response.get_data(as_text=True)


def test_change_password(client, users):
    login(client, users["participant"])
    client.get("/lang/en")

    response = change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.headers["Location"] == "/profile"
    assert "Your password has been changed." in client.get("/profile").get_data(as_text=True)
    client.post("/logout")
    assert signs_in(client, NEW_PASSWORD)
    assert not signs_in(client, PASSWORD)


def test_account_refusals_carry_stable_reasons(app_ctx, users):
    with pytest.raises(services.AccountError) as taken:
        services.sign_up(email="ANNA@example.org", password=PASSWORD, full_name="Анна")
    assert (taken.value.reason, taken.value.field) == ("email_taken", "email")

    admin = users["admin"]
    with pytest.raises(services.AccountError) as own:
        services.revoke_role(admin, Role.ADMIN, by=admin)
    assert own.value.reason == "own_admin_role"
    assert Role.ADMIN in db.session.get(User, admin.id, populate_existing=True).roles
