"""Programmes and courses. A Course is an Event (joined-table inheritance), so its
enrolments are Registrations and its meetings are Sessions."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models import Event, EventKind, Registration
from webapp.extensions import db
from webapp.models import User
from webapp.types import EnumText, UTCDateTime, utcnow


class Level(enum.IntEnum):
    ENTRY = 1
    DESIGN = 2
    PROMOTION = 3

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])


LEVEL_LABELS = {
    Level.ENTRY: _l("Level 1: entry (audit, individual trajectory, first training)"),
    Level.DESIGN: _l("Level 2: design and prototyping"),
    Level.PROMOTION: _l("Level 3: promotion (marketing and management)"),
}
LEVEL_SHORT_LABELS = {
    Level.ENTRY: _l("Level 1 · entry"),
    Level.DESIGN: _l("Level 2 · design"),
    Level.PROMOTION: _l("Level 3 · promotion"),
}


class Direction(enum.StrEnum):
    ADDITIONAL_EDUCATION = "additional_education"
    MEDICAL_SOCIAL = "medical_social"
    OLDER_PEOPLE = "older_people"
    CULTURE_TOURISM = "culture_tourism"
    PARENTS_CHILDREN = "parents_children"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(DIRECTION_LABELS[self])


DIRECTION_LABELS = {
    Direction.ADDITIONAL_EDUCATION: _l("Additional education"),
    Direction.MEDICAL_SOCIAL: _l("Medical and social services"),
    Direction.OLDER_PEOPLE: _l("Older people"),
    Direction.CULTURE_TOURISM: _l("Culture and tourism"),
    Direction.PARENTS_CHILDREN: _l("Parents and children"),
    Direction.OTHER: _l("Other"),
}


class Format(enum.StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"
    MIXED = "mixed"

    @property
    def label(self) -> str:
        return str(FORMAT_LABELS[self])


FORMAT_LABELS = {
    Format.OFFLINE: _l("In person"),
    Format.ONLINE: _l("Online"),
    Format.MIXED: _l("Mixed"),
}


class Programme(db.Model):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    courses: Mapped[list["Course"]] = relationship(back_populates="programme")


course_trainers = Table(
    "course_trainers",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Course(Event):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    level: Mapped[int]
    direction: Mapped[Direction] = mapped_column(EnumText(Direction, 40))
    format: Mapped[Format] = mapped_column(EnumText(Format), default=Format.OFFLINE)
    academic_hours: Mapped[int] = mapped_column(default=0)
    # Attendance: a participant below this rate (percent of past sessions) is flagged; the
    # self-check-in code changes every code_step_seconds; refuse_same_ip refuses a second
    # participant's self-scan from one address in a session (a phone passed round).
    attendance_threshold: Mapped[int] = mapped_column(default=75, server_default="75")
    refuse_same_ip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    code_step_seconds: Mapped[int] = mapped_column(default=15, server_default="15")
    # Completion rules (courses.services.completion): attendance of past sessions in percent
    # (None: not checked), every required material complete, every required task accepted,
    # the trainer's sign-off.
    min_attendance_rate: Mapped[int | None]
    requires_materials: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    requires_tasks: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    requires_signoff: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )

    programme: Mapped[Programme] = relationship(back_populates="courses", lazy="joined")
    trainers: Mapped[list[User]] = relationship(secondary=course_trainers, lazy="selectin")

    __mapper_args__ = {"polymorphic_identity": EventKind.COURSE}

    def is_staff(self, user: User) -> bool:
        return super().is_staff(user) or any(trainer.id == user.id for trainer in self.trainers)

    @property
    def level_label(self) -> str:
        return str(LEVEL_SHORT_LABELS[Level(self.level)])


# --- Learning materials, progress and completion -------------------------------------


class MaterialKind(enum.StrEnum):
    FILE = "file"
    LINK = "link"
    PAGE = "page"
    TASK = "task"

    @property
    def label(self) -> str:
        return str(MATERIAL_KIND_LABELS[self])


MATERIAL_KIND_LABELS = {
    MaterialKind.FILE: _l("File"),
    MaterialKind.LINK: _l("Link"),
    MaterialKind.PAGE: _l("Page"),
    MaterialKind.TASK: _l("Task"),
}


class CompletionRule(enum.StrEnum):
    """What makes a material complete for a participant."""

    NONE = "none"
    VIEWED = "viewed"
    MARKED_DONE = "marked_done"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return str(COMPLETION_RULE_LABELS[self])


COMPLETION_RULE_LABELS = {
    CompletionRule.NONE: _l("No completion needed"),
    CompletionRule.VIEWED: _l("Viewed"),
    CompletionRule.MARKED_DONE: _l("Marked done by the participant"),
    CompletionRule.ACCEPTED: _l("Answer accepted by the trainer"),
}


class AnswerStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NEEDS_REWORK = "needs_rework"

    @property
    def label(self) -> str:
        return str(ANSWER_STATUS_LABELS[self])


ANSWER_STATUS_LABELS = {
    AnswerStatus.SUBMITTED: _l("Awaiting review"),
    AnswerStatus.ACCEPTED: _l("Accepted"),
    AnswerStatus.NEEDS_REWORK: _l("Needs rework"),
}


class StoredFileMixin:
    """An uploaded file kept by webapp.storage under a random name; the original name is
    only shown and offered on download, never used as a path."""

    file_storage_name: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_content_type: Mapped[str | None] = mapped_column(String(120))
    file_size: Mapped[int | None]

    @property
    def has_file(self) -> bool:
        return bool(self.file_storage_name)


class Module(db.Model):
    __tablename__ = "course_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opens once every required material of the module before it is complete.
    opens_after_previous: Mapped[bool] = mapped_column(Boolean, default=False)

    course: Mapped[Course] = relationship()
    materials: Mapped[list["Material"]] = relationship(
        back_populates="module", order_by="Material.position", cascade="all, delete-orphan"
    )


class Material(StoredFileMixin, db.Model):
    __tablename__ = "course_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("course_modules.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[MaterialKind] = mapped_column(EnumText(MaterialKind))
    title: Mapped[str] = mapped_column(String(300))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opens once the material before it (in the module) is complete.
    opens_after_previous: Mapped[bool] = mapped_column(Boolean, default=False)
    # A task's deadline (My learning lists the tasks due); the answer is still taken after it.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completion: Mapped[CompletionRule] = mapped_column(
        EnumText(CompletionRule), default=CompletionRule.VIEWED
    )
    # Counts towards the course's completion rules.
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown: a page, a task's instructions
    url: Mapped[str | None] = mapped_column(String(1000))  # a link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    module: Mapped[Module] = relationship(back_populates="materials")


class MaterialProgress(db.Model):
    """A participant's progress in one material: when first viewed, when marked done."""

    __tablename__ = "material_progress"
    __table_args__ = (UniqueConstraint("registration_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(
        ForeignKey("course_materials.id", ondelete="CASCADE"), index=True
    )
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskAnswer(StoredFileMixin, db.Model):
    """A participant's current answer to a task: resubmitted in place after "needs rework"."""

    __tablename__ = "task_answers"
    __table_args__ = (UniqueConstraint("registration_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(
        ForeignKey("course_materials.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AnswerStatus] = mapped_column(EnumText(AnswerStatus))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trainer_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    material: Mapped[Material] = relationship()
    registration: Mapped[Registration] = relationship()
    reviewed_by: Mapped[User | None] = relationship()


class CourseCompletion(db.Model):
    """A registration's completion record: the trainer's sign-off and the date the course's
    rules were first all met (kept once reached; the certificates issue reads it)."""

    __tablename__ = "course_completions"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
