"""Organisers' changes to outreach events: the event, its agenda, its registration
questions, and cancelling it."""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from events.models import Event, Question, QuestionKind, Session
from events.services import seats
from webapp.extensions import db
from webapp.models import Role, User, UserRole, search_key
from webapp.types import utcnow


class EditRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


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
    event = event or Event(kind="event")
    old_capacity = event.capacity
    for name in _PLAIN_FIELDS:
        setattr(event, name, getattr(data, name))
    event.search_text = search_key(f"{data.title} {data.description}")
    event.staff = list(db.session.scalars(select(User).where(User.id.in_(data.staff_ids or [-1]))))
    if data.starts_at and data.ends_at and len(event.sessions) <= 1:
        session = event.sessions[0] if event.sessions else Session()
        session.starts_at, session.ends_at = data.starts_at, data.ends_at
        if not event.sessions:
            event.sessions.append(session)
    if creating:
        event.capacity = data.capacity
        db.session.add(event)
    db.session.commit()
    if not creating and data.capacity != old_capacity:
        seats.set_capacity(event.id, data.capacity)
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
    if event.cancelled_at is None:
        event.cancelled_at = utcnow()
        db.session.commit()


# --- agenda ------------------------------------------------------------------------------


def save_session(
    event: Event, session: Session | None, starts_at: datetime, ends_at: datetime, room: str
) -> Session:
    session = session or Session(event_id=event.id)
    session.starts_at, session.ends_at = starts_at, ends_at
    session.room = room.strip() or None
    db.session.add(session)
    db.session.commit()
    return session


def delete_session(event: Event, session: Session) -> None:
    """Remove an agenda session (and its attendance marks); the last one stays."""
    if len(event.sessions) <= 1:
        raise EditRefused(
            _l("An event keeps at least one session: change its dates in the event's form.")
        )
    db.session.delete(session)
    db.session.commit()


def set_session_cancelled(session: Session, cancelled: bool) -> None:
    """Cancel a session or bring it back. It stays in calendars as STATUS:CANCELLED (so
    clients remove it) and its pending reminders are dropped: both follow `cancelled_at`
    through the session hooks of events.services.notifications."""
    session.cancelled_at = utcnow() if cancelled else None
    db.session.commit()


# --- registration questions ----------------------------------------------------------------


@dataclass
class QuestionData:
    label: str
    kind: str
    required: bool
    options: str  # one choice a line; only choice kinds keep them


def save_question(event: Event, question: Question | None, data: QuestionData) -> Question:
    if question is None:
        question = Question(event_id=event.id, position=len(event.questions))
        event.questions.append(question)
    question.label = data.label.strip()
    question.kind = QuestionKind(data.kind)
    question.required = data.required
    has_choices = question.kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE)
    question.options = "\n".join(_choices(data.options)) if has_choices else ""
    db.session.commit()
    return question


def _choices(text: str) -> list[str]:
    """The lines of an options box, stripped, blank lines and repeats dropped."""
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def delete_question(event: Event, question: Question) -> None:
    """Remove a question with its answers; the others close the gap."""
    event.questions.remove(question)
    _renumber(event.questions)
    db.session.commit()


def move_question(event: Event, question: Question, step: int) -> None:
    """Move a question one place up (step -1) or down (+1) the form."""
    questions = list(event.questions)
    here = questions.index(question)
    there = here + step
    if 0 <= there < len(questions):
        questions[here], questions[there] = questions[there], questions[here]
        _renumber(questions)
        db.session.commit()


def _renumber(questions: list[Question]) -> None:
    for position, question in enumerate(questions):
        question.position = position
