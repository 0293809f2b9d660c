"""The check-in service's rules, with the clock frozen: every reason, nonces, undo and its
audit, sessions, offline scans and their conflicts, and what the door page reads."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from events.models import (
    Attendance,
    AttendanceChange,
    AttendanceMethod,
    AttendanceStatus,
    CheckinAttempt,
    RegistrationStatus,
)
from events.services import checkin, door
from tests.checkin_support import NOW, make_event, register
from webapp.extensions import db
from webapp.services import random_secret

Status = RegistrationStatus


@pytest.fixture
def forum(app_ctx):
    return make_event("Форум НКО", starts_at=NOW)


def scan(event, secret, by=None, **options):
    options.setdefault("now", NOW)
    return checkin.check_in(event_id=event.id, scanned=secret, by_user=by, **options)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_confirmed_ticket_is_checked_in_once_with_its_audit_and_log(forum, users):
    anna = register(forum, "Анна Смирнова")
    organiser = users["organiser"]

    answer = scan(forum, anna.ticket_secret, organiser, nonce="n-1", client_ip="10.0.0.7")

    assert answer["status"] == "ok" and "reason" not in answer
    attendee = answer["attendee"]
    assert attendee["name"] == "Анна Смирнова"
    assert attendee["checked_in_at"] == "10:00"  # Moscow time
    assert attendee["checked_in_by"] == organiser.full_name
    attendance = db.session.get(Attendance, attendee["attendance_id"])
    assert (attendance.status, attendance.method) == (
        AttendanceStatus.PRESENT,
        AttendanceMethod.DOOR,
    )
    assert attendance.marked_by_id == organiser.id and attendance.marked_at == NOW
    assert attendance.session_id == forum.sessions[0].id == attendee["session_id"]
    change = db.session.scalar(select(AttendanceChange))
    assert (change.old_status, change.new_status) == (None, AttendanceStatus.PRESENT)
    attempt = db.session.scalar(select(CheckinAttempt))
    assert (attempt.result, attempt.nonce, attempt.client_ip) == ("ok", "n-1", "10.0.0.7")
    assert attempt.registration_id == anna.id and attempt.by_user_id == organiser.id


def test_the_ticket_url_of_the_qr_code_and_a_shouted_secret_both_work(forum):
    anna = register(forum, "Анна")
    boris = register(forum, "Борис")
    assert scan(forum, f"http://tropa.test/t/{anna.ticket_secret}")["status"] == "ok"
    assert scan(forum, f"  {boris.ticket_secret.upper()}\n")["status"] == "ok"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Status.CANCELLED, "cancelled"),
        (Status.WAITLISTED, "waitlisted"),
        (Status.PENDING, "not_confirmed"),
    ],
)
def test_a_registration_that_is_not_confirmed_is_refused_by_its_status(forum, status, reason):
    person = register(forum, "Пётр", status)
    answer = scan(forum, person.ticket_secret, nonce="x")
    assert (answer["status"], answer["reason"]) == ("error", reason)
    assert answer["message"] and answer["attendee"]["name"] == "Пётр"
    assert count(Attendance) == 0
    assert db.session.scalar(select(CheckinAttempt.result)) == reason


def test_an_unknown_ticket_is_refused_and_logged(forum):
    answer = scan(forum, random_secret())
    assert (answer["status"], answer["reason"], answer["attendee"]) == ("error", "unknown", None)
    attempt = db.session.scalar(select(CheckinAttempt))
    assert (attempt.result, attempt.registration_id, attempt.event_id) == (
        "unknown",
        None,
        forum.id,
    )


def test_a_ticket_for_another_event_is_refused_without_its_name(forum):
    other = make_event("Круглый стол", starts_at=NOW)
    stranger = register(other, "Чужой Гость")
    answer = scan(forum, stranger.ticket_secret)
    assert (answer["reason"], answer["attendee"]) == ("wrong_event", None)
    assert db.session.scalar(select(CheckinAttempt.result)) == "wrong_event"
    assert count(Attendance) == 0


@pytest.mark.parametrize(
    "moment",
    [
        NOW - timedelta(minutes=30) - timedelta(minutes=121),  # before the door opens
        NOW + timedelta(hours=1, minutes=31),  # after the session's end
    ],
)
def test_outside_the_sessions_window_is_refused(forum, moment):
    anna = register(forum, "Анна")
    answer = scan(forum, anna.ticket_secret, now=moment)
    assert answer["reason"] == "outside_window"
    assert db.session.scalar(select(CheckinAttempt.result)) == "outside_window"


def test_the_door_opens_before_the_start_and_closes_at_the_end(forum):
    early, late = register(forum, "Ранний"), register(forum, "Поздний")
    opens = forum.sessions[0].starts_at - timedelta(minutes=120)
    assert scan(forum, early.ticket_secret, now=opens)["status"] == "ok"
    assert scan(forum, late.ticket_secret, now=forum.sessions[0].ends_at)["status"] == "ok"


def test_a_second_scan_says_when_and_by_whom(forum, users):
    anna = register(forum, "Анна")
    scan(forum, anna.ticket_secret, users["organiser"])
    answer = scan(forum, anna.ticket_secret, users["admin"], now=NOW + timedelta(minutes=5))
    assert (answer["status"], answer["reason"]) == ("error", "already_checked_in")
    assert answer["attendee"]["checked_in_at"] == "10:00"
    assert answer["attendee"]["checked_in_by"] == users["organiser"].full_name
    assert "10:00" in answer["message"] and users["organiser"].full_name in answer["message"]
    assert count(Attendance) == 1
    results = db.session.scalars(select(CheckinAttempt.result).order_by(CheckinAttempt.id))
    assert list(results) == ["ok", "already_checked_in"]


def test_every_reason_is_one_of_the_published_codes():
    assert set(checkin.REASONS) == {
        "unknown",
        "already_checked_in",
        "cancelled",
        "waitlisted",
        "not_confirmed",
        "wrong_event",
        "outside_window",
    }
    assert set(checkin.REASON_MESSAGES) | {"already_checked_in"} == set(checkin.REASONS)


# --- nonces -------------------------------------------------------------------------------


def test_a_repeated_nonce_returns_the_first_answer_and_marks_once(forum, users):
    anna = register(forum, "Анна")
    first = scan(forum, anna.ticket_secret, users["organiser"], nonce="retry-1")
    again = scan(
        forum, anna.ticket_secret, users["organiser"], nonce="retry-1", now=NOW + timedelta(1)
    )
    assert again == first and first["status"] == "ok"
    assert count(Attendance) == 1 and count(CheckinAttempt) == 1 and count(AttendanceChange) == 1


def test_a_repeated_nonce_of_a_refused_scan_returns_the_refusal(forum):
    answer = scan(forum, "nonsense", nonce="same")
    assert scan(forum, "nonsense", nonce="same") == answer
    assert count(CheckinAttempt) == 1


def test_a_nonce_of_another_staff_member_is_not_answered(forum, users):
    anna = register(forum, "Анна")
    scan(forum, anna.ticket_secret, users["organiser"], nonce="mine")
    with pytest.raises(checkin.CheckinRequestError):
        scan(forum, anna.ticket_secret, users["admin"], nonce="mine")


def test_a_nonce_longer_than_its_column_is_a_bad_request(forum):
    with pytest.raises(checkin.CheckinRequestError):
        scan(forum, "x", nonce="n" * 101)


# --- undo ---------------------------------------------------------------------------------


def test_undo_removes_the_mark_and_keeps_the_audit_trail(forum, users):
    anna = register(forum, "Анна")
    session_id = scan(forum, anna.ticket_secret, users["organiser"])["attendee"]["session_id"]

    def undo(by=None):
        return checkin.undo_check_in(
            event_id=forum.id, registration_id=anna.id, session_id=session_id, by_user=by, now=NOW
        )

    undone = undo(users["admin"])

    assert undone["name"] == "Анна" and undone["attendance_id"] is None
    assert count(Attendance) == 0
    changes = list(db.session.scalars(select(AttendanceChange).order_by(AttendanceChange.id)))
    assert [(c.old_status, c.new_status) for c in changes] == [
        (None, AttendanceStatus.PRESENT),
        (AttendanceStatus.PRESENT, None),
    ]
    assert changes[1].changed_by_id == users["admin"].id
    assert undo() is None  # a double tap undoes nothing more
    assert scan(forum, anna.ticket_secret)["status"] == "ok"  # the person may come in again


def test_undo_does_not_reach_another_events_marks(forum):
    other = make_event("Семинар", starts_at=NOW)
    guest = register(other, "Гость")
    session_id = scan(other, guest.ticket_secret)["attendee"]["session_id"]
    undone = checkin.undo_check_in(
        event_id=forum.id, registration_id=guest.id, session_id=session_id, by_user=None
    )
    assert undone is None and count(Attendance) == 1


# --- sessions -----------------------------------------------------------------------------


@pytest.fixture
def two_day_seminar(app_ctx):
    """Sessions at NOW − 30 min and a day later."""
    return make_event("Семинар в два дня", starts_at=NOW, sessions=2, hours_apart=24)


def test_each_session_is_checked_in_on_its_own(two_day_seminar):
    first, second = two_day_seminar.sessions
    anna = register(two_day_seminar, "Анна")
    assert scan(two_day_seminar, anna.ticket_secret, session_id=first.id)["status"] == "ok"
    tomorrow = NOW + timedelta(days=1)
    answer = scan(two_day_seminar, anna.ticket_secret, session_id=second.id, now=tomorrow)
    assert answer["status"] == "ok" and answer["attendee"]["session_id"] == second.id
    again = scan(two_day_seminar, anna.ticket_secret, session_id=second.id, now=tomorrow)
    assert again["reason"] == "already_checked_in"
    assert count(Attendance) == 2


def test_without_a_session_the_one_open_now_is_used(two_day_seminar):
    anna = register(two_day_seminar, "Анна")
    answer = scan(two_day_seminar, anna.ticket_secret, now=NOW + timedelta(days=1))
    assert answer["attendee"]["session_id"] == two_day_seminar.sessions[1].id
    between = NOW + timedelta(hours=12)
    assert scan(two_day_seminar, anna.ticket_secret, now=between)["reason"] == "outside_window"


def test_a_session_of_another_event_is_a_bad_request(forum, two_day_seminar):
    anna = register(forum, "Анна")
    with pytest.raises(checkin.CheckinRequestError):
        scan(forum, anna.ticket_secret, session_id=two_day_seminar.sessions[0].id)


def test_a_session_that_is_not_open_is_refused_even_if_another_is(two_day_seminar):
    anna = register(two_day_seminar, "Анна")
    tomorrows = two_day_seminar.sessions[1].id
    assert scan(two_day_seminar, anna.ticket_secret, session_id=tomorrows)["reason"] == (
        "outside_window"
    )


# --- manual check-in ----------------------------------------------------------------------


def test_a_manual_check_in_by_registration_id_is_recorded_as_manual(forum, users):
    anna = register(forum, "Анна")
    answer = checkin.check_in(
        event_id=forum.id,
        registration_id=anna.id,
        by_user=users["organiser"],
        method=AttendanceMethod.MANUAL,
        now=NOW,
    )
    assert answer["status"] == "ok"
    assert db.session.scalar(select(Attendance.method)) == AttendanceMethod.MANUAL


def test_a_registration_id_of_another_event_is_unknown(forum):
    other = make_event("Семинар", starts_at=NOW)
    guest = register(other, "Гость")
    answer = checkin.check_in(event_id=forum.id, registration_id=guest.id, now=NOW)
    assert (answer["reason"], answer["attendee"]) == ("unknown", None)


# --- offline scans: their time, and two doors ---------------------------------------------


def test_an_offline_scan_is_recorded_at_the_time_it_was_made(forum):
    anna = register(forum, "Анна")
    scanned_at = NOW - timedelta(minutes=20)
    answer = scan(forum, anna.ticket_secret, scanned_at=scanned_at, now=NOW + timedelta(hours=3))
    assert answer["status"] == "ok"  # the session is over, but the scan was made during it
    assert db.session.scalar(select(Attendance.marked_at)) == scanned_at
    assert db.session.scalar(select(CheckinAttempt.at)) == scanned_at


def test_a_scan_time_in_the_future_is_not_believed(forum):
    anna = register(forum, "Анна")
    scan(forum, anna.ticket_secret, scanned_at=NOW + timedelta(hours=1))
    assert db.session.scalar(select(Attendance.marked_at)) == NOW


def test_a_scan_made_outside_the_window_is_refused_when_it_arrives(forum):
    anna = register(forum, "Анна")
    answer = scan(forum, anna.ticket_secret, scanned_at=NOW - timedelta(hours=5))
    assert answer["reason"] == "outside_window"


def test_two_doors_keep_the_earlier_scan(forum, users):
    anna = register(forum, "Анна")
    # The main door was online and scanned at 10:00; the side door, offline, at 09:55.
    scan(forum, anna.ticket_secret, users["organiser"])
    answer = scan(
        forum,
        anna.ticket_secret,
        users["admin"],
        scanned_at=NOW - timedelta(minutes=5),
        now=NOW + timedelta(minutes=10),
    )
    assert answer["reason"] == "already_checked_in"
    assert answer["attendee"]["checked_in_at"] == "09:55"
    assert "09:55" in answer["message"] and "10:00" in answer["message"]
    attendance = db.session.scalar(select(Attendance))
    assert attendance.marked_at == NOW - timedelta(minutes=5)
    assert attendance.marked_by_id == users["admin"].id
    assert count(Attendance) == 1 and count(AttendanceChange) == 2

    later = scan(forum, anna.ticket_secret, scanned_at=NOW, now=NOW + timedelta(minutes=11))
    assert later["attendee"]["checked_in_at"] == "09:55"  # a later scan changes nothing
    assert count(AttendanceChange) == 2


# --- what the door page reads -------------------------------------------------------------


def test_counts_registered_checked_in_and_expected(forum):
    people = [register(forum, f"Участник {n}") for n in range(4)]
    register(forum, "Ожидающий", Status.WAITLISTED)
    gone = register(forum, "Отменивший")
    scan(forum, people[0].ticket_secret)
    scan(forum, gone.ticket_secret)
    gone.status = Status.CANCELLED  # checked in, then cancelled: no longer counted
    db.session.commit()
    counts = door.checkin_counts(forum.id, forum.sessions[0].id)
    assert counts == {"registered": 4, "checked_in": 1, "expected": 3}


def test_the_offline_list_has_hashes_not_secrets_in_constant_queries(forum, count_queries):
    anna = register(forum, "Анна")
    register(forum, "Борис", Status.WAITLISTED)
    scan(forum, anna.ticket_secret)
    with count_queries() as few:
        attendees = door.offline_list(forum)
    for n in range(20):
        register(forum, f"Участник {n}")
    with count_queries() as many:
        assert len(door.offline_list(forum)) == 22
    assert few.count == many.count <= 3

    by_name = {a["name"]: a for a in attendees}
    assert by_name["Анна"]["hash"] == door.secret_hash(anna.ticket_secret)
    assert by_name["Анна"]["checked_in"] == {str(forum.sessions[0].id): "10:00"}
    assert by_name["Борис"] == {**by_name["Борис"], "status": "waitlisted", "checked_in": {}}
    assert anna.ticket_secret not in repr(attendees)


def test_search_finds_by_any_case_of_a_cyrillic_name_and_pages(forum):
    anna = register(forum, "Анна Смирнова", email="anna@example.org")
    register(forum, "Борис Смирнов")
    for n in range(5):
        register(forum, f"Смирнов {n}")
    scan(forum, anna.ticket_secret)
    session_id = forum.sessions[0].id

    rows, has_next = door.search_registrations(forum.id, "анна", session_id, page=1, per_page=3)
    assert [r["name"] for r in rows] == ["Анна Смирнова"] and not has_next
    assert rows[0]["checked_in_at"] == "10:00" and rows[0]["email"] == "anna@example.org"

    first, more = door.search_registrations(forum.id, "СМИРНОВ", session_id, page=1, per_page=3)
    second, _ = door.search_registrations(forum.id, "смирнов", session_id, page=2, per_page=3)
    third, last = door.search_registrations(forum.id, "смирнов", session_id, page=3, per_page=3)
    names = [r["name"] for r in first + second + third]
    assert more and not last and len(names) == len(set(names)) == 7


def test_current_session_is_the_open_one_else_the_next_else_the_last(two_day_seminar):
    first, second = two_day_seminar.sessions
    assert checkin.current_session(two_day_seminar, NOW) == first
    assert checkin.current_session(two_day_seminar, NOW + timedelta(hours=12)) == second
    assert checkin.current_session(two_day_seminar, NOW + timedelta(days=9)) == second
