"""Two doors scan the same ticket at the same moment, through the real server (gunicorn,
several worker processes): one "ok", one "already_checked_in", one mark. And a scanner's
retry that overtakes its first request (the same nonce twice at once): one mark, the same
answer twice."""

import threading
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from events.models import Attendance, CheckinAttempt
from tests.checkin_support import bearer, make_event, register, token_for
from tests.live_server import HTTP_TIMEOUT, gunicorn_server, http_session
from webapp.extensions import db

pytestmark = pytest.mark.concurrency

TICKETS = 12  # rounds: each gives the two requests another chance to truly overlap


def at_the_same_moment(*requests_to_send) -> list[dict]:
    """POST each (url, headers, body) from its own thread, released together; the answers."""
    start = threading.Barrier(len(requests_to_send))
    answers: list = [None] * len(requests_to_send)

    def send(index: int, url: str, headers: dict, body: dict) -> None:
        http = http_session()
        start.wait(timeout=HTTP_TIMEOUT)
        try:
            response = http.post(url, json=body, headers=headers, timeout=HTTP_TIMEOUT)
            answers[index] = (response.status_code, response.json())
        except (requests.RequestException, ValueError) as error:
            answers[index] = error

    threads = [
        threading.Thread(target=send, args=(index, *request))
        for index, request in enumerate(requests_to_send)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture
def door(app, users):
    """An event with TICKETS confirmed people and two scanners with their own tokens."""
    forum = make_event("Форум на 12 человек")
    secrets = [register(forum, f"Участник {n}").ticket_secret for n in range(TICKETS)]
    scanners = [bearer(token_for(users["organiser"])), bearer(token_for(users["admin"]))]
    event_id = forum.id
    db.session.commit()  # hold no transaction open while the server works
    return event_id, secrets, scanners


def test_two_scanners_scanning_one_ticket_at_once_admit_it_once(app, door):
    event_id, secrets, (main_door, side_door) = door
    with gunicorn_server(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], workers=3
    ) as base_url:
        url = f"{base_url}/api/v1/checkin"
        rounds = []
        for number, secret in enumerate(secrets):
            scan = {"secret": secret, "event_id": event_id}
            rounds.append(
                at_the_same_moment(
                    (url, main_door, {**scan, "nonce": f"main-{number}"}),
                    (url, side_door, {**scan, "nonce": f"side-{number}"}),
                )
            )
    for answers in rounds:
        assert all(isinstance(a, tuple) and a[0] == 200 for a in answers), answers
        outcomes = Counter(body.get("reason", body["status"]) for _status, body in answers)
        assert outcomes == {"ok": 1, "already_checked_in": 1}, answers
    db.session.rollback()  # a fresh snapshot: the server's writes
    marks = db.session.execute(
        select(Attendance.registration_id, func.count()).group_by(Attendance.registration_id)
    ).all()
    assert len(marks) == TICKETS and {count for _id, count in marks} == {1}
    assert db.session.scalar(select(func.count()).select_from(CheckinAttempt)) == 2 * TICKETS


def test_the_same_nonce_twice_at_once_marks_once_and_answers_the_same(app, door):
    event_id, secrets, (main_door, _side_door) = door
    with gunicorn_server(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], workers=3
    ) as base_url:
        url = f"{base_url}/api/v1/checkin"
        rounds = []
        for number, secret in enumerate(secrets):
            body = {"secret": secret, "event_id": event_id, "nonce": f"retry-{number}"}
            rounds.append(at_the_same_moment((url, main_door, body), (url, main_door, body)))
        # An unknown ticket locks no registration row: the nonce's uniqueness decides.
        unknown = {"secret": "0" * 26, "event_id": event_id, "nonce": "unknown-retry"}
        rounds.append(at_the_same_moment((url, main_door, unknown), (url, main_door, unknown)))
    for first, second in rounds:
        assert isinstance(first, tuple) and isinstance(second, tuple), (first, second)
        assert first == second
    assert [body["status"] for _status, body in (r[0] for r in rounds[:-1])] == ["ok"] * TICKETS
    assert rounds[-1][0][1]["reason"] == "unknown"
    db.session.rollback()  # a fresh snapshot: the server's writes
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == TICKETS
    assert db.session.scalar(select(func.count()).select_from(CheckinAttempt)) == TICKETS + 1
