"""Sessions end with the password: a password change, a reset by e-mail, signing out, and
"sign out on all other devices" end every session and remember-me cookie issued before,
copies included (User.session_version in the id the cookies carry)."""

import pytest

from tests.conftest import PASSWORD
from webapp import services
from webapp.extensions import db
from webapp.models import User

NEW_PASSWORD = "a-brand-new-secret-7"
REMEMBER = "remember_token"


def remember_cookie(browser):
    return browser.get_cookie(REMEMBER, domain="tropa.test")  # the test app's SERVER_NAME


def signed_in(client) -> bool:
    return client.get("/profile").status_code == 200


def sign_in_remembered(app, user: User):
    """A browser signed in with "remember me"; returns it and its remember-me cookie."""
    browser = app.test_client()
    response = browser.post(
        "/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    cookie = remember_cookie(browser)
    assert cookie is not None
    return browser, cookie


def only_the_remember_cookie(app, cookie):
    """A fresh browser holding nothing but a copy of the cookie (no session)."""
    browser = app.test_client()
    browser.set_cookie(REMEMBER, cookie.value, domain=cookie.domain)
    return browser


@pytest.fixture
def anna(users):
    return users["participant"]


def test_the_remember_cookie_alone_signs_in_until_the_sessions_end(app_ctx, anna):
    """The baseline the tests below depend on: a copy of the cookie does sign in."""
    _browser, cookie = sign_in_remembered(app_ctx, anna)
    assert signed_in(only_the_remember_cookie(app_ctx, cookie))


def test_changing_the_password_ends_the_other_sessions_and_old_remember_cookies(app_ctx, anna):
    here, here_cookie = sign_in_remembered(app_ctx, anna)
    elsewhere, old_cookie = sign_in_remembered(app_ctx, anna)

    response = here.post(
        "/password/change",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert signed_in(here)  # the browser that changed it stays signed in...
    assert remember_cookie(here).value != here_cookie.value  # ...with a new cookie
    assert signed_in(only_the_remember_cookie(app_ctx, remember_cookie(here)))
    assert not signed_in(elsewhere)
    assert not signed_in(only_the_remember_cookie(app_ctx, old_cookie))
    assert not signed_in(only_the_remember_cookie(app_ctx, here_cookie))


def test_a_reset_by_mail_ends_every_session_and_remember_cookie(app_ctx, anna):
    browser, cookie = sign_in_remembered(app_ctx, anna)
    link = f"/password/reset/{services.password_reset_token(anna)}"

    response = app_ctx.test_client().post(
        link, data={"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert not signed_in(browser)
    assert not signed_in(only_the_remember_cookie(app_ctx, cookie))


def test_signing_out_on_other_devices_keeps_this_one(app_ctx, anna):
    here, _here_cookie = sign_in_remembered(app_ctx, anna)
    elsewhere, old_cookie = sign_in_remembered(app_ctx, anna)
    version = anna.session_version

    response = here.post("/profile/sign-out-others")

    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert not signed_in(only_the_remember_cookie(app_ctx, old_cookie))
    db.session.refresh(anna)
    assert anna.session_version == version + 1


def test_signing_out_ends_the_remember_cookie_wherever_a_copy_is(app_ctx, anna):
    browser, cookie = sign_in_remembered(app_ctx, anna)

    browser.post("/logout")

    assert not signed_in(browser)
    assert not signed_in(only_the_remember_cookie(app_ctx, cookie))
    # The next sign-in gets a cookie of its own, not the old one again.
    _again, new_cookie = sign_in_remembered(app_ctx, anna)
    assert new_cookie.value != cookie.value


@pytest.mark.parametrize("template", ["{id}", "{id}:", ":1", "{id}:x", "x:1", "{id}:1:1", ""])
def test_a_malformed_session_id_names_nobody(app_ctx, anna, template):
    """Cookies of the old form (the bare id) end too."""
    assert services.user_for_session(template.format(id=anna.id)) is None


def test_the_current_session_id_names_the_user(app_ctx, anna):
    assert services.user_for_session(anna.get_id()) == anna
    assert services.user_for_session(f"{anna.id}:{anna.session_version + 1}") is None
