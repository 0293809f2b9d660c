"""Organisers' changes to outreach events: the event, its agenda, its registration
questions, and cancelling it. Each is one unit of work; a session whose time, room or
cancellation changes becomes a new version for calendars (Session.sequence) and is
announced (signals.session_changed: its reminders follow)."""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from events.models import Event, EventKind, Question, QuestionKind, Session
from events.services import seats
from webapp import signals
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.models import Role, User, UserRole, search_key
from webapp.transactions import unit_of_work
from webapp.types import utcnow


class EditRefused(ServiceError):
    MESSAGES = {
        "last_session": _l(
            "An event keeps at least one session: change its dates in the event's form."
        ),
    }


def _session_saved(session: Session, before: tuple | None) -> None:
    """After a session was created (`before` None) or changed: a new version for calendar
    clients (SEQUENCE, DTSTAMP, Last-Modified) when its time, room or cancellation changed,
    announced inside the unit."""
    if before is not None:
        if before == _version_fields(session):
            return
        _new_version(session)
    db.session.flush()
    signals.session_changed.send(session)


def _new_version(session: Session) -> None:
    session.sequence = (session.sequence or 0) + 1
    session.updated_at = utcnow()


def _version_fields(session: Session) -> tuple:
    return (session.starts_at, session.ends_at, session.room, session.cancelled_at)


@dataclass
class EventData:
    title: str
    description: str
    venue: str | None
    address: str | None
    online_url: str | None
    timezone: str
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    visibility: str
    requires_approval: bool
    asks_organisation: bool
    staff_ids: list[int] = field(default_factory=list)
    municipality: str | None = None
    # The event's one session; None when an agenda of several sessions sets the times.
    starts_at: datetime | None = None
    ends_at: datetime | None = None


_PLAIN_FIELDS = (
    "title", "description", "venue", "address", "online_url", "timezone",
    "registration_opens_at", "registration_closes_at", "visibility", "requires_approval",
    "asks_organisation", "municipality",
)  # fmt: skip


def save_event(event: Event | None, data: EventData) -> Event:
    """Create or update an event; a one-session event's session follows its start and end,
    and a raised capacity promotes from the waiting list."""
    creating = event is None
    with unit_of_work():
        event = event or Event(kind=EventKind.EVENT)
        old_capacity = event.capacity
        for name in _PLAIN_FIELDS:
            setattr(event, name, getattr(data, name))
        event.search_text = search_key(f"{data.title} {data.description}")
        staff = select(User).where(User.id.in_(data.staff_ids or [-1]))
        event.staff = list(db.session.scalars(staff))
        if creating:
            event.capacity = data.capacity
            db.session.add(event)
        if data.starts_at and data.ends_at and len(event.sessions) <= 1:
            session = event.sessions[0] if event.sessions else None
            before = _version_fields(session) if session else None
            if session is None:
                session = Session()
                event.sessions.append(session)
            session.starts_at, session.ends_at = data.starts_at, data.ends_at
            _session_saved(session, before)
        if not creating and data.capacity != old_capacity:
            seats.set_capacity(event.id, data.capacity)  # joins this unit
    return event


def staff_candidates() -> list[User]:
    """Who may be given the check-in right: trainers and organisers."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role_rows.any(UserRole.role.in_([Role.TRAINER, Role.ORGANISER])),
                User.deleted_at.is_(None),
            )
            .order_by(User.full_name)
        )
    )


def cancel_event(event: Event) -> None:
    """Cancel the event: registration closes and every page says so; registrations stay,
    so the organisers still see who was coming."""
    with unit_of_work():
        if event.cancelled_at is not None:
            return
        event.cancelled_at = utcnow()
        for session in event.sessions:  # each is off now: calendars and reminders follow
            _new_version(session)
            _session_saved(session, None)


# --- agenda ------------------------------------------------------------------------------


def save_session(
    event: Event, session: Session | None, starts_at: datetime, ends_at: datetime, room: str
) -> Session:
    with unit_of_work():
        before = _version_fields(session) if session else None
        session = session or Session(event_id=event.id)
        session.starts_at, session.ends_at = starts_at, ends_at
        session.room = room.strip() or None
        db.session.add(session)
        _session_saved(session, before)
    return session


def delete_session(event: Event, session: Session) -> None:
    """Remove an agenda session (and its attendance marks); the last one stays."""
    with unit_of_work():
        if len(event.sessions) <= 1:
            raise EditRefused("last_session")
        db.session.delete(session)
        db.session.flush()
        db.session.expire(event, ["sessions"])
        # Its own reminders went with it (ON DELETE CASCADE); another item may now open
        # its day, so the event's reminders follow a remaining session.
        signals.session_changed.send(event.sessions[0])


def set_session_cancelled(session: Session, cancelled: bool) -> None:
    """Cancel a session or bring it back. It stays in calendars as STATUS:CANCELLED (so
    clients remove it) and its pending reminders are dropped: both follow `cancelled_at`
    through signals.session_changed."""
    with unit_of_work():
        before = _version_fields(session)
        if cancelled != (session.cancelled_at is not None):
            session.cancelled_at = utcnow() if cancelled else None
        _session_saved(session, before)


# --- registration questions ----------------------------------------------------------------


@dataclass
class QuestionData:
    label: str
    kind: str
    required: bool
    options: str  # one choice a line; only choice kinds keep them


def save_question(event: Event, question: Question | None, data: QuestionData) -> Question:
    with unit_of_work():
        if question is None:
            question = Question(event_id=event.id, position=len(event.questions))
            event.questions.append(question)
        question.label = data.label.strip()
        question.kind = QuestionKind(data.kind)
        question.required = data.required
        has_choices = question.kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE)
        question.options = "\n".join(_choices(data.options)) if has_choices else ""
    return question


def _choices(text: str) -> list[str]:
    """The lines of an options box, stripped, blank lines and repeats dropped."""
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def delete_question(event: Event, question: Question) -> None:
    """Remove a question with its answers; the others close the gap."""
    with unit_of_work():
        event.questions.remove(question)
        _renumber(event.questions)


def move_question(event: Event, question: Question, step: int) -> None:
    """Move a question one place up (step -1) or down (+1) the form."""
    with unit_of_work():
        questions = list(event.questions)
        here = questions.index(question)
        there = here + step
        if 0 <= there < len(questions):
            questions[here], questions[there] = questions[there], questions[here]
            _renumber(questions)


def _renumber(questions: list[Question]) -> None:
    for position, question in enumerate(questions):
        question.position = position
