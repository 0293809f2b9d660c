"""Social projects and their trajectories through the centre's three levels of support.

Level 1 entry (audit, individual trajectory, first training), 2 design and prototyping
(product, technology, cooperation), 3 promotion (marketing and management) — the same
levels as courses.models.Level. A project's steps are copied from its programme's default
steps when it is created and are then its own to edit; a step may name a course whose
completion ticks it automatically.
"""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.models import Course, Direction, Programme
from webapp.extensions import db
from webapp.models import Organisation, User
from webapp.types import EnumText, UTCDateTime, utcnow

LEVELS = (1, 2, 3)
PROTOTYPE_LEVEL = 2  # "joint projects brought to a prototype": level 2 or beyond

project_partners = Table(
    "project_partners",
    db.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class MemberRole(enum.StrEnum):
    LEADER = "leader"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return str({"leader": _l("Project leader"), "member": _l("Team member")}[self.value])


class ProgrammeStep(db.Model):
    """A programme's default step on one level, copied into each new project."""

    __tablename__ = "programme_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))

    programme: Mapped[Programme] = relationship()
    course: Mapped[Course | None] = relationship()


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    direction: Mapped[Direction] = mapped_column(EnumText(Direction, 40))
    target_group: Mapped[str] = mapped_column(String(300), default="")
    municipality: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # the lead organisation (the team's own), partners below
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # a joint project: several organisations work on it together (counted in the reports
    # as "joint projects brought to a prototype" once at PROTOTYPE_LEVEL or beyond)
    is_joint: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[int] = mapped_column(default=1)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    partners: Mapped[list[Organisation]] = relationship(secondary=project_partners)
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    members: Mapped[list["ProjectMember"]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )
    steps: Mapped[list["ProjectStep"]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="(ProjectStep.level, ProjectStep.position)",
    )
    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Milestone.due_on"
    )
    consultations: Mapped[list["Consultation"]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="Consultation.held_on.desc()",
    )
    level_decisions: Mapped[list["LevelDecision"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="LevelDecision.decided_at"
    )


class ProjectMember(db.Model):
    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[MemberRole] = mapped_column(EnumText(MemberRole), default=MemberRole.MEMBER)

    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class ProjectStep(db.Model):
    __tablename__ = "project_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    # completing this course ticks the step (a member of the project completes it)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship(back_populates="steps")
    course: Mapped[Course | None] = relationship()


class MilestoneStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(
            {
                "planned": _l("Planned"),
                "in_progress": _l("In progress"),
                "done": _l("Done"),
                "cancelled": _l("Cancelled"),
            }[self.value]
        )


class Milestone(db.Model):
    """A roadmap item: what is due when, on which level."""

    __tablename__ = "project_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(
        EnumText(MilestoneStatus), default=MilestoneStatus.PLANNED
    )
    done_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="milestones")


class Consultation(db.Model):
    __tablename__ = "project_consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int]
    held_on: Mapped[date] = mapped_column(Date)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    topic: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="consultations")
    expert: Mapped[User | None] = relationship()


class LevelDecision(db.Model):
    """An organiser's decision to move a project from one level to another, with the
    reason; skipping a level needs one that says so (skipped=True)."""

    __tablename__ = "project_level_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    from_level: Mapped[int]
    to_level: Mapped[int]
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="level_decisions")
    decided_by: Mapped[User | None] = relationship()
