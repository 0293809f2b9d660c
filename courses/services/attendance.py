"""Attendance at course sessions: the trainer's rotating self-check-in code, the register
and the reports. Every mark goes through events.services.checkin (check_in for scans,
mark for the register), so the door, the trainer and the participant write the same rows.

The rotating code is like TOTP: an HMAC of the session's key and the time step, never
stored, so several screens (or a reloaded one) show the same code. The key is derived from
the app's SECRET_KEY and the session id; changing SECRET_KEY changes every code.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from courses.models import Course
from events.models import (
    PRESENT_OR_LATE,
    Attendance,
    AttendanceChange,
    AttendanceMethod,
    AttendanceStatus,
    Registration,
    RegistrationStatus,
    Session,
)
from events.services import checkin
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.filters import local_datetime
from webapp.models import User
from webapp.types import utcnow

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
CODE_LENGTH = 10  # 50 bits
# How far back a code is still recognised as "expired" rather than "not valid" (an hour of
# 15-second steps); only the current and the previous step are accepted.
EXPIRED_LOOKBACK_SECONDS = 3600
# A scan made while signed out is kept in the signed session cookie this long.
PENDING_SCAN_SECONDS = 300


# What a participant is told when check_in refuses them (its own messages speak to staff).
PARTICIPANT_MESSAGES = {
    "waitlisted": _l("You are on the waiting list of this course, not enrolled yet."),
    "not_confirmed": _l("Your enrolment is awaiting approval."),
    "cancelled": _l("Your enrolment in this course was cancelled."),
}


def participant_message(answer: dict) -> str:
    return str(PARTICIPANT_MESSAGES.get(answer.get("reason"), answer["message"]))


# --- the rotating code --------------------------------------------------------------------


def _session_key(session_id: int) -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret, f"tropa-session-code:{session_id}".encode(), hashlib.sha256).digest()


def time_step(when: datetime, step_seconds: int) -> int:
    return int(when.timestamp()) // step_seconds


def session_code(session_id: int, step: int) -> str:
    """The code of the session at the time step: HMAC-SHA256 truncated to 10 Crockford
    characters."""
    digest = hmac.new(_session_key(session_id), f"{session_id}:{step}".encode(), hashlib.sha256)
    number = int.from_bytes(digest.digest()[:8], "big") >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _position in range(CODE_LENGTH):
        number, index = divmod(number, 32)
        chars.append(CODE_ALPHABET[index])
    return "".join(reversed(chars))


def normalise_code(text: str) -> str:
    """Crockford's reading rules: case does not matter, O is 0, I and L are 1."""
    table = str.maketrans("OIL", "011")
    return (text or "").strip().upper().translate(table)[: CODE_LENGTH + 1]


@dataclass(frozen=True)
class ShownCode:
    code: str
    step: int
    seconds_left: int


def current_code(session: Session, now: datetime | None = None) -> ShownCode:
    now = now or utcnow()
    step_seconds = session.event.code_step_seconds
    step = time_step(now, step_seconds)
    seconds_left = step_seconds - int(now.timestamp()) % step_seconds
    return ShownCode(session_code(session.id, step), step, seconds_left)


def self_checkin_opens_at(session: Session) -> datetime:
    """Participants may scan from a while before the start (15 minutes) until the end."""
    before = timedelta(minutes=current_app.config["TROPA_SELF_CHECKIN_OPENS_MINUTES"])
    return session.starts_at - before


def self_checkin_open(session: Session, when: datetime) -> bool:
    return self_checkin_opens_at(session) <= when <= session.ends_at


@dataclass(frozen=True)
class VerifiedScan:
    """A scan whose code was valid when it was made."""

    session_id: int
    step: int
    scanned_at: datetime


class ScanRefused(ServiceError):
    """A self-check-in code that is refused; the reason is logged as the check-in's refusal
    and the check-in's messages (events.services.checkin) tell the participant why."""


def verify_code(session: Session, code: str, now: datetime | None = None) -> VerifiedScan:
    """The scan if the code is the session's current or previous one and the session's
    self-check-in window is open; else raises ScanRefused with a stable reason."""
    now = now or utcnow()
    course = session.event
    if not isinstance(course, Course):
        raise ScanRefused("invalid_code")
    if not self_checkin_open(session, now):
        raise ScanRefused("outside_window")
    code = normalise_code(code)
    step = time_step(now, course.code_step_seconds)

    def matches(session_id: int, steps) -> bool:
        return any(hmac.compare_digest(code, session_code(session_id, s)) for s in steps)

    if matches(session.id, (step, step - 1)):
        return VerifiedScan(session.id, step, now)
    lookback = EXPIRED_LOOKBACK_SECONDS // course.code_step_seconds
    if matches(session.id, range(step - 2, step - lookback, -1)):
        raise ScanRefused("expired_code")
    if any(matches(other.id, (step, step - 1)) for other in course.sessions if other != session):
        raise ScanRefused("wrong_session")
    raise ScanRefused("invalid_code")


def refuse(
    session: Session, reason: str, user: User | None, client_ip: str | None, now: datetime
) -> dict:
    """Log a refused self-scan; returns the answer."""
    registration = user and _registration_of(session.event_id, user)
    return checkin.log_refusal(
        event_id=session.event_id,
        session_id=session.id,
        registration_id=registration.id if registration else None,
        reason=reason,
        method=AttendanceMethod.SELF_SCAN,
        by_user=user,
        client_ip=client_ip,
        when=now,
    )


def self_check_in(
    session: Session,
    user: User,
    scan: VerifiedScan,
    client_ip: str | None,
    now: datetime | None = None,
) -> dict:
    """Mark the signed-in participant present at the session, as of the verified scan."""
    now = now or utcnow()
    course = session.event
    registration = _registration_of(course.id, user)
    if registration is None:
        return refuse(session, "not_enrolled", user, client_ip, now)
    if course.refuse_same_ip and _other_participant_from(session.id, registration.id, client_ip):
        return refuse(session, "same_ip", user, client_ip, now)
    return checkin.check_in(
        event_id=course.id,
        registration_id=registration.id,
        session_id=session.id,
        by_user=user,
        method=AttendanceMethod.SELF_SCAN,
        client_ip=client_ip,
        scanned_at=scan.scanned_at,
        now=now,
    )


def _registration_of(course_id: int, user: User) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == course_id, Registration.user_id == user.id
        )
    )


def _other_participant_from(session_id: int, registration_id: int, client_ip: str | None) -> bool:
    """Has somebody else checked themselves in at the session from this address?"""
    if not client_ip:
        return False
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(checkin.CheckinAttempt)
            .where(
                checkin.CheckinAttempt.session_id == session_id,
                checkin.CheckinAttempt.method == AttendanceMethod.SELF_SCAN,
                checkin.CheckinAttempt.result == "ok",
                checkin.CheckinAttempt.client_ip == client_ip,
                checkin.CheckinAttempt.registration_id != registration_id,
            )
        )
    )


# --- the register -------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    registration: Registration
    attendance: Attendance | None


def register(session: Session) -> list[RegisterRow]:
    """The session's confirmed participants by name, with their marks (2 queries)."""
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == session.event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(Registration.full_name, Registration.id)
        )
    )
    marks = {
        a.registration_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.session_id == session.id))
    }
    return [RegisterRow(r, marks.get(r.id)) for r in registrations]


def register_json(session: Session) -> dict:
    """What the trainer's page and the projector poll: counts, each participant's status and
    the names of those marked present (the projector lists them), in the register's order."""
    rows = register(session)
    present = [row for row in rows if row.attendance and row.attendance.status in PRESENT_OR_LATE]
    return {
        "enrolled": len(rows),
        "present": len(present),
        "present_names": [row.registration.full_name for row in present],
        "marked": sum(1 for row in rows if row.attendance),
        "statuses": {
            str(row.registration.id): row.attendance.status.value if row.attendance else None
            for row in rows
        },
    }


def changes(session: Session) -> list[AttendanceChange]:
    """The session's audit trail, newest first, with who made each change."""
    return list(
        db.session.scalars(
            select(AttendanceChange)
            .where(AttendanceChange.session_id == session.id)
            .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
        )
    )


def registration_names(session: Session) -> dict[int, str]:
    rows = db.session.execute(
        select(Registration.id, Registration.full_name).where(
            Registration.event_id == session.event_id
        )
    )
    return {registration_id: name for registration_id, name in rows}


# --- reports ------------------------------------------------------------------------------


@dataclass
class GridRow:
    registration: Registration
    marks: dict[int, AttendanceStatus]  # session id → status
    attended: int
    counted_sessions: int

    @property
    def rate(self) -> int | None:
        """Percent of past sessions attended (present or late); None before the first."""
        if not self.counted_sessions:
            return None
        return round(100 * self.attended / self.counted_sessions)


@dataclass
class Grid:
    sessions: list[Session]
    past_session_ids: set[int]
    rows: list[GridRow]
    threshold: int

    def totals(self) -> dict[int, int]:
        """Per session: how many attended (present or late)."""
        return {
            s.id: sum(1 for row in self.rows if row.marks.get(s.id) in PRESENT_OR_LATE)
            for s in self.sessions
        }

    def below_threshold(self) -> list[GridRow]:
        return [row for row in self.rows if row.rate is not None and row.rate < self.threshold]


def grid(course: Course, now: datetime | None = None, user: User | None = None) -> Grid:
    """Confirmed participants × sessions (3 queries whatever their number); only sessions
    that have ended count toward the rate. With `user`, only that user's row."""
    now = now or utcnow()
    sessions = list(course.sessions)
    past = {s.id for s in sessions if s.ends_at <= now}
    query = select(Registration).where(
        Registration.event_id == course.id, Registration.status == RegistrationStatus.CONFIRMED
    )
    if user is not None:
        query = query.where(Registration.user_id == user.id)
    registrations = list(db.session.scalars(query.order_by(Registration.full_name)))
    marks: dict[int, dict[int, AttendanceStatus]] = {}
    if registrations:
        rows = db.session.execute(
            select(Attendance.registration_id, Attendance.session_id, Attendance.status)
            .join(Session, Session.id == Attendance.session_id)
            .where(
                Session.event_id == course.id,
                Attendance.registration_id.in_([r.id for r in registrations]),
            )
        )
        for registration_id, session_id, status in rows:
            marks.setdefault(registration_id, {})[session_id] = status
    grid_rows = []
    for registration in registrations:
        own = marks.get(registration.id, {})
        attended = sum(
            1 for sid, status in own.items() if sid in past and status in PRESENT_OR_LATE
        )
        grid_rows.append(GridRow(registration, own, attended, len(past)))
    return Grid(sessions, past, grid_rows, course.attendance_threshold)


def grid_table(course: Course, grid_: Grid) -> tuple[list[str], list[list]]:
    """The grid as an export's header and rows."""
    tz = course.tz
    header = [_("Participant"), _("E-mail")]
    header += [local_datetime(s.starts_at, tz, "dd.MM.yyyy HH:mm") for s in grid_.sessions]
    header += [_("Sessions attended"), _("Rate, %")]
    rows = []
    for row in grid_.rows:
        cells = [row.registration.full_name, row.registration.email]
        cells += [row.marks[s.id].label if s.id in row.marks else "" for s in grid_.sessions]
        cells += [row.attended, row.rate if row.rate is not None else ""]
        rows.append(cells)
    return header, rows
