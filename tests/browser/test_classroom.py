"""The trainer's day in Chromium: the session register on a 360-px phone (every status
button on screen, a tap marks without a reload) and the projector's bare page (full-screen
button, "opens at" while closed, the names of those marked)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from courses import services as course_services
from events.models import Attendance, AttendanceStatus
from events.services import checkin
from tests.browser.support import PHONE, sign_in
from tests.conftest import make_user
from webapp.extensions import db
from webapp.types import utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def class_now(users, make_course):
    """A course whose first session runs now, taught by the trainer, with three people."""
    course = make_course(sessions=2)
    session = course.sessions[0]
    session.starts_at = utcnow() - timedelta(minutes=5)
    session.ends_at = session.starts_at + timedelta(hours=2)
    course.trainers.append(users["trainer"])
    db.session.commit()
    people = [users["participant"]] + [
        make_user(f"p{n}@example.org", name=f"Участница Номер {n}") for n in range(2)
    ]
    for person in people:
        course_services.enrol(course, person)
    return course


def test_the_register_fits_a_phone_and_marks_without_a_reload(
    open_page, users, class_now, shots_dir
):
    session_id = class_now.sessions[0].id
    anna = course_services.my_registration(class_now, users["participant"])
    page = open_page(**PHONE)
    sign_in(page, users["trainer"])
    page.goto(f"/manage/sessions/{session_id}/attendance")
    row = page.locator(f'tr[data-registration-id="{anna.id}"]')
    buttons = row.locator("button[name=status]")
    expect(buttons).to_have_count(4)
    for index in range(4):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        assert box["width"] >= 36 and box["height"] >= 36  # a finger's target
    page.evaluate("window.notReloaded = true")
    row.locator('button[value="late"]').click()
    expect(row.locator(".attendance-status")).to_have_text("Опоздание · Отметка вручную")
    expect(row.locator('button[value="late"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#count-present")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(shots_dir / "register-phone.png"), full_page=True)
    db.session.rollback()
    [mark] = db.session.scalars(select(Attendance).where(Attendance.session_id == session_id))
    assert (mark.registration_id, mark.status) == (anna.id, AttendanceStatus.LATE)


def test_the_projector_page_is_bare_and_lists_who_is_marked(open_page, users, class_now, shots_dir):
    open_session, later_session = class_now.sessions
    anna = course_services.my_registration(class_now, users["participant"])
    page = open_page(viewport={"width": 1280, "height": 800})
    sign_in(page, users["trainer"])
    page.goto(f"/sessions/{later_session.id}/code")
    expect(page.locator("#code-closed")).to_contain_text("Самоотметка откроется")
    expect(page.locator("#code-qr svg")).to_have_count(0)
    expect(page.locator("nav.navbar")).to_have_count(0)
    expect(page.locator("footer")).to_have_count(0)
    page.screenshot(path=str(shots_dir / "projector-closed.png"))

    page.goto(f"/sessions/{open_session.id}/code")
    expect(page.locator("#code-qr svg")).to_be_visible()
    expect(page.locator("#fullscreen")).to_be_visible()
    expect(page.locator("#code-present")).to_have_text("0")
    checkin.mark(
        event_id=class_now.id,
        registration_id=anna.id,
        session_id=open_session.id,
        status=AttendanceStatus.PRESENT,
        by_user=None,
    )
    expect(page.locator("#code-present")).to_have_text("1", timeout=10_000)
    expect(page.locator("#code-names li")).to_have_text([users["participant"].full_name])
    page.locator("#fullscreen").click()
    page.wait_for_function("document.fullscreenElement !== null")
    page.screenshot(path=str(shots_dir / "projector-open.png"))
