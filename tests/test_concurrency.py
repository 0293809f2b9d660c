"""No overbooking through the real server: 120 signed-in people press "Enrol" at the same
moment on a course with 20 places, served by several gunicorn worker processes."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from events.models import Registration, RegistrationStatus
from tests.conftest import PASSWORD, make_user
from tests.live_server import HTTP_TIMEOUT, csrf_token, gunicorn_server, http_session, sign_in
from webapp.extensions import db

pytestmark = pytest.mark.concurrency

CAPACITY = 20
PARTICIPANTS = 120
# These people press the button several times at once (a double tap, a flaky connection).
IMPATIENT = 5
EXTRA_PRESSES = 3


def copy_of(http: requests.Session) -> requests.Session:
    """Another connection with the same cookies: the same signed-in person."""
    twin = http_session()
    twin.cookies.update(http.cookies)
    return twin


def press_all_at_once(presses: list[tuple[requests.Session, str]], url: str) -> list:
    """POST `url` from every (session, csrf token) at the same moment; responses or errors."""
    start = threading.Barrier(len(presses))
    results: list = [None] * len(presses)

    def press(index: int, http: requests.Session, token: str) -> None:
        start.wait(timeout=HTTP_TIMEOUT)
        try:
            results[index] = http.post(
                url, data={"csrf_token": token}, allow_redirects=False, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as error:
            results[index] = error

    threads = [
        threading.Thread(target=press, args=(index, http, token))
        for index, (http, token) in enumerate(presses)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def describe_failure(result, course_url: str) -> str | None:
    """None for the expected answer, a redirect back to the course page; else what went wrong."""
    if isinstance(result, Exception):
        return repr(result)
    if result.status_code == 302 and result.headers["Location"].endswith(course_url):
        return None
    return f"{result.status_code} {result.headers.get('Location', '')} {result.text[:200]}"


def test_simultaneous_enrolments_never_overbook(app, make_course):
    course = make_course(title="Курс на 20 мест", capacity=CAPACITY)
    course_id = course.id
    people = [make_user(f"person{n:03d}@example.org") for n in range(PARTICIPANTS)]
    emails = [person.email for person in people]
    person_ids = sorted(person.id for person in people)
    db.session.commit()  # hold no transaction open while the server works
    course_url = f"/courses/{course_id}"

    with gunicorn_server(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], workers=3
    ) as base_url:
        with ThreadPoolExecutor(max_workers=8) as pool:
            sessions = list(pool.map(lambda email: sign_in(base_url, email, PASSWORD), emails))
            tokens = list(
                pool.map(
                    lambda http: csrf_token(
                        http.get(base_url + course_url, timeout=HTTP_TIMEOUT).text
                    ),
                    sessions,
                )
            )
        presses = list(zip(sessions, tokens, strict=True))
        presses += [
            (copy_of(http), token)
            for http, token in presses[:IMPATIENT]
            for _ in range(EXTRA_PRESSES)
        ]
        responses = press_all_at_once(presses, f"{base_url}{course_url}/enrol")
        failures = [f for result in responses if (f := describe_failure(result, course_url))]
        # Checked inside the block, so a failure shows the server's log with the traceback.
        assert failures == []
        api = requests.get(f"{base_url}/api/v1/courses/{course_id}", timeout=30).json()

    db.session.expire_all()
    registrations = list(
        db.session.scalars(select(Registration).where(Registration.event_id == course_id))
    )
    by_person = Counter(registration.user_id for registration in registrations)
    assert sorted(by_person) == person_ids
    assert set(by_person.values()) == {1}, "someone holds two registrations"

    confirmed = sorted(
        r.queue_number for r in registrations if r.status == RegistrationStatus.CONFIRMED
    )
    waitlisted = sorted(
        r.queue_number for r in registrations if r.status == RegistrationStatus.WAITLISTED
    )
    assert len(confirmed) == CAPACITY
    assert len(waitlisted) == PARTICIPANTS - CAPACITY
    # Queue numbers are given in order of arrival under the lock: the first 20 arrivals took
    # the places, the waiting list follows them with no gap and no duplicate.
    assert confirmed == list(range(1, CAPACITY + 1))
    assert waitlisted == list(range(CAPACITY + 1, PARTICIPANTS + 1))

    assert (api["confirmed"], api["waitlisted"], api["places_left"]) == (
        CAPACITY,
        PARTICIPANTS - CAPACITY,
        0,
    )
