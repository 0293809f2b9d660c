"""Feedback forms after sessions and events, the invitations to answer them, the answers.

A form belongs to an event or a course (a course is an event), optionally to one of its
sessions. Once that session (or the event's last session) has ended, the people marked
present or late there are invited by e-mail, once per form and person, with a personal
link; the mail worker does it (feedback.services.invite_attendees).

An anonymous form keeps no link between a person and an answer: the invitation only
records that it was used (`responded`, with no time), and the response row has no
invitation and only the day it was given, so neither ids nor times tie them together.
"""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models import QUESTION_KIND_LABELS, Event, QuestionKind, Registration, Session
from webapp.extensions import db
from webapp.types import EnumText, UTCDateTime, utcnow


class FeedbackKind(enum.StrEnum):
    """The event question editor's kinds (same values) plus the two rating scales."""

    RATING5 = "rating5"
    RATING10 = "rating10"
    CHOICE = QuestionKind.CHOICE.value
    MULTIPLE = QuestionKind.MULTIPLE.value
    TEXT = QuestionKind.TEXT.value
    YESNO = QuestionKind.YESNO.value

    @property
    def label(self) -> str:
        return str(FEEDBACK_KIND_LABELS[self])

    @property
    def scale(self) -> tuple[int, int] | None:
        """The rating's lowest and highest mark."""
        return {"rating5": (1, 5), "rating10": (0, 10)}.get(self.value)


FEEDBACK_KIND_LABELS = {
    FeedbackKind.RATING5: _l("Rating 1–5"),
    FeedbackKind.RATING10: _l("Rating 0–10 (recommend)"),
    **{FeedbackKind(kind.value): label for kind, label in QUESTION_KIND_LABELS.items()
       if kind.value in FeedbackKind._value2member_map_},
}  # fmt: skip


class FeedbackForm(db.Model):
    __tablename__ = "feedback_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # None: the whole event (invitations after its last session); else that session only
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    intro: Mapped[str] = mapped_column(Text, default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # invitations go out only for an active form; answers are taken until closes_on ends
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_on: Mapped[date | None] = mapped_column(Date)
    template: Mapped[str | None] = mapped_column(String(40))  # the library template used
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    session: Mapped[Session | None] = relationship()
    questions: Mapped[list["FeedbackQuestion"]] = relationship(
        back_populates="form", order_by="FeedbackQuestion.position", cascade="all, delete-orphan"
    )


class FeedbackQuestion(db.Model):
    __tablename__ = "feedback_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_forms.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[FeedbackKind] = mapped_column(EnumText(FeedbackKind))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[str] = mapped_column(Text, default="")  # choices, one per line

    form: Mapped[FeedbackForm] = relationship(back_populates="questions")

    @property
    def choices(self) -> list[str]:
        if self.kind == FeedbackKind.YESNO:
            return ["yes", "no"]
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class FeedbackInvitation(db.Model):
    """One person (a registration) asked to answer one form, with the personal link's token."""

    __tablename__ = "feedback_invitations"
    __table_args__ = (UniqueConstraint("form_id", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("feedback_forms.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(40), unique=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # answered (an anonymous form: only this, never which response nor when)
    responded: Mapped[bool] = mapped_column(Boolean, default=False)

    form: Mapped[FeedbackForm] = relationship()
    registration: Mapped[Registration] = relationship()


class FeedbackResponse(db.Model):
    __tablename__ = "feedback_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_forms.id", ondelete="CASCADE"), index=True
    )
    # None on an anonymous form; else the one response of that invitation (editable)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_invitations.id", ondelete="SET NULL"), unique=True
    )
    answered_on: Mapped[date] = mapped_column(Date)  # a day, not a time: see the docstring

    answers: Mapped[list["FeedbackAnswer"]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class FeedbackAnswer(db.Model):
    __tablename__ = "feedback_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_responses.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_questions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text, default="")  # several choices joined by newlines
    number: Mapped[int | None]  # a rating's mark, 1/0 for yes/no: what the averages read

    response: Mapped[FeedbackResponse] = relationship(back_populates="answers")
    question: Mapped[FeedbackQuestion] = relationship()
