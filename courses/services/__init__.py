"""The catalogue, course editing and enrolment rules."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from courses.models import Course, Programme, course_trainers
from courses.services import catalogue
from events.models import Registration, RegistrationStatus, Session, Visibility
from events.services import seats
from webapp.extensions import db
from webapp.models import User
from webapp.services import search_key
from webapp.transactions import unit_of_work
from webapp.types import utcnow


def courses_taught(user: User) -> Select:
    """The ids of the courses a trainer teaches (their sessions are in the personal feed)."""
    return select(course_trainers.c.course_id).where(course_trainers.c.user_id == user.id)


@dataclass
class CatalogueFilter:
    text: str = ""
    programme_id: int | None = None
    level: int | None = None
    direction: str | None = None
    format: str | None = None
    free_places: bool = False
    include_drafts: bool = False


def _first_session_start():
    return (
        select(func.min(Session.starts_at))
        .where(Session.event_id == Course.id)
        .correlate(Course)
        .scalar_subquery()
    )


def _confirmed_count():
    return (
        select(func.count(Registration.id))
        .where(
            Registration.event_id == Course.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .correlate(Course)
        .scalar_subquery()
    )


def catalogue_query(filters: CatalogueFilter) -> Select:
    """Published courses matching the filters, soonest first, courses without dates last."""
    query = select(Course)
    if not filters.include_drafts:
        query = query.where(Course.visibility == Visibility.PUBLISHED)
    for word in search_key(filters.text).split():
        query = query.where(Course.search_text.contains(word, autoescape=True))
    if filters.programme_id:
        query = query.where(Course.programme_id == filters.programme_id)
    if filters.level:
        query = query.where(Course.level == filters.level)
    if filters.direction:
        query = query.where(Course.direction == filters.direction)
    if filters.format:
        query = query.where(Course.format == filters.format)
    if filters.free_places:
        query = query.where(or_(Course.capacity.is_(None), Course.capacity > _confirmed_count()))
    starts = _first_session_start()
    return query.order_by(starts.is_(None), starts, Course.id)


@dataclass
class CourseSummary:
    """What a card or the API shows of a course, gathered for a page in constant queries."""

    course: Course
    counts: seats.SeatCounts
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    next_session: Session | None = None
    registration_closed_reason: str | None = None

    @property
    def places_left(self) -> int | None:
        return self.counts.places_left(self.course.capacity)

    @property
    def registration_open(self) -> bool:
        return self.registration_closed_reason is None


def summarise(courses: list[Course]) -> list[CourseSummary]:
    ids = [course.id for course in courses]
    counts = seats.seat_counts(ids)
    spans = {}
    if ids:
        spans = {
            row.event_id: row
            for row in db.session.execute(
                select(
                    Session.event_id,
                    func.min(Session.starts_at).label("starts_at"),
                    func.max(Session.ends_at).label("ends_at"),
                )
                .where(Session.event_id.in_(ids))
                .group_by(Session.event_id)
            )
        }
    now = utcnow()
    summaries = []
    for course in courses:
        span = spans.get(course.id)
        summaries.append(
            CourseSummary(
                course=course,
                counts=counts.get(course.id, seats.SeatCounts()),
                starts_at=span.starts_at if span else None,
                ends_at=span.ends_at if span else None,
                registration_closed_reason=seats.registration_state(course, now),
            )
        )
    return summaries


def programmes() -> list[Programme]:
    return list(db.session.scalars(select(Programme).order_by(Programme.title)))


# --- editing -----------------------------------------------------------------------------


@dataclass
class CourseData:
    title: str
    description: str
    programme_id: int
    level: int
    direction: str
    format: str
    venue: str | None
    online_url: str | None
    academic_hours: int
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    visibility: str
    trainer_ids: list[int] = field(default_factory=list)


def save_course(course_id: int | None, data: CourseData) -> Course:
    """Create or update a course; a new capacity is set by the seats (a raised one promotes
    from the waiting list) in a second unit, which takes the event's lock first."""
    with unit_of_work():
        course = db.session.get(Course, course_id) if course_id else None
        creating = course is None
        course = course or Course(timezone=_default_timezone())
        old_capacity = course.capacity
        for name in (
            "title", "description", "programme_id", "level", "direction", "format", "venue",
            "online_url", "academic_hours", "registration_opens_at", "registration_closes_at",
            "visibility",
        ):  # fmt: skip
            setattr(course, name, getattr(data, name))
        course.search_text = search_key(f"{data.title} {data.description}")
        course.trainers = list(
            db.session.scalars(select(User).where(User.id.in_(data.trainer_ids or [-1])))
        )
        if creating:
            course.capacity = data.capacity
            db.session.add(course)
        catalogue.changed()
    if not creating and data.capacity != old_capacity:
        with unit_of_work():  # the seats' unit joins this one: the stamp moves with it
            seats.set_capacity(course.id, data.capacity)
            catalogue.changed()
    return course


COURSE_RULES = (
    "attendance_threshold", "code_step_seconds", "refuse_same_ip",  # attendance settings
    "min_attendance_rate", "requires_materials", "requires_tasks", "requires_signoff",
)  # fmt: skip


def save_course_rules(course_id: int, rules: dict) -> None:
    """Save a course's attendance settings or completion rules (names in COURSE_RULES)."""
    unknown = set(rules) - set(COURSE_RULES)
    if unknown:
        raise ValueError(f"not a course rule: {sorted(unknown)}")
    with unit_of_work():
        course = db.session.get(Course, course_id)
        for name, value in rules.items():
            setattr(course, name, value)


def _default_timezone() -> str:
    return current_app.config["TROPA_TIMEZONE"]


def save_programme(programme_id: int | None, title: str, description: str) -> Programme:
    with unit_of_work():
        programme = (db.session.get(Programme, programme_id) if programme_id else None) or (
            Programme()
        )
        programme.title = title.strip()
        programme.description = description
        db.session.add(programme)
        catalogue.changed()
    return programme


def delete_session(session_id: int) -> None:
    with unit_of_work():
        session = db.session.get(Session, session_id)
        if session is not None:
            db.session.delete(session)
            catalogue.changed()


# --- enrolment ---------------------------------------------------------------------------


def enrol(course: Course, user: User) -> seats.RegisterResult:
    """Enrol the user; the confirmation (or waiting-list) mail is queued with it, in the
    seats' unit (its own, or the caller's when there is one)."""
    return seats.register(
        course.id,
        full_name=user.full_name,
        email=user.email,
        user_id=user.id,
        mail_ticket=True,
    )


def cancel(registration_id: int) -> list[Registration]:
    """Cancel an enrolment (and promote from the waiting list), in the seats' unit."""
    return seats.cancel(registration_id)


def my_registration(course: Course, user: User) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == course.id,
            Registration.user_id == user.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )


@dataclass
class LearningRow:
    registration: Registration
    course: Course
    next_session: Session | None
    waitlist_position: int | None


def my_learning(user: User) -> list[LearningRow]:
    """The user's courses with status, next session and waiting-list place, in 3 queries."""
    registrations = list(
        db.session.execute(
            select(Registration, Course)
            .join(Course, Course.id == Registration.event_id)
            .where(
                Registration.user_id == user.id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .order_by(Registration.created_at.desc())
        ).tuples()
    )
    positions = seats.waitlist_positions(r.id for r, _ in registrations)
    next_sessions = _next_sessions([course.id for _, course in registrations])
    return [
        LearningRow(
            registration, course, next_sessions.get(course.id), positions.get(registration.id)
        )
        for registration, course in registrations
    ]


def _next_sessions(event_ids: list[int]) -> dict[int, Session]:
    if not event_ids:
        return {}
    now = utcnow()
    first_upcoming = (
        select(Session.event_id, func.min(Session.starts_at).label("starts_at"))
        .where(Session.event_id.in_(event_ids), Session.ends_at >= now)
        .group_by(Session.event_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(Session).join(
            first_upcoming,
            and_(
                Session.event_id == first_upcoming.c.event_id,
                Session.starts_at == first_upcoming.c.starts_at,
            ),
        )
    )
    return {session.event_id: session for session in rows}


def enrolment_list(course: Course, status: str | None = None) -> Select:
    """Registrations with the person and organisation, for the organiser's list and export."""
    query = (
        select(Registration)
        .options(joinedload(Registration.user))  # the user's organisation is joined too
        .where(Registration.event_id == course.id)
        .order_by(Registration.status, Registration.queue_number)
    )
    if status:
        query = query.where(Registration.status == status)
    return query


def courses_taught_by(user: User) -> list[Course]:
    return list(
        db.session.scalars(
            select(Course)
            .where(Course.trainers.any(User.id == user.id))
            .options(selectinload(Course.sessions))
            .order_by(Course.title)
        )
    )
