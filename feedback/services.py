"""Feedback rules: building forms (or taking one from the library), inviting attendees after
the session or event, taking one answer per person, and the results.

Definitions the results pages and the dashboard share:
- *response rate*: invitations answered / invitations sent;
- *average satisfaction*: the mean of every 1–5 rating answer;
- *NPS* of a 0–10 question: % of 9–10 ("promoters") minus % of 0–6 ("detractors").
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from events.models import (
    Attendance,
    AttendanceStatus,
    Event,
    Registration,
    RegistrationStatus,
    Session,
)
from feedback.models import (
    FeedbackAnswer,
    FeedbackForm,
    FeedbackInvitation,
    FeedbackKind,
    FeedbackQuestion,
    FeedbackResponse,
)
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import Role, User
from webapp.services import SECRET_ALPHABET, random_secret
from webapp.transactions import end_read, unit_of_work
from webapp.types import utcnow

ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
INVITE_BATCH = 100
INVITATION_MAIL = "feedback/mail/invitation"
MAX_TEXT = 4000


class FeedbackError(ServiceError):
    MESSAGES = {
        "unknown": _l("This feedback link is not valid."),
        "closed": _l("This form is closed: answers are no longer taken."),
        "inactive": _l("This form is not open yet."),
        "already_answered": _l("Answers to an anonymous form cannot be changed once sent."),
        "required": _l("Please answer this question."),
        "bad_choice": _l("Choose one of the offered answers."),
        "bad_rating": _l("Choose a mark on the scale."),
        "too_long": _l("The answer is too long."),
        "title": _l("Give the form a title."),
        "label": _l("Write the question."),
        "options": _l("Give at least two choices, one per line."),
        "has_answers": _l("The form already has answers: its questions cannot change now."),
        "no_questions": _l("Add at least one question before opening the form."),
        "session": _l("Choose a session of this event."),
        "template": _l("Choose a template from the library."),
        "no_question": _l("This question is not in the form."),
    }


# --- the template library ------------------------------------------------------------------

K = FeedbackKind
TEMPLATES = {
    "session_satisfaction": (
        _l("Session satisfaction"),
        [
            (_l("How satisfied are you with the session overall?"), K.RATING5, "", True),
            (_l("How useful was the content for your work?"), K.RATING5, "", True),
            (_l("How clearly did the trainer explain?"), K.RATING5, "", True),
            (_l("Was the pace right?"), K.CHOICE, "too_slow\nright\ntoo_fast", False),
            (_l("What should we improve?"), K.TEXT, "", False),
        ],
    ),
    "event_nps": (
        _l("Event NPS"),
        [
            (_l("How likely are you to recommend this event to a colleague?"), K.RATING10, "",
             True),
            (_l("How satisfied are you with the event overall?"), K.RATING5, "", True),
            (_l("What did you like most?"), K.TEXT, "", False),
        ],
    ),
    "course_end": (
        _l("Course end survey"),
        [
            (_l("How satisfied are you with the course overall?"), K.RATING5, "", True),
            (_l("How likely are you to recommend the course to a colleague?"), K.RATING10, "",
             True),
            (_l("Did the course help you move your project forward?"), K.YESNO, "", True),
            (_l("Which parts were the most useful?"), K.MULTIPLE,
             "lectures\npractice\nconsultations\nmaterials", False),
            (_l("What changed for you or your organisation after the course?"), K.TEXT, "",
             False),
        ],
    ),
}  # fmt: skip
# Choices of the library's questions are stored as these keys, shown translated.
CHOICE_LABELS = {
    "too_slow": _l("Too slow"),
    "right": _l("Just right"),
    "too_fast": _l("Too fast"),
    "lectures": _l("Lectures"),
    "practice": _l("Practice"),
    "consultations": _l("Consultations"),
    "materials": _l("Materials"),
    "yes": _l("Yes"),
    "no": _l("No"),
}


def choice_label(value: str) -> str:
    return str(CHOICE_LABELS.get(value, value))


# --- who may do what -----------------------------------------------------------------------


def may_manage(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.ORGANISER)


def may_see_results(user: User, form: FeedbackForm) -> bool:
    """Organisers, and the trainers and staff of the form's course or event."""
    return user.is_authenticated and (may_manage(user) or form.event.is_staff(user))


# --- building forms ------------------------------------------------------------------------


@dataclass
class FormData:
    title: str
    intro: str = ""
    anonymous: bool = False
    closes_on: date | None = None
    session_id: int | None = None


@dataclass
class QuestionData:
    label: str
    kind: str
    options: str = ""
    required: bool = False


def _check_form(event: Event, data: FormData) -> None:
    if not data.title.strip():
        raise FeedbackError("title", field="title")
    if data.session_id is not None and data.session_id not in {s.id for s in event.sessions}:
        raise FeedbackError("session", field="session_id")


def create_form(event_id: int, data: FormData, creator: User, template: str | None = None):
    """A new form (inactive: the organiser opens it when its questions are ready), empty or
    with the library template's questions."""
    if template is not None and template not in TEMPLATES:
        raise FeedbackError("template", field="template")
    with unit_of_work():
        event = db.session.get(Event, event_id)
        _check_form(event, data)
        form = FeedbackForm(
            event_id=event.id,
            title=data.title.strip(),
            intro=data.intro.strip(),
            anonymous=data.anonymous,
            closes_on=data.closes_on,
            session_id=data.session_id,
            template=template,
            created_by_id=creator.id,
        )
        if template is not None:
            for position, (label, kind, options, required) in enumerate(TEMPLATES[template][1]):
                form.questions.append(
                    FeedbackQuestion(
                        position=position,
                        label=str(label),
                        kind=kind,
                        options=options,
                        required=required,
                    )
                )
        db.session.add(form)
    return form


def update_form(form_id: int, data: FormData) -> None:
    with unit_of_work():
        form = db.session.get(FeedbackForm, form_id, with_for_update=True)
        _check_form(form.event, data)
        if data.anonymous != form.anonymous and _has_responses(form.id):
            raise FeedbackError("has_answers", field="anonymous")
        form.title = data.title.strip()
        form.intro = data.intro.strip()
        form.anonymous = data.anonymous
        form.closes_on = data.closes_on
        form.session_id = data.session_id


def set_active(form_id: int, active: bool) -> None:
    with unit_of_work():
        form = db.session.get(FeedbackForm, form_id, with_for_update=True)
        if active and not form.questions:
            raise FeedbackError("no_questions")
        form.active = active


def _has_responses(form_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(FeedbackResponse.form_id == form_id))))


def _check_question(data: QuestionData) -> FeedbackKind:
    if not data.label.strip():
        raise FeedbackError("label", field="label")
    kind = FeedbackKind(data.kind)
    if (
        kind in (K.CHOICE, K.MULTIPLE)
        and len([line for line in data.options.splitlines() if line.strip()]) < 2
    ):
        raise FeedbackError("options", field="options")
    return kind


def save_question(form_id: int, question_id: int | None, data: QuestionData) -> None:
    """Add a question (question_id None) or change one; only while nobody has answered."""
    with unit_of_work():
        form = db.session.get(FeedbackForm, form_id, with_for_update=True)
        if _has_responses(form.id):
            raise FeedbackError("has_answers")
        kind = _check_question(data)
        if question_id is None:
            question = FeedbackQuestion(position=len(form.questions))
            form.questions.append(question)
        else:
            question = _question_of(form, question_id)
        question.label = data.label.strip()
        question.kind = kind
        question.options = "\n".join(
            line.strip() for line in data.options.splitlines() if line.strip()
        )
        question.required = data.required


def delete_question(form_id: int, question_id: int) -> None:
    with unit_of_work():
        form = db.session.get(FeedbackForm, form_id, with_for_update=True)
        if _has_responses(form.id):
            raise FeedbackError("has_answers")
        form.questions.remove(_question_of(form, question_id))
        for position, question in enumerate(form.questions):
            question.position = position


def _question_of(form: FeedbackForm, question_id: int) -> FeedbackQuestion:
    for question in form.questions:
        if question.id == question_id:
            return question
    raise FeedbackError("no_question")


def forms_of_event(event_id: int) -> list[FeedbackForm]:
    return list(
        db.session.scalars(
            select(FeedbackForm)
            .where(FeedbackForm.event_id == event_id)
            .options(joinedload(FeedbackForm.session))
            .order_by(FeedbackForm.created_at, FeedbackForm.id)
        )
    )


def all_forms() -> list[tuple[FeedbackForm, int, int]]:
    """Every form, newest first, with (invited, answered)."""
    counts = _invitation_counts().subquery()
    rows = db.session.execute(
        select(FeedbackForm, counts.c.invited, counts.c.answered)
        .outerjoin(counts, counts.c.form_id == FeedbackForm.id)
        .options(joinedload(FeedbackForm.event), joinedload(FeedbackForm.session))
        .order_by(FeedbackForm.created_at.desc(), FeedbackForm.id.desc())
    )
    return [(form, invited or 0, answered or 0) for form, invited, answered in rows]


def _invitation_counts():
    return select(
        FeedbackInvitation.form_id,
        func.count().label("invited"),
        func.count().filter(FeedbackInvitation.responded.is_(True)).label("answered"),
    ).group_by(FeedbackInvitation.form_id)


# --- open, closed ------------------------------------------------------------------------


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def is_closed(form: FeedbackForm) -> bool:
    """Answers are taken until the end of closes_on in the event's zone."""
    return form.closes_on is not None and form.closes_on < today_in(form.event.timezone)


# --- invitations (the mail worker) -----------------------------------------------------


def _ended_sessions_condition(now: datetime):
    """The attendance rows that invite to a form: at the form's session once it ended, or at
    any session of the form's event once its last (not cancelled) session ended."""
    later = aliased(Session)
    event_over = ~exists().where(
        later.event_id == FeedbackForm.event_id,
        later.cancelled_at.is_(None),
        later.ends_at > now,
    )
    return (
        and_(FeedbackForm.session_id.is_not(None), Attendance.session_id == FeedbackForm.session_id,
             Session.ends_at <= now)
        | and_(FeedbackForm.session_id.is_(None), Session.event_id == FeedbackForm.event_id,
               event_over)
    )  # fmt: skip


def due_invitations(now: datetime, limit: int):
    """(form, registration) pairs to invite: active and not closed forms, people marked
    present or late, still registered, not yet invited."""
    return (
        select(FeedbackForm.id, Registration.id)
        .select_from(FeedbackForm)
        .join(Session, Session.event_id == FeedbackForm.event_id)
        .join(Attendance, Attendance.session_id == Session.id)
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(
            FeedbackForm.active.is_(True),
            (FeedbackForm.closes_on.is_(None)) | (FeedbackForm.closes_on >= now.date()),
            Attendance.status.in_(ATTENDED),
            Registration.status == RegistrationStatus.CONFIRMED,
            _ended_sessions_condition(now),
            ~exists().where(
                FeedbackInvitation.form_id == FeedbackForm.id,
                FeedbackInvitation.registration_id == Registration.id,
            ),
        )
        .group_by(FeedbackForm.id, Registration.id)
        .order_by(FeedbackForm.id, Registration.id)
        .limit(limit)
    )


def invite_attendees(_sender=None, limit: int = INVITE_BATCH, now: datetime | None = None) -> int:
    """Worker tick: invite a batch of attendees whose session or event has ended; each gets
    one invitation per form, its mail queued in the outbox in the same unit. Returns how
    many were invited (0 when nobody is due).

    The active forms' rows are locked first (PostgreSQL), so two workers take turns and
    nobody is invited twice; SQLite has one writer anyway."""
    now = now or utcnow()
    # a read first: most ticks find nobody due and need no writer's turn (SQLite's one lock)
    nobody_due = db.session.execute(due_invitations(now, 1)).first() is None
    end_read()
    if nobody_due:
        return 0

    def lock_forms():
        db.session.execute(
            select(FeedbackForm.id).where(FeedbackForm.active.is_(True)).with_for_update()
        )

    with unit_of_work(lock=lock_forms):
        pairs = db.session.execute(due_invitations(now, limit)).all()
        if not pairs:
            return 0
        forms = {
            form.id: form
            for form in db.session.scalars(
                select(FeedbackForm)
                .where(FeedbackForm.id.in_({form_id for form_id, _ in pairs}))
                .options(joinedload(FeedbackForm.event))
            )
        }
        registrations = {
            registration.id: registration
            for registration in db.session.scalars(
                select(Registration)
                .where(Registration.id.in_({reg_id for _, reg_id in pairs}))
                .options(joinedload(Registration.user))
            )
        }
        for form_id, registration_id in pairs:
            invite(forms[form_id], registrations[registration_id])
    return len(pairs)


def invite(form: FeedbackForm, registration: Registration) -> FeedbackInvitation:
    """One invitation and its mail, inside the caller's unit."""
    invitation = FeedbackInvitation(
        form_id=form.id, registration_id=registration.id, token=random_secret()
    )
    db.session.add(invitation)
    send_mail(
        registration.email,
        _l("Your feedback: %(title)s", title=form.event.title),
        INVITATION_MAIL,
        locale=registration.user.locale if registration.user else None,
        registration_id=registration.id,
        registration=registration,
        form=form,
        answer_url=answer_url(invitation.token),
    )
    return invitation


def answer_url(token: str) -> str:
    return f"{current_app.config['TROPA_BASE_URL']}/f/{token}"


def links_for(registration_ids: list[int]) -> dict[int, list[tuple[FeedbackForm, str, bool]]]:
    """The feedback links of these registrations (ticket page, My learning): registration id
    → [(form, token, answered)] of open forms, in one query."""
    if not registration_ids:
        return {}
    rows = db.session.execute(
        select(FeedbackInvitation.registration_id, FeedbackForm, FeedbackInvitation)
        .join(FeedbackForm, FeedbackForm.id == FeedbackInvitation.form_id)
        .where(FeedbackInvitation.registration_id.in_(registration_ids))
        .options(joinedload(FeedbackForm.event))
        .order_by(FeedbackInvitation.id)
    )
    links = defaultdict(list)
    for registration_id, form, invitation in rows:
        if not is_closed(form):
            links[registration_id].append((form, invitation.token, invitation.responded))
    return dict(links)


# --- answering ----------------------------------------------------------------------------


def find_invitation(token: str) -> FeedbackInvitation | None:
    token = (token or "").strip().lower()
    if not 20 <= len(token) <= 40 or not set(token) <= set(SECRET_ALPHABET):
        return None
    return db.session.scalar(
        select(FeedbackInvitation)
        .where(FeedbackInvitation.token == token)
        .options(
            joinedload(FeedbackInvitation.form).joinedload(FeedbackForm.event),
            joinedload(FeedbackInvitation.form).selectinload(FeedbackForm.questions),
        )
    )


def previous_answers(invitation: FeedbackInvitation) -> dict[int, list[str]]:
    """The person's own answers, to edit (none on an anonymous form: nothing links them)."""
    if invitation.form.anonymous:
        return {}
    rows = db.session.execute(
        select(FeedbackAnswer.question_id, FeedbackAnswer.value)
        .join(FeedbackResponse, FeedbackResponse.id == FeedbackAnswer.response_id)
        .where(FeedbackResponse.invitation_id == invitation.id)
    )
    return {question_id: value.split("\n") if value else [] for question_id, value in rows}


def may_answer(invitation: FeedbackInvitation) -> str | None:
    """Why the person cannot answer now (a FeedbackError reason), or None."""
    form = invitation.form
    if not form.active:
        return "inactive"
    if is_closed(form):
        return "closed"
    if form.anonymous and invitation.responded:
        return "already_answered"
    return None


def _clean(question: FeedbackQuestion, given: list[str]) -> tuple[str, int | None]:
    """(value, number) of one answer, or FeedbackError for the question's field."""
    given = [value.strip() for value in given if value and value.strip()]
    field_name = f"q{question.id}"
    if not given:
        if question.required:
            raise FeedbackError("required", field=field_name)
        return "", None
    if question.kind.scale:
        low, high = question.kind.scale
        if len(given) != 1 or not given[0].isdigit() or not low <= int(given[0]) <= high:
            raise FeedbackError("bad_rating", field=field_name)
        return given[0], int(given[0])
    if question.kind == K.TEXT:
        text = "\n".join(given)
        if len(text) > MAX_TEXT:
            raise FeedbackError("too_long", field=field_name)
        return text, None
    choices = question.choices
    if any(value not in choices for value in given) or (
        question.kind != K.MULTIPLE and len(given) != 1
    ):
        raise FeedbackError("bad_choice", field=field_name)
    if question.kind == K.YESNO:
        return given[0], int(given[0] == "yes")
    ordered = [choice for choice in choices if choice in given]
    return "\n".join(ordered), None


def submit_answers(token: str, given: dict[int, list[str]], on: date | None = None) -> None:
    """Record (or replace) the person's answers; every error is about one question."""
    with unit_of_work():
        invitation = find_invitation(token)
        if invitation is None:
            raise FeedbackError("unknown")
        # one answer at a time: the invitation's row is locked, then read again
        db.session.execute(
            select(FeedbackInvitation.id)
            .where(FeedbackInvitation.id == invitation.id)
            .with_for_update()
        )
        db.session.refresh(invitation, ["responded"])
        form = invitation.form
        reason = may_answer(invitation)
        if reason:
            raise FeedbackError(reason)
        cleaned = {q.id: _clean(q, given.get(q.id, [])) for q in form.questions}
        response = None
        if not form.anonymous:
            response = db.session.scalar(
                select(FeedbackResponse).where(FeedbackResponse.invitation_id == invitation.id)
            )
        if response is None:
            response = FeedbackResponse(
                form_id=form.id,
                invitation_id=None if form.anonymous else invitation.id,
                answered_on=on or today_in(form.event.timezone),
            )
            db.session.add(response)
        else:
            response.answers.clear()
            db.session.flush()
        response.answers.extend(
            FeedbackAnswer(question_id=question_id, value=value, number=number)
            for question_id, (value, number) in cleaned.items()
            if value
        )
        invitation.responded = True


def mail_samples(_sender=None) -> list:
    """The invitation on the admin's outbox page, with sample data."""
    from webapp.outbox import Preview

    return [
        Preview(
            INVITATION_MAIL,
            "Your feedback: Форум «Вместе»",
            {
                "registration": {"full_name": "Анна Смирнова"},
                "form": {"title": "Удовлетворённость занятием", "anonymous": True,
                         "closes_on": None, "event": {"title": "Форум «Вместе»"}},
                "answer_url": "https://tropa.example/f/…",
            },
        )
    ]  # fmt: skip


# --- personal data ------------------------------------------------------------------------


def _named_answers_of(user: User):
    """The person's answers on named forms (anonymous ones belong to nobody)."""
    return (
        select(FeedbackForm.title, FeedbackResponse.answered_on, FeedbackQuestion, FeedbackAnswer)
        .join(FeedbackResponse, FeedbackResponse.id == FeedbackAnswer.response_id)
        .join(FeedbackInvitation, FeedbackInvitation.id == FeedbackResponse.invitation_id)
        .join(Registration, Registration.id == FeedbackInvitation.registration_id)
        .join(FeedbackQuestion, FeedbackQuestion.id == FeedbackAnswer.question_id)
        .join(FeedbackForm, FeedbackForm.id == FeedbackResponse.form_id)
        .where(Registration.user_id == user.id)
        .order_by(FeedbackResponse.id, FeedbackQuestion.position)
    )


def export_feedback(user: User) -> dict:
    """signals.personal_data_requested: the person's named feedback answers."""
    return {
        "feedback": [
            {"form": title, "answered_on": on.isoformat(), "question": q.label, "answer": a.value}
            for title, on, q, a in db.session.execute(_named_answers_of(user))
        ]
    }


def forget_free_text(user: User) -> None:
    """signals.person_anonymised: free text may name the person; marks stay for the results."""
    for _title, _on, question, answer in db.session.execute(_named_answers_of(user)).all():
        if question.kind == K.TEXT:
            answer.value = ""
