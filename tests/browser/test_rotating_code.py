"""The trainer's rotating self-check-in code in Chromium: the projector page shows a code,
the test reads its URL from the page (as a phone reads the QR code), a participant's
browser opens it, and the counter on the trainer's screen moves."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from courses import services as course_services
from events.models import Attendance, AttendanceMethod
from tests.browser.test_checkin_page import sign_in
from webapp.extensions import db
from webapp.types import utcnow

pytestmark = pytest.mark.browser


def test_a_participant_scans_the_projected_code_and_the_counter_moves(
    open_page, users, make_course, shots_dir
):
    course = make_course(sessions=1)
    session = course.sessions[0]
    session.starts_at = utcnow() - timedelta(minutes=5)
    session.ends_at = session.starts_at + timedelta(hours=2)
    course.trainers.append(users["trainer"])
    db.session.commit()
    course_services.enrol(course, users["participant"])
    session_id = session.id

    projector = open_page(viewport={"width": 1280, "height": 800})
    sign_in(projector, users["trainer"])
    projector.goto(f"/sessions/{session_id}/code")
    expect(projector.locator("#code-present")).to_have_text("0")
    code_url = projector.locator("#session-code").get_attribute("data-code-url")
    assert f"/a/{session_id}/" in code_url
    projector.screenshot(path=str(shots_dir / "rotating-code.png"))

    phone = open_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    sign_in(phone, users["participant"])
    phone.goto(urlsplit(code_url).path)  # TROPA_BASE_URL is not the test server's address
    expect(phone.locator("[data-result]")).to_have_attribute("data-result", "ok")

    expect(projector.locator("#code-present")).to_have_text("1", timeout=10_000)
    db.session.rollback()  # a fresh snapshot: the server's writes
    [mark] = db.session.scalars(select(Attendance).where(Attendance.session_id == session_id))
    assert mark.method == AttendanceMethod.SELF_SCAN
