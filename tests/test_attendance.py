"""Attendance at course sessions: the rotating code (frozen clock), the self-scan and each
of its refusals over HTTP, the trainer's scan, the register with its audit trail, and the
reports."""

import csv
import io
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from courses import demo
from courses import services as course_services
from courses.models import Course
from courses.services import attendance
from courses.views.attendance import closed_text
from events.models import (
    Attendance,
    AttendanceChange,
    AttendanceMethod,
    AttendanceStatus,
    CheckinAttempt,
    RegistrationStatus,
)
from events.services import checkin
from tests.checkin_support import NOW
from tests.conftest import PASSWORD, login, make_user
from webapp.extensions import db
from webapp.models import Role
from webapp.types import utcnow


@pytest.fixture
def running(make_course, users):
    """A course of three sessions whose second one is running now (started 10 minutes
    ago): the first is past, the third upcoming. The participant is enrolled, the trainer
    teaches it."""
    course = make_course(sessions=3)
    now = utcnow().replace(microsecond=0)
    for number, session in enumerate(course.sessions):
        session.starts_at = now + timedelta(days=number - 1, minutes=-10)
        session.ends_at = session.starts_at + timedelta(hours=2)
    course.trainers.append(users["trainer"])
    for user in users.values():
        user.locale = "en"  # the pages' texts are checked in English
    db.session.commit()
    course_services.enrol(course, users["participant"])
    return course


def sign_in_as(client, user):
    """Switch the client to another user (what /login does, without the slow hash)."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.get_id()
        cookie["_fresh"] = True


def _session(course, number=1):
    return course.sessions[number]


def _other(session):
    """Another session of the same course."""
    return next(other for other in session.event.sessions if other.id != session.id)


def _code_steps_ago(session, steps):
    return attendance.session_code(session.id, attendance.time_step(utcnow(), 15) - steps)


def _url(session, code=None, now=None):
    code = code or attendance.current_code(session, now).code
    return f"/a/{session.id}/{code}"


def _marks(session_id):
    return db.session.scalars(select(Attendance).where(Attendance.session_id == session_id)).all()


def _attempt_results(session):
    """What the self-scans at the course were answered (a refusal for the person's status
    is logged without its session, as check_in logs it)."""
    return db.session.scalars(
        select(CheckinAttempt.result)
        .where(
            CheckinAttempt.event_id == session.event_id,
            CheckinAttempt.method == AttendanceMethod.SELF_SCAN,
        )
        .order_by(CheckinAttempt.id)
    ).all()


# --- the code, with a frozen clock ----------------------------------------------------------


def test_code_is_ten_crockford_characters_and_depends_on_session_and_step(app_ctx):
    code = attendance.session_code(1, 1000)
    assert len(code) == attendance.CODE_LENGTH
    assert set(code) <= set(attendance.CODE_ALPHABET)
    assert attendance.session_code(1, 1000) == code  # derived, so every screen agrees
    assert attendance.session_code(1, 1001) != code
    assert attendance.session_code(2, 1000) != code
    assert attendance.normalise_code(code.lower().replace("0", "o")) == code


def test_code_changes_every_step(running):
    session = _session(running)
    shown = attendance.current_code(session, NOW)
    assert shown.step == int(NOW.timestamp()) // 15
    assert 1 <= shown.seconds_left <= 15
    later = attendance.current_code(session, NOW + timedelta(seconds=15))
    assert later.step == shown.step + 1 and later.code != shown.code


def _frozen_session(running):
    """The running session moved so that NOW is 30 minutes into it."""
    session = _session(running)
    session.starts_at = NOW - timedelta(minutes=30)
    session.ends_at = NOW + timedelta(minutes=90)
    db.session.commit()
    return session


def test_current_and_previous_step_are_accepted(running):
    session = _frozen_session(running)
    step = attendance.time_step(NOW, 15)
    for accepted in (step, step - 1):
        scan = attendance.verify_code(session, attendance.session_code(session.id, accepted), NOW)
        assert scan.session_id == session.id and scan.scanned_at == NOW


@pytest.mark.parametrize(
    ("code_of", "reason"),
    [
        (lambda s, step: attendance.session_code(s.id, step - 2), "expired_code"),
        (lambda s, step: attendance.session_code(s.id, step + 1), "invalid_code"),
        (lambda s, step: "0123456789", "invalid_code"),
        (lambda s, step: attendance.session_code(_other(s).id, step), "wrong_session"),
    ],
)
def test_bad_codes_are_refused_with_their_reason(running, code_of, reason):
    session = _frozen_session(running)
    step = attendance.time_step(NOW, 15)
    with pytest.raises(attendance.ScanRefused) as refused:
        attendance.verify_code(session, code_of(session, step), NOW)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("offset", "open_"),
    [
        (timedelta(minutes=-16), False),
        (timedelta(minutes=-15), True),
        (timedelta(hours=2), True),
        (timedelta(hours=2, seconds=1), False),
    ],
)
def test_the_window_opens_15_minutes_before_the_start_and_closes_at_the_end(running, offset, open_):
    session = _session(running)
    when = session.starts_at + offset
    code = attendance.session_code(session.id, attendance.time_step(when, 15))
    if open_:
        assert attendance.verify_code(session, code, when)
    else:
        with pytest.raises(attendance.ScanRefused, match="outside_window"):
            attendance.verify_code(session, code, when)


# --- self-scan over HTTP ------------------------------------------------------------------


def test_participant_scans_the_code_and_is_marked_once(client, running, users):
    session = _session(running)
    login(client, users["participant"])
    response = client.get(_url(session))
    assert response.status_code == 200
    assert 'data-result="ok"' in response.get_data(as_text=True)
    again = client.get(_url(session))
    assert again.status_code == 200
    assert 'data-result="already_checked_in"' in again.get_data(as_text=True)
    [mark] = _marks(session.id)
    assert (mark.status, mark.method) == (AttendanceStatus.PRESENT, AttendanceMethod.SELF_SCAN)
    assert _attempt_results(session) == ["ok", "already_checked_in"]


@pytest.mark.parametrize(
    ("code_of", "reason"),
    [
        (lambda s: _code_steps_ago(s, 3), "expired_code"),
        (lambda s: "ZZZZZZZZZZ", "invalid_code"),
        (lambda s: attendance.current_code(_other(s)).code, "wrong_session"),
    ],
)
def test_bad_code_is_refused_logged_and_marks_nothing(client, running, users, code_of, reason):
    session = _session(running)
    login(client, users["participant"])
    response = client.get(_url(session, code_of(session)))
    assert response.status_code == 403
    assert f'data-result="{reason}"' in response.get_data(as_text=True)
    assert _marks(session.id) == []
    assert _attempt_results(session) == [reason]


def test_a_scan_outside_the_window_is_refused(client, running, users):
    login(client, users["participant"])
    for session in (running.sessions[0], running.sessions[2]):  # ended, not yet open
        response = client.get(_url(session))
        assert response.status_code == 403
        assert 'data-result="outside_window"' in response.get_data(as_text=True)
        assert _marks(session.id) == []


def test_not_enrolled_and_waitlisted_participants_are_refused(client, running, users):
    session = _session(running)
    stranger = make_user("stranger@example.org")
    waiting = make_user("waiting@example.org")
    registration = course_services.enrol(running, waiting).registration
    registration.status = RegistrationStatus.WAITLISTED
    db.session.commit()
    for user, reason in [(stranger, "not_enrolled"), (waiting, "waitlisted")]:
        sign_in_as(client, user)
        response = client.get(_url(session))
        assert response.status_code == 403
        page = response.get_data(as_text=True)
        assert f'data-result="{reason}"' in page, page[page.find("data-result") :][:200]
    assert _marks(session.id) == []
    assert _attempt_results(session) == ["not_enrolled", "waitlisted"]


def test_signed_out_scan_is_completed_after_signing_in(client, running, users):
    session = _session(running)
    url = _url(session)
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    signed_in = client.post(
        f"/login?next={url}",
        data={"email": users["participant"].email, "password": PASSWORD},
    )
    # The login view sends the participant back to the scan; by then the code may have
    # rotated: the kept scan counts, not the code in the URL.
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith(url)
    done = client.get(f"/a/{session.id}/ROTATEDXXX")
    assert 'data-result="ok"' in done.get_data(as_text=True)
    assert len(_marks(session.id)) == 1


def test_a_kept_scan_expires_after_five_minutes(client, running, users):
    session = _session(running)
    assert client.get(_url(session)).status_code == 302
    with client.session_transaction() as cookie:
        kept = cookie["pending_self_scan"]
        kept["scanned_at"] = (utcnow() - timedelta(minutes=6)).isoformat()
        cookie["pending_self_scan"] = kept
    login(client, users["participant"])
    response = client.get(_url(session, _code_steps_ago(session, 25)))
    assert response.status_code == 403
    assert 'data-result="expired_code"' in response.get_data(as_text=True)
    assert _marks(session.id) == []


def test_same_network_refusal_and_the_trainers_override(client, running, users):
    running.refuse_same_ip = True
    db.session.commit()
    session = _session(running)
    friend = make_user("friend@example.org")
    course_services.enrol(running, friend)
    login(client, users["participant"])
    assert client.get(_url(session)).status_code == 200
    sign_in_as(client, friend)
    response = client.get(_url(session))
    assert response.status_code == 403
    assert 'data-result="same_ip"' in response.get_data(as_text=True)
    friend_registration = course_services.my_registration(running, friend)
    sign_in_as(client, users["trainer"])
    client.post(
        f"/manage/sessions/{session.id}/attendance/mark",
        data={"registration_id": friend_registration.id, "status": "present"},
    )
    assert {m.registration_id: m.method for m in _marks(session.id)}[friend_registration.id] == (
        AttendanceMethod.MANUAL
    )


# --- the trainer ------------------------------------------------------------------------


def test_trainer_scans_a_participants_ticket(client, running, users):
    session = _session(running)
    registration = course_services.my_registration(running, users["participant"])
    assert client.get(f"/t/{registration.ticket_secret}").status_code == 200  # the QR page
    login(client, users["trainer"])
    page = client.get(f"/manage/sessions/{session.id}/attendance").get_data(as_text=True)
    assert f"/events/{running.id}/checkin?session_id={session.id}" in page
    scanner = client.get(f"/events/{running.id}/checkin?session_id={session.id}")
    assert scanner.status_code == 200
    answer = client.post(
        "/api/v1/checkin",
        json={"secret": registration.ticket_secret, "session_id": session.id, "nonce": "n1"},
    ).get_json()
    assert answer["status"] == "ok"
    [mark] = _marks(session.id)
    assert mark.method == AttendanceMethod.TRAINER_SCAN


def test_register_marks_rest_absent_and_keeps_the_audit_trail(client, running, users):
    session = _session(running)
    others = [make_user(f"p{n}@example.org", name=f"Участник {n}") for n in range(3)]
    for user in others:
        course_services.enrol(running, user)
    anna = course_services.my_registration(running, users["participant"])
    login(client, users["trainer"])
    url = f"/manage/sessions/{session.id}/attendance"
    client.post(f"{url}/mark", data={"registration_id": anna.id, "status": "late"})
    client.post(f"{url}/rest-absent")
    statuses = {m.registration_id: m.status for m in _marks(session.id)}
    assert statuses[anna.id] == AttendanceStatus.LATE
    assert sorted(statuses.values()).count(AttendanceStatus.ABSENT) == 3
    client.post(f"{url}/mark", data={"registration_id": anna.id, "status": "excused"})
    page = client.get(url).get_data(as_text=True)
    assert "Late → Excused" in page and users["trainer"].full_name in page
    assert client.get(f"{url}.json").get_json() == {
        "enrolled": 4,
        "present": 0,
        "present_names": [],
        "marked": 4,
        "statuses": {str(k): v.value for k, v in statuses.items()} | {str(anna.id): "excused"},
    }
    changes = db.session.scalar(select(func.count()).select_from(AttendanceChange))
    assert changes == 5  # late, three absent, late → excused


def test_the_register_marks_by_json_without_a_reload(client, running, users):
    """The register's script asks for JSON: the row's status, its label and the counts come
    back; a person not enrolled is a JSON error; the plain form still redirects."""
    session = _session(running)
    anna = course_services.my_registration(running, users["participant"])
    login(client, users["trainer"])
    mark_url = f"/manage/sessions/{session.id}/attendance/mark"
    json_accept = {"Accept": "application/json"}
    answer = client.post(
        mark_url, data={"registration_id": anna.id, "status": "late"}, headers=json_accept
    ).get_json()
    assert answer["status"] == "ok" and answer["registration_id"] == anna.id
    assert (answer["attendance_status"], answer["label"]) == ("late", "Late")
    assert answer["method"] == "Marked by hand"
    assert (answer["present"], answer["marked"], answer["enrolled"]) == (1, 1, 1)
    assert answer["present_names"] == [anna.full_name]
    again = client.post(
        mark_url, data={"registration_id": anna.id, "status": "late"}, headers=json_accept
    )
    assert again.get_json()["attendance_status"] == "late"  # unchanged is no error
    stranger = client.post(
        mark_url, data={"registration_id": 999999, "status": "present"}, headers=json_accept
    )
    assert stranger.status_code == 404 and stranger.get_json()["reason"] == "not_enrolled"
    bad = client.post(mark_url, data={"registration_id": anna.id}, headers=json_accept)
    assert bad.status_code == 400 and bad.get_json()["status"] == "error"
    plain = client.post(mark_url, data={"registration_id": anna.id, "status": "absent"})
    assert plain.status_code == 302 and plain.location.endswith(f"/{session.id}/attendance")
    [mark] = _marks(session.id)
    assert mark.status == AttendanceStatus.ABSENT


def test_code_page_and_its_json_agree(client, running, users):
    session = _session(running)
    login(client, users["organiser"])
    page = client.get(f"/sessions/{session.id}/code").get_data(as_text=True)
    data = client.get(f"/sessions/{session.id}/code.json").get_json()
    assert data["code"] in page and f'data-code-url="{data["url"]}"' in page
    assert data["url"].endswith(f"/a/{session.id}/{data['code']}")
    assert data["open"] is True and data["enrolled"] == 1


@pytest.fixture
def noon_in_two_days(running):
    """The third session moved to noon in two days in the course's zone (its self check-in
    opens at 11:45): a day apart from now whatever the clock says; the noon returned."""
    upcoming = running.sessions[2]
    noon = (utcnow() + timedelta(days=2)).astimezone(running.tz)
    noon = noon.replace(hour=12, minute=0, second=0, microsecond=0)
    upcoming.starts_at, upcoming.ends_at = noon, noon + timedelta(hours=2)
    db.session.commit()
    return noon


def test_the_projector_says_when_self_check_in_opens_instead_of_a_code(
    client, running, users, noon_in_two_days
):
    """No code for the session at noon in two days, the opening day and time in the
    course's zone; the first session has ended."""
    login(client, users["trainer"])
    upcoming, past = running.sessions[2], running.sessions[0]
    noon = noon_in_two_days
    opens_text = f"Self check-in opens on {noon.day} {noon:%B} at 11:45"
    data = client.get(f"/sessions/{upcoming.id}/code.json").get_json()
    assert data["open"] is False and "code" not in data and "svg" not in data
    assert data["closed_text"] == opens_text
    page = client.get(f"/sessions/{upcoming.id}/code").get_data(as_text=True)
    assert opens_text in page and "<svg" not in page
    assert 'class="navbar' not in page and "<footer" not in page  # the projector's bare page
    ended = client.get(f"/sessions/{past.id}/code.json").get_json()
    assert ended["closed_text"] == "Self check-in for this session is closed."


def test_the_projector_gives_only_the_time_when_self_check_in_opens_later_that_day(
    app, running, noon_in_two_days
):
    """Said on the session's day (in its zone, not UTC's): the time alone. At 00:30 in
    Moscow (21:30 the day before in UTC) the opening at 11:45 is the same day; at 23:30 the
    evening before it is not."""
    upcoming, noon = running.sessions[2], noon_in_two_days
    with app.test_request_context(), force_locale("en"):
        after_midnight = noon - timedelta(hours=11, minutes=30)
        assert closed_text(upcoming, after_midnight) == "Self check-in opens at 11:45"
        evening_before = noon - timedelta(hours=12, minutes=30)
        assert closed_text(upcoming, evening_before) == (
            f"Self check-in opens on {noon.day} {noon:%B} at 11:45"
        )


# --- reports ------------------------------------------------------------------------------


def _attend(course, user, number, status=AttendanceStatus.PRESENT):
    checkin.mark(
        event_id=course.id,
        registration_id=course_services.my_registration(course, user).id,
        session_id=course.sessions[number].id,
        status=status,
        by_user=None,
    )


def test_grid_rate_counts_past_sessions_only_and_flags_low_attendance(client, running, users):
    bob = make_user("bob@example.org", name="Боб")
    course_services.enrol(running, bob)
    _attend(running, users["participant"], 0)
    _attend(running, users["participant"], 1)  # running now: not counted yet
    _attend(running, bob, 0, AttendanceStatus.ABSENT)
    grid = attendance.grid(running)
    rates = {row.registration.full_name: row.rate for row in grid.rows}
    assert rates == {"Анна Смирнова": 100, "Боб": 0}
    assert [row.registration.full_name for row in grid.below_threshold()] == ["Боб"]
    assert grid.totals() == {s.id: n for s, n in zip(running.sessions, (1, 1, 0), strict=True)}
    login(client, users["trainer"])
    page = client.get(f"/manage/courses/{running.id}/attendance").get_data(as_text=True)
    assert 'id="below-threshold"' in page and "Боб" in page
    exported = client.get(f"/manage/courses/{running.id}/attendance.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert rows[1][0] == "Анна Смирнова" and rows[1][-2:] == ["1", "100"]
    assert rows[2][0] == "Боб" and rows[2][2] == "Absent" and rows[2][-1] == "0"
    assert rows[0][:2] == ["Participant", "E-mail"] and rows[0][-2:] == [
        "Sessions attended",
        "Rate, %",
    ]
    xlsx = client.get(f"/manage/courses/{running.id}/attendance.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    client.get("/lang/ru")  # the export's headers speak the user's language
    exported = client.get(f"/manage/courses/{running.id}/attendance.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    assert header[0] == "Участник" and header[-2:] == ["Посещено занятий", "Посещаемость, %"]


def test_my_attendance(client, running, users):
    _attend(running, users["participant"], 0, AttendanceStatus.LATE)
    login(client, users["participant"])
    page = client.get(f"/my/courses/{running.id}/attendance").get_data(as_text=True)
    assert "Attended 1 of 1 past sessions (100%)." in page and "Late" in page


def test_report_queries_do_not_grow_with_participants(client, running, users, count_queries):
    login(client, users["trainer"])
    session = _session(running)
    urls = [
        f"/manage/courses/{running.id}/attendance",
        f"/manage/courses/{running.id}/attendance.csv",
        f"/manage/sessions/{session.id}/attendance",
        f"/manage/sessions/{session.id}/attendance.json",
    ]

    def counts():
        result = []
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            result.append(counter.count)
        return result

    before = counts()
    for n in range(5):
        user = make_user(f"many{n}@example.org")
        course_services.enrol(running, user)
        _attend(running, user, 0)
        _attend(running, user, 1, AttendanceStatus.LATE)
    assert counts() == before


def test_demo_data_has_attendance_by_all_three_ways(app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    methods = set(db.session.scalars(select(Attendance.method).distinct()))
    assert {AttendanceMethod.SELF_SCAN, AttendanceMethod.TRAINER_SCAN, AttendanceMethod.MANUAL} <= (
        methods
    )
    running = [c for c in db.session.scalars(select(Course)) if attendance.grid(c).past_session_ids]
    assert running
    grid = attendance.grid(running[0])
    assert all(row.rate is not None for row in grid.rows) and any(row.rate for row in grid.rows)
    # The demo participant sees their own attendance.
    participant = db.session.scalar(select(demo.User).where(demo.User.email == demo.PARTICIPANT))
    assert attendance.grid(running[0], user=participant).rows


def test_another_courses_trainer_may_not_take_this_register(client, running):
    session = _session(running)
    sign_in_as(client, make_user("other-trainer@example.org", Role.TRAINER))
    for url in [
        f"/manage/sessions/{session.id}/attendance",
        f"/manage/sessions/{session.id}/attendance.json",
        f"/sessions/{session.id}/code",
        f"/sessions/{session.id}/code.json",
        f"/manage/courses/{running.id}/attendance",
        f"/manage/courses/{running.id}/attendance.xlsx",
    ]:
        assert client.get(url).status_code == 403, url


def test_the_course_page_flags_participants_below_the_threshold(client, running, users):
    _attend(running, users["participant"], 0, AttendanceStatus.ABSENT)
    login(client, users["trainer"])
    page = client.get(f"/courses/{running.id}").get_data(as_text=True)
    assert 'id="below-threshold-count"' in page and "1 below 75%" in page
    _attend(running, users["participant"], 0, AttendanceStatus.PRESENT)
    page = client.get(f"/courses/{running.id}").get_data(as_text=True)
    assert 'id="below-threshold-count"' not in page
