"""Programmes and courses. A Course is an Event (joined-table inheritance), so its
enrolments are Registrations and its meetings are Sessions."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models import Event
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

    programme: Mapped[Programme] = relationship(back_populates="courses", lazy="joined")
    trainers: Mapped[list[User]] = relationship(secondary=course_trainers, lazy="selectin")

    __mapper_args__ = {"polymorphic_identity": "course"}

    def is_staff(self, user: User) -> bool:
        return super().is_staff(user) or any(trainer.id == user.id for trainer in self.trainers)

    @property
    def level_label(self) -> str:
        return str(LEVEL_SHORT_LABELS[Level(self.level)])
