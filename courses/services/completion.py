"""Has a participant completed a course? The course's rules, checked for one registration or
for all of a course at once (constant queries), with the reasons still missing.

Rules (Course columns, each optional): attendance of past sessions at least
`min_attendance_rate` percent — "present" and "late" count as attended, "absent" and
"excused" do not, and a past session with no mark counts as missed; every required material
complete (`requires_materials`, tasks excepted); every required task accepted
(`requires_tasks`); the trainer's sign-off (`requires_signoff`). Hidden materials never
count. The first time all rules are met the date is recorded (CourseCompletion.completed_at)
and kept; the certificates issue reads it.

Reading a state never writes (pages show a completion reached just now as complete); the
date is recorded by `record_completions`, in the unit of the change that brought it (a
task accepted, a sign-off, a material done), when certificates are issued, and by the
worker for completions that time alone brought (a session ended).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import AnswerStatus, CompletionRule, Course, CourseCompletion, MaterialKind
from courses.services import materials as learning
from courses.services.materials import course_lock
from events.models import PRESENT_OR_LATE, Attendance, Registration, Session
from webapp import signals
from webapp.extensions import db
from webapp.models import User
from webapp.transactions import unit_of_work
from webapp.types import utcnow

_NAMED_AT_MOST = 3  # missing items named in a reason; the rest are counted


@dataclass
class CompletionState:
    complete: bool
    reasons: list[str] = field(default_factory=list)
    attendance_rate: int | None = None  # percent of past sessions, None before any
    signed_off_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def summary(self) -> str:
        """'attendance 60% of 75% required; task «…» not accepted'."""
        return "; ".join(self.reasons)


def completion_state(registration: Registration) -> CompletionState:
    course = db.session.get(Course, registration.event_id)
    return completion_states(course, [registration])[registration.id]


def completion_states(
    course: Course, registrations: list[Registration] | None = None
) -> dict[int, CompletionState]:
    """Every given registration's state (default: the confirmed ones), keyed by its id, in
    a constant number of queries; reads only."""
    return _states(course, registrations)[0]


def record_completions(
    course: Course, registrations: list[Registration] | None = None
) -> dict[int, CompletionState]:
    """completion_states, recording the date of the completions reached just now (and
    telling the course_completed receivers), in the caller's unit or its own."""
    return _record(course, registrations)[0]


def _record(
    course: Course, registrations: list[Registration] | None
) -> tuple[dict[int, CompletionState], int]:
    """The states, and how many completions were recorded now."""
    with unit_of_work(lock=course_lock(course.id)):
        states, newly_complete = _states(course, registrations)
        if not newly_complete:
            return states, 0
        records = {
            c.registration_id: c
            for c in db.session.scalars(
                select(CourseCompletion).where(CourseCompletion.registration_id.in_(newly_complete))
            )
        }
        for registration_id, completed_at in newly_complete.items():
            states[registration_id].completed_at = completed_at
            if registration_id not in records:
                records[registration_id] = CourseCompletion(registration_id=registration_id)
                db.session.add(records[registration_id])
            records[registration_id].completed_at = completed_at
        db.session.flush()
        signals.course_completed.send(None, completions=[records[r] for r in newly_complete])
    return states, len(newly_complete)


def _states(
    course: Course, registrations: list[Registration] | None
) -> tuple[dict[int, CompletionState], dict[int, datetime]]:
    """The states, and when the completions not recorded yet were reached (now)."""
    if registrations is None:
        registrations = learning.confirmed_registrations(course)
    ids = [r.id for r in registrations]
    if not ids:
        return {}, {}
    now = utcnow()
    past_sessions = db.session.scalar(
        select(func.count(Session.id)).where(Session.event_id == course.id, Session.ends_at <= now)
    )
    attended = dict(
        db.session.execute(
            select(Attendance.registration_id, func.count(Attendance.id))
            .join(Session, Session.id == Attendance.session_id)
            .where(
                Attendance.registration_id.in_(ids),
                Session.event_id == course.id,
                Session.ends_at <= now,
                Attendance.status.in_(PRESENT_OR_LATE),
            )
            .group_by(Attendance.registration_id)
        ).all()
    )
    visible = [m for _module, items in learning.visible_modules(learning.modules_of(course))
               for m in items if m.required]  # fmt: skip
    progress, answers = learning.progress_maps(course, ids)
    records = {
        c.registration_id: c
        for c in db.session.scalars(
            select(CourseCompletion).where(CourseCompletion.registration_id.in_(ids))
        )
    }
    states = {}
    newly_complete: dict[int, datetime] = {}
    for registration in registrations:
        record = records.get(registration.id)
        rate = (
            round(100 * attended.get(registration.id, 0) / past_sessions) if past_sessions else None
        )
        reasons = []
        if course.min_attendance_rate:
            if rate is None:
                reasons.append(_("no sessions have been held yet"))
            elif rate < course.min_attendance_rate:
                reasons.append(
                    _("attendance %(rate)s%% of %(required)s%% required",
                      rate=rate, required=course.min_attendance_rate)
                )  # fmt: skip
        key = registration.id
        if course.requires_materials:
            missing = [
                m.title for m in visible
                if m.kind != MaterialKind.TASK and m.completion != CompletionRule.NONE
                and not learning.material_complete(m, progress.get((key, m.id)), None)
            ]  # fmt: skip
            if missing:
                reasons.append(_("not complete: %(items)s", items=_name_some(missing)))
        if course.requires_tasks:
            missing = [
                m.title for m in visible
                if m.kind == MaterialKind.TASK and not _accepted(answers.get((key, m.id)))
            ]  # fmt: skip
            if missing:
                reasons.append(_("tasks not accepted: %(items)s", items=_name_some(missing)))
        signed_off_at = record.signed_off_at if record else None
        if course.requires_signoff and not signed_off_at:
            reasons.append(_("no trainer's sign-off"))
        state = CompletionState(
            complete=not reasons,
            reasons=reasons,
            attendance_rate=rate,
            signed_off_at=signed_off_at,
            completed_at=record.completed_at if record else None,
        )
        if state.complete and state.completed_at is None:
            newly_complete[registration.id] = now
        states[registration.id] = state
    return states, newly_complete


# How often a worker process looks for completions that time alone brought, and how far
# back a course's last session may have ended for it to be looked at.
TIME_CHECK_EVERY = timedelta(minutes=5)
TIME_CHECK_WINDOW = timedelta(days=14)
_next_time_check: dict[str, datetime] = {}  # this process's next look (a throttle, no state)


def record_completions_by_time(_sender=None) -> int:
    """worker_tick: record the completions a session's end brought (an attendance rate
    reached without any other change) in courses whose sessions ended lately; returns how
    many it recorded. Looks every few minutes, not at every tick."""
    now = utcnow()
    if _next_time_check.get("at", now) > now:
        return 0
    _next_time_check["at"] = now + TIME_CHECK_EVERY
    course_ids = list(
        db.session.scalars(
            select(Session.event_id)
            .join(Course, Course.id == Session.event_id)
            .where(Session.ends_at <= now, Session.ends_at > now - TIME_CHECK_WINDOW)
            .distinct()
        )
    )
    return sum(_record(db.session.get(Course, course_id), None)[1] for course_id in course_ids)


def _accepted(answer) -> bool:
    return answer is not None and answer.status == AnswerStatus.ACCEPTED


def _name_some(titles: list[str]) -> str:
    named = ", ".join(f"«{title}»" for title in titles[:_NAMED_AT_MOST])
    rest = len(titles) - _NAMED_AT_MOST
    return named + (_(" and %(count)s more", count=rest) if rest > 0 else "")


def sign_off(registration: Registration, trainer: User, signed: bool = True) -> None:
    """The trainer's sign-off, or its withdrawal (a completion date already recorded stays);
    a completion it brings is recorded with it."""
    registration_id, course_id, trainer_id = registration.id, registration.event_id, trainer.id
    with unit_of_work(lock=course_lock(course_id)):
        record = db.session.get(CourseCompletion, registration_id)
        if record is None:
            record = CourseCompletion(registration_id=registration_id)
            db.session.add(record)
        record.signed_off_at = utcnow() if signed else None
        record.signed_off_by_id = trainer_id if signed else None
        db.session.flush()
        course = db.session.get(Course, course_id)
        record_completions(course, [db.session.get(Registration, registration_id)])
