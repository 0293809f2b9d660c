"""Satisfaction over time, per course (or event) and per trainer: the mean of the 1–5
ratings and the number of responses, by the month they were given. Two grouped queries."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select

from courses.models import course_trainers
from events.models import Event
from feedback.models import (
    FeedbackAnswer,
    FeedbackForm,
    FeedbackKind,
    FeedbackQuestion,
    FeedbackResponse,
)
from webapp.extensions import db
from webapp.models import User


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
