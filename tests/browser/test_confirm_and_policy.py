"""Under the Content-Security-Policy (no inline handlers), a form with data-confirm still
asks first: dismissing the question submits nothing, accepting it submits. The browser
logs no policy violation (the open_page fixture fails on any console error)."""

import pytest

from courses import services as course_services
from events.models import Registration, RegistrationStatus
from tests.browser.support import sign_in
from webapp.extensions import db

pytestmark = pytest.mark.browser


def test_cancelling_an_enrolment_asks_first(open_page, users, course):
    anna = users["participant"]
    registration_id = course_services.enrol(course, anna).registration.id
    page = open_page()
    sign_in(page, anna)
    page.goto(f"/courses/{course.id}")
    asked = []

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator(f"form[action='/courses/{course.id}/cancel'] button").click()
    page.wait_for_timeout(300)
    db.session.rollback()
    assert asked and db.session.get(Registration, registration_id).status == (
        RegistrationStatus.CONFIRMED
    )

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator(f"form[action='/courses/{course.id}/cancel'] button").click()
    db.session.rollback()
    assert db.session.get(Registration, registration_id).status == RegistrationStatus.CANCELLED
