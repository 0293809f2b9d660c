"""Marking attendance: one function marks a person present, for the door, the trainer and
the API (`check_in`), its undo, and the trainer's register (`mark`, `mark_rest_absent`).
What the door page shows besides (counts, the offline list, search) is events.services.door.

Modelled on pretix's check-in: the registration row is locked, every answer carries a
stable reason code, every scan is logged (refusals with their reason), and a client nonce
makes retries harmless (a repeated nonce returns the first answer, never a second mark).

A phone that lost its connection scans against its cached list and sends the scans later
with the time they were made (`scanned_at`): the window is checked at that time, and when
two doors let the same person in, the attendance keeps the earlier scan.

The door is the hot path (eight scanners, a scan a second each, on SQLite's one writer):
check_in reads and writes plain columns with Core statements built once, not ORM objects;
a first scan is four statements, all in its unit (the person, locked; the mark and the
attempt as INSERT ... ON CONFLICT DO NOTHING RETURNING, the attempt claiming the nonce;
the mark's audit entry), plus what the attendance_marked receivers record (slow work such
as a certificate is done after commit). The event's windows, which session is whose and
who may scan are kept a few seconds per process (DOOR_CACHE_SECONDS), so a whole API
request is those four statements (tests/test_checkin_api.py pins it).
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, exists, insert, select, text, update
from sqlalchemy.orm import joinedload

from events.models import (
    PRESENT_OR_LATE,
    Attendance,
    AttendanceChange,
    AttendanceMethod,
    AttendanceStatus,
    CheckinAttempt,
    Event,
    EventKind,
    Registration,
    RegistrationStatus,
    Session,
    event_staff,
)
from events.services import access
from webapp import signals
from webapp.caching import ShortCache
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.filters import local_time
from webapp.models import User
from webapp.services import SECRET_ALPHABET
from webapp.transactions import unit_of_work
from webapp.types import utcnow

REASONS = (
    "unknown",
    "already_checked_in",
    "cancelled",
    "waitlisted",
    "not_confirmed",
    "wrong_event",
    "outside_window",
)
REASON_MESSAGES = {
    "unknown": _l("Unknown ticket."),
    "cancelled": _l("This registration was cancelled."),
    "waitlisted": _l("This person is on the waiting list, not confirmed."),
    "not_confirmed": _l("This registration is awaiting approval."),
    "wrong_event": _l("This ticket is for another event."),
    "outside_window": _l("Check-in is not open for this session now."),
}
# A participant's scan of a course session's rotating code (courses.services.attendance)
# can also be refused for these; the door's API never answers them.
SELF_SCAN_REASON_MESSAGES = {
    "invalid_code": _l("This code is not valid. Scan the code on the screen again."),
    "expired_code": _l("This code has expired. Scan the code on the screen again."),
    "wrong_session": _l("This code is for another session of the course."),
    "not_enrolled": _l("You are not enrolled in this course."),
    "same_ip": _l(
        "Somebody else has already checked in from this device or network."
        " Ask the trainer to mark you."
    ),
}
REFUSED_STATUSES = {
    RegistrationStatus.CANCELLED: "cancelled",
    RegistrationStatus.WAITLISTED: "waitlisted",
    RegistrationStatus.PENDING: "not_confirmed",
}
NONCE_MAX_LENGTH = 100

_SECRET_IN_TEXT = re.compile(rf"(?:/t/)?([{SECRET_ALPHABET}]{{26,40}})/?$")


class CheckinRequestError(ServiceError):
    """A request that cannot be answered (a session of another event, a reused nonce):
    the API answers 400 with this message."""

    MESSAGES = {
        "nonce_too_long": _l("The nonce is too long."),
        "no_event": _l("There is no such event."),
        "wrong_session": _l("This session is not a session of the event."),
        "nonce_reused": _l("This nonce was already used for another check-in."),
    }


def secret_from_scan(scanned: str) -> str:
    """The ticket secret from what a scanner read: the bare secret or a ticket URL."""
    text = (scanned or "").strip().lower()
    match = _SECRET_IN_TEXT.search(text)
    return match.group(1) if match else text


@dataclass
class CheckinAnswer:
    status: str  # "ok" or "error"
    reason: str | None
    message: str
    attendee: dict | None

    def as_json(self) -> dict:
        data = {"status": self.status, "message": self.message, "attendee": self.attendee}
        if self.reason:
            data["reason"] = self.reason
        return data


# --- sessions and their windows -----------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A session's id and times."""

    id: int
    starts_at: datetime
    ends_at: datetime


def check_window(session: Session | Window, when: datetime) -> bool:
    """Door and trainer check-in is open from a while before the start until the end."""
    before = timedelta(minutes=current_app.config["TROPA_CHECKIN_OPENS_MINUTES"])
    return session.starts_at - before <= when <= session.ends_at


def current_session(event: Event, now: datetime | None = None) -> Session | None:
    """The session a door is most likely checking for: the one open now, else the next one,
    else the last one."""
    now = now or utcnow()
    sessions = event.sessions
    open_now = [s for s in sessions if check_window(s, now)]
    upcoming = [s for s in sessions if s.starts_at > now]
    return (open_now or upcoming or sessions[-1:] or [None])[0]


def _session_for(windows: list[Window], session_id: int | None, when: datetime) -> Window | None:
    """The session asked for; without one, a one-session event's only session, or the one
    open at the time of the scan."""
    if session_id is not None:
        return next((w for w in windows if w.id == session_id), None)
    if len(windows) == 1:
        return windows[0]
    return next((w for w in windows if check_window(w, when)), None)


# --- the answer's attendee ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A registration as check-in reads it."""

    id: int
    event_id: int
    name: str
    status: RegistrationStatus


@dataclass(frozen=True)
class Mark:
    """An attendance row as check-in reads it, with the name of who marked it."""

    id: int
    session_id: int
    status: AttendanceStatus
    marked_at: datetime
    marked_by: str | None


def attendee_json(registration: Registration, attendance: Attendance | None) -> dict:
    """The person as a scanner shows them (from the ORM objects)."""
    mark = attendance and Mark(
        attendance.id,
        attendance.session_id,
        attendance.status,
        attendance.marked_at,
        attendance.marked_by.full_name if attendance.marked_by else None,
    )
    person = Person(
        registration.id, registration.event_id, registration.full_name, registration.status
    )
    return _attendee(person, mark, registration.event.tz)


def _attendee(person: Person, mark: Mark | None, tz: ZoneInfo) -> dict:
    return {
        "registration_id": person.id,
        "name": person.name,
        "status": person.status.value,
        "attendance_id": mark.id if mark else None,
        "session_id": mark.session_id if mark else None,
        "checked_in_at": local_time(mark.marked_at, tz) if mark else None,
        "checked_in_at_iso": mark.marked_at.isoformat() if mark else None,
        "checked_in_by": mark.marked_by if mark else None,
    }


def _already_message(attendee: dict) -> str:
    if attendee["checked_in_by"]:
        return str(
            _l(
                "Already checked in at %(time)s by %(name)s.",
                time=attendee["checked_in_at"],
                name=attendee["checked_in_by"],
            )
        )
    return str(_l("Already checked in at %(time)s.", time=attendee["checked_in_at"]))


def _refuse(reason: str, attendee: dict | None = None) -> CheckinAnswer:
    return CheckinAnswer("error", reason, str(REASON_MESSAGES[reason]), attendee)


# --- checking in --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    """One check-in request: what it asks, who asks, and the event's sessions."""

    event_id: int
    tz: ZoneInfo
    windows: list[Window]
    session_id: int | None
    method: AttendanceMethod
    by_user_id: int | None
    by_name: str | None
    when: datetime


def check_in(
    *,
    event_id: int,
    scanned: str | None = None,
    registration_id: int | None = None,
    session_id: int | None = None,
    nonce: str | None = None,
    by_user: User | None = None,
    method: AttendanceMethod = AttendanceMethod.DOOR,
    client_ip: str | None = None,
    scanned_at: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """Mark a person present at a session of the event; returns the JSON answer.

    The person is the holder of the `scanned` ticket (its secret or its URL), or, for a
    manual check-in from the search, `registration_id` of this event. `scanned_at` is when
    an offline scan was made: its window is checked then; a time in the future is not
    believed (the server's clock is used). Raises CheckinRequestError for an unknown event,
    a session that is not the event's, or a nonce another user or event already used.
    """
    now = now or utcnow()
    nonce = (nonce or "").strip() or None
    if nonce and len(nonce) > NONCE_MAX_LENGTH:
        raise CheckinRequestError("nonce_too_long")
    event = door_event(event_id)
    if event is None:
        raise CheckinRequestError("no_event")
    scan = _Scan(
        event_id=event_id,
        tz=event.tz,
        windows=list(event.windows),
        session_id=session_id,
        method=method,
        by_user_id=by_user.id if by_user else None,
        by_name=by_user.full_name if by_user else None,
        when=scanned_at if scanned_at is not None and scanned_at <= now else now,
    )
    if session_id is not None and all(w.id != session_id for w in scan.windows):
        raise CheckinRequestError("wrong_session")
    # A retry is not looked up first (a statement on every scan for the rare retry): its
    # unit finds the nonce taken when it logs the attempt, rolls back whole, and answers
    # what the first request answered.
    try:
        with unit_of_work():
            person = _lock_person(event_id, scanned, registration_id)
            answer, scanned_session_id = _decide(scan, person)
            attempt = {
                "event_id": event_id,
                "session_id": scanned_session_id,
                "registration_id": person.id if person else None,
                "method": method,
                "result": answer.reason or "ok",
                "answer": json.dumps(answer.as_json(), ensure_ascii=False),
                "by_user_id": scan.by_user_id,
                "client_ip": client_ip,
                "at": scan.when,
            }
            _log_attempt(nonce, attempt)
    except _NonceTaken:
        # A retry, or the same nonce sent twice at once: the first request committed (and
        # this one's unit rolled back whole); its answer is the answer.
        return _answer_for_nonce(nonce, scan)
    return answer.as_json()


class _NonceTaken(Exception):
    """Another request with this nonce was logged first: roll this one back."""


def _insert_or_nothing(model, columns: tuple[str, ...], unique_columns: tuple[str, ...]):
    """INSERT ... ON CONFLICT (unique columns) DO NOTHING RETURNING id, in the words both
    databases share. Written once as text: SQLAlchemy 2.0 does not cache the dialects' own
    ON CONFLICT inserts, and compiling them anew was a third of a scan's time."""
    table = model.__table__
    names, values = ", ".join(columns), ", ".join(":" + name for name in columns)
    conflict = ", ".join(unique_columns)
    statement = text(  # our own table and column names, values as bound parameters
        f"INSERT INTO {table.name} ({names}) VALUES ({values})"  # noqa: S608
        f" ON CONFLICT ({conflict}) DO NOTHING RETURNING id"
    )
    typed = [bindparam(name, type_=table.c[name].type) for name in columns]
    return statement.bindparams(*typed).columns(table.c.id)


_ATTEMPT_COLUMNS = (
    "nonce",
    "event_id",
    "session_id",
    "registration_id",
    "method",
    "result",
    "answer",
    "by_user_id",
    "client_ip",
    "at",
)
_INSERT_ATTEMPT = _insert_or_nothing(CheckinAttempt, _ATTEMPT_COLUMNS, ("nonce",))
_MARK_COLUMNS = ("registration_id", "session_id", "status", "method", "marked_by_id", "marked_at")
_INSERT_MARK = _insert_or_nothing(Attendance, _MARK_COLUMNS, ("registration_id", "session_id"))


def _log_attempt(nonce: str | None, values: dict) -> None:
    """Log the attempt; with a nonce, claim it in the same statement."""
    if nonce is None:
        db.session.execute(insert(CheckinAttempt).values(nonce=None, **values))
        return
    columns = dict.fromkeys(_ATTEMPT_COLUMNS)  # a refusal before any event leaves some out
    logged = (
        db.session.connection()
        .execute(_INSERT_ATTEMPT, {**columns, **values, "nonce": nonce})
        .scalar()
    )
    if logged is None:
        raise _NonceTaken


# --- what a scan needs of its event, kept a few seconds ---------------------------------------

# The door sends a scan a second per scanner: the event's time zone and session windows,
# which session is whose, and who may scan there are kept in this process for a few
# seconds (webapp.caching). An edit of the sessions or the staff reaches a worker process
# within these seconds; the marks themselves are always read and written in the database.
DOOR_CACHE_SECONDS = 5


@dataclass(frozen=True)
class DoorEvent:
    """An event as a scan reads it: its kind, time zone and session windows."""

    id: int
    kind: str
    tz: ZoneInfo
    windows: tuple[Window, ...]


_door_events: ShortCache[DoorEvent] = ShortCache(DOOR_CACHE_SECONDS)
_events_of_sessions: ShortCache[int] = ShortCache(DOOR_CACHE_SECONDS)
_checkin_rights: ShortCache[bool] = ShortCache(DOOR_CACHE_SECONDS)


def door_event(event_id: int) -> DoorEvent | None:
    """The event with its windows (one statement, then cached), or None when there is none."""
    return _door_events.get_or_load(event_id, lambda: _read_door_event(event_id))


def _read_door_event(event_id: int) -> DoorEvent | None:
    rows = db.session.execute(
        select(Event.kind, Event.timezone, Session.id, Session.starts_at, Session.ends_at)
        .outerjoin(Session, Session.event_id == Event.id)
        .where(Event.id == event_id)
        .order_by(Session.starts_at)
    ).all()
    if not rows:
        return None
    windows = tuple(Window(row[2], row[3], row[4]) for row in rows if row[2] is not None)
    return DoorEvent(event_id, rows[0][0], ZoneInfo(rows[0][1]), windows)


def event_id_of_session(session_id: int) -> int | None:
    return _events_of_sessions.get_or_load(
        session_id,
        lambda: db.session.scalar(select(Session.event_id).where(Session.id == session_id)),
    )


def may_check_in(user: User, event_id: int) -> bool:
    """access.can_check_in, its answer kept a few seconds per user and event."""
    return _checkin_rights.get_or_load(
        (user.id, event_id), lambda: access.can_check_in(user, db.session.get(Event, event_id))
    )


# The statements of a scan's unit, built once and run as Core statements on the unit's
# connection: building and ORM-executing them anew was most of a scan's time.
_registrations = Registration.__table__
_PERSON = select(
    _registrations.c.id,
    _registrations.c.event_id,
    _registrations.c.full_name,
    _registrations.c.status,
)
_LOCK_PERSON_BY_SECRET = _PERSON.where(
    _registrations.c.ticket_secret == bindparam("secret")
).with_for_update()
# Only this event's: an id of another event's registration is an unknown one.
_LOCK_PERSON_BY_ID = _PERSON.where(
    _registrations.c.id == bindparam("registration_id"),
    _registrations.c.event_id == bindparam("event_id"),
).with_for_update()
_INSERT_CHANGE = insert(AttendanceChange.__table__)


def _lock_person(event_id: int, scanned: str | None, registration_id: int | None):
    """The registration, its row locked (PostgreSQL; SQLite holds the database's lock)."""
    if registration_id is not None:
        params = {"registration_id": registration_id, "event_id": event_id}
        row = db.session.connection().execute(_LOCK_PERSON_BY_ID, params).first()
    else:
        params = {"secret": secret_from_scan(scanned)}
        row = db.session.connection().execute(_LOCK_PERSON_BY_SECRET, params).first()
    return Person(*row) if row else None


def _answer_for_nonce(nonce: str, scan: _Scan) -> dict | None:
    stored = db.session.execute(
        select(CheckinAttempt.answer, CheckinAttempt.event_id, CheckinAttempt.by_user_id).where(
            CheckinAttempt.nonce == nonce
        )
    ).first()
    if stored is None:
        return None
    if (stored.event_id, stored.by_user_id) != (scan.event_id, scan.by_user_id):
        raise CheckinRequestError("nonce_reused")
    return json.loads(stored.answer)


def _decide(scan: _Scan, person: Person | None) -> tuple[CheckinAnswer, int | None]:
    """The answer to the scan, and the session it was for (None when it never got there)."""
    if person is None:
        return _refuse("unknown"), None
    if person.event_id != scan.event_id:
        # No name: the staff of this event have no business with another event's people.
        return _refuse("wrong_event"), None
    if reason := REFUSED_STATUSES.get(person.status):
        return _refuse(reason, _attendee(person, None, scan.tz)), None
    window = _session_for(scan.windows, scan.session_id, scan.when)
    if window is None or not check_window(window, scan.when):
        return _refuse("outside_window", _attendee(person, None, scan.tz)), None
    # Most scans are a first one: the mark is inserted unless there is one already.
    mark = _insert_mark(scan, person.id, window.id, AttendanceStatus.PRESENT)
    existing = None if mark else _mark_of(person.id, window.id)
    if mark is None and existing.status not in PRESENT_OR_LATE:
        mark = _write_mark(scan, person.id, window.id, existing, AttendanceStatus.PRESENT)
    if mark is not None:
        message = str(_l("Welcome, %(name)s!", name=person.name))
        return CheckinAnswer("ok", None, message, _attendee(person, mark, scan.tz)), window.id
    if scan.when < existing.marked_at:
        return _keep_the_earlier_scan(scan, person, existing), window.id
    attendee = _attendee(person, existing, scan.tz)
    return (
        CheckinAnswer("error", "already_checked_in", _already_message(attendee), attendee),
        window.id,
    )


def _keep_the_earlier_scan(scan: _Scan, person: Person, later: Mark) -> CheckinAnswer:
    """Two doors let the same person in (one of them offline): the attendance keeps the
    earlier scan, and the answer tells the later door."""
    mark = _write_mark(scan, person.id, later.session_id, later, later.status)
    attendee = _attendee(person, mark, scan.tz)
    message = _l(
        "Checked in at two doors: the earlier scan at %(time)s is kept"
        " (the other was at %(other_time)s by %(other_name)s).",
        time=attendee["checked_in_at"],
        other_time=local_time(later.marked_at, scan.tz),
        other_name=later.marked_by or "—",
    )
    return CheckinAnswer("error", "already_checked_in", str(message), attendee)


_attendances, _users = Attendance.__table__, User.__table__
_MARK = (
    select(
        _attendances.c.id,
        _attendances.c.session_id,
        _attendances.c.status,
        _attendances.c.marked_at,
        _users.c.full_name,
    )
    .select_from(_attendances.outerjoin(_users, _users.c.id == _attendances.c.marked_by_id))
    .where(
        _attendances.c.registration_id == bindparam("registration_id"),
        _attendances.c.session_id == bindparam("session_id"),
    )
)


def _mark_of(registration_id: int, session_id: int) -> Mark | None:
    params = {"registration_id": registration_id, "session_id": session_id}
    row = db.session.connection().execute(_MARK, params).first()
    return Mark(*row) if row else None


def _mark_values(scan: _Scan, status: AttendanceStatus) -> dict:
    return {
        "status": status,
        "method": scan.method,
        "marked_by_id": scan.by_user_id,
        "marked_at": scan.when,
    }


def _insert_mark(
    scan: _Scan, person_id: int, session_id: int, status: AttendanceStatus
) -> Mark | None:
    """The person's first mark at the session, with its audit entry; None (nothing
    written) when they have one already."""
    attendance_id = (
        db.session.connection()
        .execute(
            _INSERT_MARK,
            {"registration_id": person_id, "session_id": session_id, **_mark_values(scan, status)},
        )
        .scalar()
    )
    if attendance_id is None:
        return None
    return _marked(scan, person_id, session_id, attendance_id, None, status)


def _write_mark(
    scan: _Scan, person_id: int, session_id: int, existing: Mark | None, status: AttendanceStatus
) -> Mark:
    """Write (or rewrite) the person's attendance at the session as this scan's, and its
    audit entry."""
    if existing is None:
        attendance_id = db.session.scalar(
            insert(Attendance)
            .values(registration_id=person_id, session_id=session_id, **_mark_values(scan, status))
            .returning(Attendance.id)
        )
    else:
        attendance_id = existing.id
        db.session.execute(
            update(Attendance)
            .where(Attendance.id == existing.id)
            .values(_mark_values(scan, status))
        )
    return _marked(scan, person_id, session_id, attendance_id, existing, status)


def _marked(
    scan: _Scan,
    person_id: int,
    session_id: int,
    attendance_id: int,
    existing: Mark | None,
    status: AttendanceStatus,
) -> Mark:
    """After a mark was written: the audit entry, and the news of a person there."""
    if status in PRESENT_OR_LATE:
        # e.g. certificates of participation (connected in certificates.init_app)
        signals.attendance_marked.send(None, registration_id=person_id, event_id=scan.event_id)
    db.session.connection().execute(
        _INSERT_CHANGE,
        {
            "registration_id": person_id,
            "session_id": session_id,
            "old_status": existing.status if existing else None,
            "new_status": status,
            "method": scan.method,
            "changed_by_id": scan.by_user_id,
            "changed_at": scan.when,
        },
    )
    return Mark(attendance_id, session_id, status, scan.when, scan.by_name)


def undo_check_in(
    *,
    event_id: int,
    registration_id: int,
    session_id: int,
    by_user: User | None,
    now: datetime | None = None,
) -> dict | None:
    """Remove a person's mark at a session of this event (a mistaken scan); the audit trail
    keeps what happened. Returns the attendee as they are now, or None when there was no
    such mark (asked by person and session, not by row id: SQLite reuses a deleted row's id,
    and a repeated undo must not take away somebody else's check-in)."""
    with unit_of_work():
        registration = db.session.scalar(
            select(Registration)
            .options(joinedload(Registration.event))
            .where(Registration.id == registration_id, Registration.event_id == event_id)
            .with_for_update(of=Registration)
        )
        existing = registration and _mark_of(registration.id, session_id)
        if not existing or existing.status not in PRESENT_OR_LATE:
            return None
        db.session.execute(delete(Attendance).where(Attendance.id == existing.id))
        db.session.execute(
            insert(AttendanceChange).values(
                registration_id=registration_id,
                session_id=session_id,
                old_status=existing.status,
                new_status=None,
                method=AttendanceMethod.MANUAL,
                changed_by_id=by_user.id if by_user else None,
                changed_at=now or utcnow(),
            )
        )
        return attendee_json(registration, None)


def scan_method(event: Event | DoorEvent, scanned: bool) -> AttendanceMethod:
    """How a check-in from the scanner page was made: a ticket scanned at a course is the
    trainer scanning a participant, at an event the door; a pick from the search is manual."""
    if not scanned:
        return AttendanceMethod.MANUAL
    return (
        AttendanceMethod.TRAINER_SCAN if event.kind == EventKind.COURSE else AttendanceMethod.DOOR
    )


def log_refusal(
    *,
    event_id: int,
    session_id: int | None,
    registration_id: int | None,
    reason: str,
    method: AttendanceMethod,
    by_user: User | None,
    client_ip: str | None,
    when: datetime,
) -> dict:
    """Log a request refused before it reached check_in (a bad self-check-in code, a
    participant not enrolled); returns the answer as check_in would."""
    message = SELF_SCAN_REASON_MESSAGES.get(reason) or REASON_MESSAGES[reason]
    answer = CheckinAnswer("error", reason, str(message), None).as_json()
    with unit_of_work():
        db.session.execute(
            insert(CheckinAttempt).values(
                event_id=event_id,
                session_id=session_id,
                registration_id=registration_id,
                method=method,
                result=reason,
                answer=json.dumps(answer, ensure_ascii=False),
                by_user_id=by_user.id if by_user else None,
                client_ip=client_ip,
                at=when,
            )
        )
    return answer


def mark(
    *,
    event_id: int,
    registration_id: int,
    session_id: int,
    status: AttendanceStatus,
    by_user: User | None,
    method: AttendanceMethod = AttendanceMethod.MANUAL,
    now: datetime | None = None,
) -> bool:
    """Set a person's attendance at a session by hand (the register), whatever it was;
    the audit trail keeps the change. Returns False when there is no such registration of
    the event, or the status was already this one (nothing written)."""
    scan = _Scan(
        event_id=event_id,
        tz=ZoneInfo("UTC"),  # only the answer's times use it; mark answers none
        windows=[],
        session_id=session_id,
        method=method,
        by_user_id=by_user.id if by_user else None,
        by_name=by_user.full_name if by_user else None,
        when=now or utcnow(),
    )
    with unit_of_work():  # joins a bulk check-in's unit
        person = _lock_person(event_id, None, registration_id)
        if person is None:
            return False
        existing = _mark_of(person.id, session_id)
        if existing is not None and existing.status == status:
            return False
        _write_mark(scan, person.id, session_id, existing, status)
    return True


def mark_rest_absent(
    *, event_id: int, session_id: int, by_user: User | None, now: datetime | None = None
) -> int:
    """Mark every confirmed registration of the event with no mark at the session absent;
    returns how many."""
    now = now or utcnow()
    with unit_of_work():
        unmarked = list(
            db.session.scalars(
                select(Registration.id)
                .where(
                    Registration.event_id == event_id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                    ~exists().where(
                        Attendance.registration_id == Registration.id,
                        Attendance.session_id == session_id,
                    ),
                )
                .with_for_update()
            )
        )
        if not unmarked:
            return 0
        by_user_id = by_user.id if by_user else None
        common = {"session_id": session_id, "method": AttendanceMethod.MANUAL}
        db.session.execute(
            insert(Attendance),
            [
                {
                    **common,
                    "registration_id": registration_id,
                    "status": AttendanceStatus.ABSENT,
                    "marked_by_id": by_user_id,
                    "marked_at": now,
                }
                for registration_id in unmarked
            ],
        )
        db.session.execute(
            insert(AttendanceChange),
            [
                {
                    **common,
                    "registration_id": registration_id,
                    "old_status": None,
                    "new_status": AttendanceStatus.ABSENT,
                    "changed_by_id": by_user_id,
                    "changed_at": now,
                }
                for registration_id in unmarked
            ],
        )
    return len(unmarked)


# --- a scan that does not say which event ---------------------------------------------------


def event_id_of_ticket(scanned: str | None, registration_id: int | None) -> int | None:
    """The event a ticket (or registration) belongs to: DESIGN.md lets a scanner of a
    one-session event send just the secret and a nonce."""
    if registration_id is not None:
        return db.session.scalar(
            select(Registration.event_id).where(Registration.id == registration_id)
        )
    return db.session.scalar(
        select(Registration.event_id).where(
            Registration.ticket_secret == secret_from_scan(scanned or "")
        )
    )


def refuse_unknown_ticket(
    *, nonce: str | None, by_user: User | None, method: AttendanceMethod, client_ip: str | None
) -> dict:
    """Answer and log a ticket that matches nothing, scanned with no event named."""
    nonce = (nonce or "").strip() or None
    if nonce:
        answered = select(CheckinAttempt.answer).where(CheckinAttempt.nonce == nonce)
        if stored := db.session.scalar(answered):
            return json.loads(stored)
    answer = _refuse("unknown").as_json()
    attempt = {
        "method": method,
        "result": "unknown",
        "answer": json.dumps(answer, ensure_ascii=False),
        "by_user_id": by_user.id if by_user else None,
        "client_ip": client_ip,
        "at": utcnow(),
    }
    try:
        with unit_of_work():
            _log_attempt(nonce, attempt)
    except _NonceTaken:  # the same nonce, sent twice at once: one answer for both
        pass
    return answer


# --- who may hold API tokens --------------------------------------------------------------


def is_staff_of_some_event(user: User) -> bool:
    return bool(db.session.scalar(select(exists().where(event_staff.c.user_id == user.id))))
