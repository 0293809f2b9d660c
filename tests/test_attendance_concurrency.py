"""A participant's phone sends the self-scan twice at the same moment (a double tap, a retry
on a flaky connection), through the real server with several worker processes: one mark,
one "ok" and one "already marked"."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from courses import services as course_services
from courses.services import attendance
from events.models import Attendance
from tests.conftest import PASSWORD, make_user
from tests.live_server import HTTP_TIMEOUT, gunicorn_server, http_session, sign_in
from webapp.extensions import db
from webapp.types import utcnow

pytestmark = pytest.mark.concurrency

PARTICIPANTS = 6  # rounds: each gives the two requests another chance to truly overlap
RESULT = 'data-result="'


def both_at_once(http: requests.Session, url: str) -> list:
    """GET `url` twice with the same cookies from two threads released together."""
    start = threading.Barrier(2)
    answers: list = [None, None]

    def send(index: int) -> None:
        twin = http_session()
        twin.cookies.update(http.cookies)
        start.wait(timeout=HTTP_TIMEOUT)
        try:
            page = twin.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT).text
            answers[index] = page[page.index(RESULT) + len(RESULT) :].split('"')[0]
        except (requests.RequestException, ValueError) as error:
            answers[index] = error

    threads = [threading.Thread(target=send, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_double_self_scan_marks_once(app, make_course):
    course = make_course(sessions=1)
    session = course.sessions[0]
    session.starts_at = utcnow() - timedelta(minutes=5)
    session.ends_at = session.starts_at + timedelta(hours=2)
    people = [make_user(f"twice{n}@example.org") for n in range(PARTICIPANTS)]
    for person in people:
        course_services.enrol(course, person)
    emails = [person.email for person in people]
    session_id = session.id
    db.session.commit()  # hold no transaction open while the server works
    with gunicorn_server(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], workers=3
    ) as base_url:
        rounds = []
        for email in emails:
            http = sign_in(base_url, email, PASSWORD)
            code = attendance.current_code(db.session.get(type(session), session_id)).code
            rounds.append(both_at_once(http, f"{base_url}/a/{session_id}/{code}"))
    for answers in rounds:
        assert Counter(answers) == {"ok": 1, "already_checked_in": 1}, answers
    db.session.rollback()  # a fresh snapshot: the server's writes
    marks = db.session.execute(
        select(Attendance.registration_id, func.count()).group_by(Attendance.registration_id)
    ).all()
    assert len(marks) == PARTICIPANTS and all(count == 1 for _id, count in marks)
