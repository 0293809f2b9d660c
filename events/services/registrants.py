"""The organiser's registrant list of an event: search and filters, the page's details in a
constant number of queries, editing, and the CSV/XLSX export. The CSV import of a prepared
list is events.services.registrant_import."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, exists, func, literal, select
from sqlalchemy.orm import joinedload

from events.models import (
    PRESENT_OR_LATE,
    Answer,
    Attendance,
    AttendanceStatus,
    Event,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
)
from events.services import seats
from events.services.registration import YES_NO_LABELS, answer_text
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.filters import local_datetime
from webapp.models import search_key
from webapp.services import normalise_email

Status = RegistrationStatus

# The question kinds the list can filter by: those with a fixed set of answers.
FILTERABLE_KINDS = (QuestionKind.CHOICE, QuestionKind.MULTIPLE, QuestionKind.YESNO)


def answer_options(question: Question) -> list[tuple[str, str]]:
    """(stored value, label) of each answer a choice or yes/no question can have."""
    if question.kind == QuestionKind.YESNO:
        return [(value, str(label)) for value, label in YES_NO_LABELS.items()]
    return [(choice, choice) for choice in question.choices]


def export_answer_text(question: Question, value: str) -> str:
    """An answer in an export cell: several choices joined by "; " (a choice may hold a
    comma), the rest as people read it."""
    if question.kind == QuestionKind.MULTIPLE:
        return "; ".join(value.splitlines())
    return answer_text(question, value)


# --- the list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrantFilter:
    text: str = ""
    status: Status | None = None
    checked_in: bool | None = None
    question_id: int | None = None
    answer: str | None = None


def _is_checked_in():
    return exists().where(
        Attendance.registration_id == Registration.id, Attendance.status.in_(PRESENT_OR_LATE)
    )


def search_words(text: str) -> list[str]:
    """The words to look for; a phone-like word as bare digits ("+7 (912)" finds 7912...)."""
    words = []
    for word in search_key(text).split():
        digits = "".join(c for c in word if c.isdigit())
        looks_like_phone = digits and all(c.isdigit() or c in "+()-." for c in word)
        words.append(digits if looks_like_phone else word)
    return words


def registrant_query(event_id: int, wanted: RegistrantFilter) -> Select:
    """The event's registrations that match, in order of registration."""
    query = (
        select(Registration)
        .where(Registration.event_id == event_id)
        .options(joinedload(Registration.organisation))
        .order_by(Registration.id)
    )
    for word in search_words(wanted.text):
        query = query.where(Registration.search_text.contains(word, autoescape=True))
    if wanted.status:
        query = query.where(Registration.status == wanted.status)
    if wanted.checked_in is not None:
        query = query.where(_is_checked_in() if wanted.checked_in else ~_is_checked_in())
    if wanted.question_id and wanted.answer:
        # Several choices are stored one a line: look for the whole line.
        lines = literal("\n") + Answer.value + literal("\n")
        query = query.where(
            exists().where(
                Answer.registration_id == Registration.id,
                Answer.question_id == wanted.question_id,
                lines.contains(f"\n{wanted.answer}\n", autoescape=True),
            )
        )
    return query


@dataclass(frozen=True)
class RegistrantCounts:
    by_status: dict[Status, int]
    checked_in: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def registrant_counts(event_id: int) -> RegistrantCounts:
    """Registrations per status and how many were checked in, in one query."""
    rows = db.session.execute(
        select(
            Registration.status,
            func.count(),
            func.coalesce(func.sum(case((_is_checked_in(), 1), else_=0)), 0),
        )
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    ).all()
    return RegistrantCounts(
        by_status={status: rows_count for status, rows_count, _ in rows},
        checked_in=sum(checked for *_, checked in rows),
    )


@dataclass(frozen=True)
class RegistrantDetails:
    """What the rows of a page or an export show beside the registration itself."""

    answers: dict[int, dict[int, str]]  # registration id → question id → stored value
    attendance: dict[int, dict[int, Attendance]]  # registration id → session id → mark
    positions: dict[int, int]  # registration id → place on the waiting list

    def _check_ins(self, registration_id: int) -> list[Attendance]:
        marks = self.attendance.get(registration_id, {}).values()
        return [mark for mark in marks if mark.status in PRESENT_OR_LATE]

    def checked_in_at(self, registration_id: int) -> datetime | None:
        """When the person was first checked in (present or late), or None."""
        return min((mark.marked_at for mark in self._check_ins(registration_id)), default=None)

    def sessions_checked_in(self, registration_id: int) -> int:
        return len(self._check_ins(registration_id))


def registrant_details(
    event_id: int, registrations: list[Registration] | None = None
) -> RegistrantDetails:
    """Answers, attendance and waiting-list places of the given registrations (a page), or
    of all the event's (an export): one query each, however many rows."""
    if registrations is None:
        wanted = Registration.event_id == event_id
    else:
        wanted = Registration.id.in_([registration.id for registration in registrations])
    answers: dict[int, dict[int, str]] = defaultdict(dict)
    for answer in db.session.scalars(select(Answer).join(Registration).where(wanted)):
        answers[answer.registration_id][answer.question_id] = answer.value
    attendance: dict[int, dict[int, Attendance]] = defaultdict(dict)
    for mark in db.session.scalars(select(Attendance).join(Registration).where(wanted)):
        attendance[mark.registration_id][mark.session_id] = mark
    if registrations is None:
        # The whole waiting list: its order is the queue.
        queue = db.session.scalars(
            select(Registration.id)
            .where(wanted, Registration.status == Status.WAITLISTED)
            .order_by(Registration.queue_number)
        )
        positions = {registration_id: place for place, registration_id in enumerate(queue, 1)}
    else:
        positions = seats.waitlist_positions(
            r.id for r in registrations if r.status == Status.WAITLISTED
        )
    return RegistrantDetails(
        answers=dict(answers), attendance=dict(attendance), positions=positions
    )


# --- editing -----------------------------------------------------------------------------


class RegistrantError(ServiceError):
    """A change the rules refuse; `field` names the form field to show it at."""

    MESSAGES = {"email_taken": _l("Another registration for this event has this e-mail.")}


@dataclass
class RegistrantChanges:
    full_name: str
    email: str
    phone: str | None
    answers: dict[int, str]  # question id → stored value; "" removes the answer


def update_registrant(registration_id: int, changes: RegistrantChanges) -> Registration:
    """Save an organiser's edit, under the event's lock so that no registration with the
    same e-mail slips in between the check and the write."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise seats.RegistrationRefused("not_found")
    with seats.event_lock(registration.event_id) as event:
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        email = normalise_email(changes.email)
        taken = db.session.scalar(
            select(Registration.id).where(
                Registration.event_id == event.id,
                Registration.email == email,
                Registration.id != registration.id,
            )
        )
        if taken:
            raise RegistrantError("email_taken", field="email")
        registration.full_name = changes.full_name.strip()
        registration.email = email
        registration.phone = (changes.phone or "").strip() or None
        own_questions = {question.id for question in event.questions}
        current = {answer.question_id: answer for answer in registration.answers}
        for question_id, value in changes.answers.items():
            if question_id not in own_questions:
                continue
            if value:
                answer = current.get(question_id)
                if answer is None:
                    answer = Answer(question_id=question_id)
                    registration.answers.append(answer)
                answer.value = value
            elif question_id in current:
                registration.answers.remove(current[question_id])
    return registration


# --- export ------------------------------------------------------------------------------

# Sortable in a spreadsheet, in any language.
_TIME_PATTERN = "yyyy-MM-dd HH:mm"


def export_table(event: Event) -> tuple[list[str], list[list]]:
    """Every registration of the event with its answers and check-in times, in the event's
    time zone: one column a question, one check-in column a session (one if there is one)."""
    tz = event.tz
    questions = list(event.questions)
    sessions = list(event.sessions)
    registrations = db.session.scalars(registrant_query(event.id, RegistrantFilter())).all()
    details = registrant_details(event.id)
    # Written out (not looked up from a tuple of keys) so the message extractor finds them.
    header = [
        _l("Full name"), _l("E-mail"), _l("Phone"), _l("Status"), _l("Waiting list"),
        _l("Organisation"), _l("Organisation type"), _l("INN"),
    ]  # fmt: skip
    header += [question.label for question in questions]
    header.append(_l("Registered at"))
    if len(sessions) > 1:
        header += [
            _l("Checked in: %(session)s", session=local_datetime(s.starts_at, tz, _TIME_PATTERN))
            for s in sessions
        ]
    else:
        header.append(_l("Checked in at"))

    def mark_text(mark: Attendance | None) -> str | None:
        if mark is None:
            return None
        if mark.status not in PRESENT_OR_LATE:
            return mark.status.label
        at = local_datetime(mark.marked_at, tz, _TIME_PATTERN)
        return f"{at} ({mark.status.label})" if mark.status == AttendanceStatus.LATE else at

    rows = []
    for registration in registrations:
        organisation = registration.organisation
        answers = details.answers.get(registration.id, {})
        marks = details.attendance.get(registration.id, {})
        row = [
            registration.full_name,
            registration.email,
            registration.phone,
            registration.status.label,
            details.positions.get(registration.id),
            organisation.name if organisation else None,
            organisation.type.label if organisation else None,
            organisation.inn if organisation else None,
        ]
        row += [
            export_answer_text(q, answers[q.id]) if q.id in answers else None for q in questions
        ]
        row.append(local_datetime(registration.created_at, tz, _TIME_PATTERN))
        if len(sessions) > 1:
            row += [mark_text(marks.get(session.id)) for session in sessions]
        else:
            row.append(mark_text(next(iter(marks.values()), None)))
        rows.append(row)
    return [str(title) for title in header], rows
