"""Feedback results: a form's figures (response rate, averages, distributions, NPS, free
text) and its export, and satisfaction over time per course and per trainer — grouped
queries whose number does not grow with the answers. The definitions are in
feedback.services' docstring."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from courses.models import course_trainers
from events.models import Event, Registration
from feedback.models import (
    FeedbackAnswer,
    FeedbackForm,
    FeedbackInvitation,
    FeedbackKind,
    FeedbackQuestion,
    FeedbackResponse,
)
from feedback.services import choice_label
from webapp.extensions import db
from webapp.models import User

# --- results ---------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: FeedbackQuestion
    answered: int = 0
    average: float | None = None
    nps: int | None = None
    distribution: list[tuple[str, int]] = field(default_factory=list)  # (label, count)
    texts: list[str] = field(default_factory=list)


@dataclass
class FormResults:
    form: FeedbackForm
    invited: int
    answered: int
    responses: int
    questions: list[QuestionResult]

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None


def nps(counts: dict[int, int]) -> int | None:
    total = sum(counts.values())
    if not total:
        return None
    promoters = sum(n for mark, n in counts.items() if mark >= 9)
    detractors = sum(n for mark, n in counts.items() if mark <= 6)
    return round(100 * (promoters - detractors) / total)


def results(form: FeedbackForm, texts_limit: int = 500) -> FormResults:
    """A form's figures in four queries whatever the number of answers."""
    invited, answered = db.session.execute(
        select(
            func.count(),
            func.count().filter(FeedbackInvitation.responded.is_(True)),
        ).where(FeedbackInvitation.form_id == form.id)
    ).one()
    responses = db.session.scalar(select(func.count()).where(FeedbackResponse.form_id == form.id))
    grouped = db.session.execute(
        select(FeedbackAnswer.question_id, FeedbackAnswer.value, func.count())
        .join(FeedbackQuestion, FeedbackQuestion.id == FeedbackAnswer.question_id)
        .where(FeedbackQuestion.form_id == form.id, FeedbackQuestion.kind != FeedbackKind.TEXT)
        .group_by(FeedbackAnswer.question_id, FeedbackAnswer.value)
    )
    values: dict[int, Counter] = defaultdict(Counter)
    for question_id, value, count in grouped:
        for part in value.split("\n"):
            values[question_id][part] += count
    texts = defaultdict(list)
    for question_id, value in db.session.execute(
        select(FeedbackAnswer.question_id, FeedbackAnswer.value)
        .join(FeedbackQuestion, FeedbackQuestion.id == FeedbackAnswer.question_id)
        .where(FeedbackQuestion.form_id == form.id, FeedbackQuestion.kind == FeedbackKind.TEXT)
        .order_by(FeedbackAnswer.id.desc())
        .limit(texts_limit)
    ):
        texts[question_id].append(value)
    return FormResults(
        form=form,
        invited=invited,
        answered=answered,
        responses=responses,
        questions=[_question_result(q, values[q.id], texts[q.id]) for q in form.questions],
    )


def _question_result(question: FeedbackQuestion, counts: Counter, texts: list[str]):
    result = QuestionResult(question, texts=texts)
    if question.kind == FeedbackKind.TEXT:
        result.answered = len(texts)
        return result
    if question.kind.scale:
        low, high = question.kind.scale
        marks = {int(value): n for value, n in counts.items()}
        result.answered = sum(marks.values())
        result.distribution = [(str(mark), marks.get(mark, 0)) for mark in range(low, high + 1)]
        if result.answered:
            result.average = sum(m * n for m, n in marks.items()) / result.answered
        if question.kind == FeedbackKind.RATING10:
            result.nps = nps(marks)
        return result
    result.distribution = [(choice_label(choice), counts.get(choice, 0))
                           for choice in question.choices]  # fmt: skip
    result.answered = sum(counts.values()) if question.kind != FeedbackKind.MULTIPLE else None
    return result


def export_rows(form: FeedbackForm) -> tuple[list[str], list[list]]:
    """One row per response: (date, then each question's answer); names only on a named
    form, where the organisers may read who said what."""
    questions = form.questions
    header = [str(_l("Date"))]
    if not form.anonymous:
        header += [str(_l("Name")), str(_l("E-mail"))]
    header += [question.label for question in questions]
    query = (
        select(FeedbackResponse, Registration.full_name, Registration.email)
        .outerjoin(FeedbackInvitation, FeedbackInvitation.id == FeedbackResponse.invitation_id)
        .outerjoin(Registration, Registration.id == FeedbackInvitation.registration_id)
        .where(FeedbackResponse.form_id == form.id)
        .options(selectinload(FeedbackResponse.answers))
        .order_by(FeedbackResponse.answered_on, FeedbackResponse.id)
    )
    rows = []
    for response, name, email in db.session.execute(query):
        by_question = {answer.question_id: answer for answer in response.answers}
        row: list = [response.answered_on]
        if not form.anonymous:
            row += [name, email]
        for question in questions:
            answer = by_question.get(question.id)
            if answer is None:
                row.append(None)
            elif question.kind.scale:
                row.append(answer.number)
            elif question.kind == FeedbackKind.TEXT:
                row.append(answer.value)
            else:
                row.append("; ".join(choice_label(v) for v in answer.value.split("\n")))
        rows.append(row)
    return header, rows


# --- satisfaction over time, per course and per trainer (1–5 ratings by month) ---------


@dataclass
class Row:
    name: str
    months: list[tuple[str, float, int]]  # (YYYY-MM, average 1–5, responses)

    @property
    def average(self) -> float | None:
        total = sum(count for _month, _average, count in self.months)
        if not total:
            return None
        return sum(average * count for _month, average, count in self.months) / total


def month_of(column) -> ColumnElement[str]:
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _ratings():
    """(form_id, month, mark) of every 1–5 rating answer."""
    return (
        select(
            FeedbackResponse.form_id,
            month_of(FeedbackResponse.answered_on).label("month"),
            FeedbackAnswer.response_id,
            FeedbackAnswer.number,
        )
        .join(FeedbackAnswer, FeedbackAnswer.response_id == FeedbackResponse.id)
        .join(FeedbackQuestion, FeedbackQuestion.id == FeedbackAnswer.question_id)
        .where(FeedbackQuestion.kind == FeedbackKind.RATING5)
        .subquery("ratings")
    )


def _rows(query) -> list[Row]:
    rows: dict[tuple, Row] = {}
    for key, name, month, average, responses in db.session.execute(query):
        rows.setdefault(key, Row(name, [])).months.append((month, float(average), responses))
    return sorted(rows.values(), key=lambda row: row.name)


def satisfaction_by_course() -> list[Row]:
    ratings = _ratings()
    return _rows(
        select(
            Event.id,
            Event.title,
            ratings.c.month,
            func.avg(ratings.c.number),
            func.count(func.distinct(ratings.c.response_id)),
        )
        .join(FeedbackForm, FeedbackForm.id == ratings.c.form_id)
        .join(Event, Event.id == FeedbackForm.event_id)
        .group_by(Event.id, Event.title, ratings.c.month)
        .order_by(Event.id, ratings.c.month)
    )


def satisfaction_by_trainer(trainer_id: int | None = None) -> list[Row]:
    """Through the courses a trainer teaches (an event has no trainers)."""
    ratings = _ratings()
    query = (
        select(
            User.id,
            User.full_name,
            ratings.c.month,
            func.avg(ratings.c.number),
            func.count(func.distinct(ratings.c.response_id)),
        )
        .join(FeedbackForm, FeedbackForm.id == ratings.c.form_id)
        .join(course_trainers, course_trainers.c.course_id == FeedbackForm.event_id)
        .join(User, User.id == course_trainers.c.user_id)
        .group_by(User.id, User.full_name, ratings.c.month)
        .order_by(User.id, ratings.c.month)
    )
    if trainer_id is not None:
        query = query.where(User.id == trainer_id)
    return _rows(query)
