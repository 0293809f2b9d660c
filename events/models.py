"""Events, their sessions and the registrations of people in them.

A Course (courses/) is an Event subtype, so enrolment is a Registration and one
seat-taking service (events.services.seats) guards both against overbooking.
"""

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from webapp.extensions import db
from webapp.models import Organisation, User, search_key
from webapp.types import EnumText, UTCDateTime, utcnow


class EventKind(enum.StrEnum):
    """What an Event row is (its polymorphic identity): an outreach event or a course."""

    EVENT = "event"
    COURSE = "course"


class Visibility(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return str({"draft": _l("Draft"), "published": _l("Published")}[self.value])


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    RegistrationStatus.PENDING: _l("Awaiting approval"),
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITLISTED: _l("Waiting list"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    MULTIPLE = "multiple"
    YESNO = "yesno"
    NUMBER = "number"

    @property
    def label(self) -> str:
        return str(QUESTION_KIND_LABELS[self])


QUESTION_KIND_LABELS = {
    QuestionKind.TEXT: _l("Text"),
    QuestionKind.CHOICE: _l("One choice"),
    QuestionKind.MULTIPLE: _l("Several choices"),
    QuestionKind.YESNO: _l("Yes or no"),
    QuestionKind.NUMBER: _l("Number"),
}


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_STATUS_LABELS[self])


# A mark that counts as "there": check-in, certificates, reports, completion rules.
PRESENT_OR_LATE = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)

ATTENDANCE_STATUS_LABELS = {
    AttendanceStatus.PRESENT: _l("Present"),
    AttendanceStatus.LATE: _l("Late"),
    AttendanceStatus.EXCUSED: _l("Excused"),
    AttendanceStatus.ABSENT: _l("Absent"),
}


class AttendanceMethod(enum.StrEnum):
    DOOR = "door"
    TRAINER_SCAN = "trainer_scan"
    SELF_SCAN = "self_scan"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_METHOD_LABELS[self])


ATTENDANCE_METHOD_LABELS = {
    AttendanceMethod.DOOR: _l("Door scan"),
    AttendanceMethod.TRAINER_SCAN: _l("Scanned by the trainer"),
    AttendanceMethod.SELF_SCAN: _l("Scanned the trainer's code"),
    AttendanceMethod.MANUAL: _l("Marked by hand"),
}

# Staff who may check people in at the door of one event, besides organisers.
event_staff = Table(
    "event_staff",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(50), default="Europe/Moscow")
    # Where an in-person event takes place (webapp.forms.MUNICIPALITIES), for the list's filter.
    municipality: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int | None]
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visibility: Mapped[Visibility] = mapped_column(EnumText(Visibility), default=Visibility.DRAFT)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    asks_organisation: Mapped[bool] = mapped_column(Boolean, default=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Lower-cased, ё-folded title and description: Russian search that works the same on
    # SQLite (whose lower() folds only ASCII) and PostgreSQL.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list["Session"]] = relationship(
        back_populates="event", order_by="Session.starts_at", cascade="all, delete-orphan"
    )
    questions: Mapped[list["Question"]] = relationship(
        order_by="Question.position", cascade="all, delete-orphan"
    )
    staff: Mapped[list[User]] = relationship(secondary=event_staff)

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": EventKind.EVENT}

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_published(self) -> bool:
        return self.visibility == Visibility.PUBLISHED

    def is_staff(self, user: User) -> bool:
        """May check people in and see the registrant list (a course adds its trainers)."""
        return any(member.id == user.id for member in self.staff)


class Session(db.Model):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room: Mapped[str | None] = mapped_column(String(200))
    # Calendars: SEQUENCE grows on every change of time, room or cancellation (see
    # events.services.calendars.session_changed), so clients replace their copy.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default="1970-01-01 00:00:00"
    )

    event: Mapped[Event] = relationship(back_populates="sessions")


class Question(db.Model):
    """A custom question of an event's registration form."""

    __tablename__ = "event_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[QuestionKind] = mapped_column(EnumText(QuestionKind))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # The choices of a choice question, one per line.
    options: Mapped[str] = mapped_column(Text, default="")

    @property
    def choices(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email"),
        Index("ix_registrations_event_status_queue", "event_id", "status", "queue_number"),
        Index(
            "ix_registrations_ticket_mail_due",
            "id",
            postgresql_where=text("ticket_mail_due"),
            sqlite_where=text("ticket_mail_due"),
        ),
        Index(
            "ix_registrations_status_mail_due",
            "id",
            postgresql_where=text("status_mail_due"),
            sqlite_where=text("status_mail_due"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # Guests consent on the form itself (152-FZ), as users do at sign-up.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_policy_version: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[RegistrationStatus] = mapped_column(EnumText(RegistrationStatus))
    # Order of arrival, given under the event's lock: the waiting list is served by it.
    queue_number: Mapped[int]
    ticket_secret: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # search_key() of the name, e-mail and phone (also as bare digits), for the registrant
    # list's search: the same on SQLite and PostgreSQL. Kept up to date by the model itself.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Mail owed to the person, recorded in the unit that caused it and rendered by the mail
    # worker (events.services.notifications.send_due_mail): the ticket with its reminders,
    # and the news of a status change (a place from the waiting list, a cancellation) as
    # of the registration's status when sent.
    ticket_mail_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    status_mail_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The language the person registered in: their mail's, when they have no account.
    mail_locale: Mapped[str | None] = mapped_column(String(10))
    # The last time the ticket was mailed again on request (at most once an hour).
    ticket_resent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    answers: Mapped[list["Answer"]] = relationship(cascade="all, delete-orphan")

    @validates("full_name", "email", "phone")
    def _refresh_search_text(self, changed: str, value: str | None) -> str | None:
        fields = {"full_name": self.full_name, "email": self.email, "phone": self.phone}
        fields[changed] = value
        self.search_text = registration_search_text(**fields)
        return value


def registration_search_text(full_name: str | None, email: str | None, phone: str | None) -> str:
    """What the registrant search looks in: the phone also as bare digits, so "9123" finds
    "+7 (912) 345-67-89"."""
    phone_digits = "".join(c for c in phone or "" if c.isdigit())
    return search_key(" ".join(filter(None, [full_name, email, phone, phone_digits])))


class Answer(db.Model):
    __tablename__ = "registration_answers"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("event_questions.id", ondelete="CASCADE"), index=True
    )
    # Text as typed; several choices are joined by newlines.
    value: Mapped[str] = mapped_column(Text, default="")

    question: Mapped[Question] = relationship()


class Attendance(db.Model):
    """One checked (registration, session): who was there, how it was marked, by whom."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("registration_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[AttendanceStatus] = mapped_column(EnumText(AttendanceStatus))
    method: Mapped[AttendanceMethod] = mapped_column(EnumText(AttendanceMethod))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship()
    session: Mapped[Session] = relationship()
    marked_by: Mapped[User | None] = relationship()


class AttendanceChange(db.Model):
    """The audit trail of attendance: every mark, edit and undo, never rewritten."""

    __tablename__ = "attendance_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    old_status: Mapped[AttendanceStatus | None] = mapped_column(EnumText(AttendanceStatus))
    new_status: Mapped[AttendanceStatus | None] = mapped_column(EnumText(AttendanceStatus))
    method: Mapped[AttendanceMethod] = mapped_column(EnumText(AttendanceMethod))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[User | None] = relationship()


class CheckinAttempt(db.Model):
    """Every scan or check-in request, accepted or refused, with its stable result code.

    The client's nonce is unique: a retried request finds its first answer here.
    """

    __tablename__ = "checkin_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str | None] = mapped_column(String(100), unique=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    method: Mapped[AttendanceMethod] = mapped_column(EnumText(AttendanceMethod))
    result: Mapped[str] = mapped_column(String(30))
    answer: Mapped[str] = mapped_column(Text, default="")  # the JSON answered, for retries
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
