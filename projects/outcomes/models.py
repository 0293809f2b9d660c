"""A project's entry audit (a scored self-assessment, re-taken at level moves) and its story
(written by the team, approved by organisers, published item by item with consent)."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from projects.models import Project
from webapp.extensions import db
from webapp.models import User
from webapp.types import EnumText, UTCDateTime, utcnow


class ProjectAudit(db.Model):
    """One self-assessment: the answers as given, the score of each area and the total
    (0–100), and the level the project was on when the team took it."""

    __tablename__ = "project_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int]
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    score: Mapped[int]
    team: Mapped[int]
    market: Mapped[int]
    product: Mapped[int]
    finances: Mapped[int]
    legal: Mapped[int]
    partners: Mapped[int]
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()
    taken_by: Mapped[User | None] = relationship()


class StoryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return str(
            {
                "draft": _l("Draft"),
                "submitted": _l("Waiting for approval"),
                "approved": _l("Approved and published"),
                "returned": _l("Returned to the team"),
            }[self.value]
        )


class ProjectStory(db.Model):
    """The team's story. Public only when approved, and then only the items the team
    consented to publish (each flag below); any edit sends it back for approval."""

    __tablename__ = "project_stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True
    )
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    story: Mapped[str] = mapped_column(Text, default="")
    problem: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")  # what was done
    results: Mapped[str] = mapped_column(Text, default="")
    publish_story: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_problem: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_actions: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_results: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_partners: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_municipality: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_team: Mapped[bool] = mapped_column(Boolean, default=False)  # members' names
    status: Mapped[StoryStatus] = mapped_column(EnumText(StoryStatus), default=StoryStatus.DRAFT)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()
    photos: Mapped[list["StoryPhoto"]] = relationship(
        back_populates="story", order_by="StoryPhoto.id", cascade="all, delete-orphan"
    )


class StoryPhoto(db.Model):
    __tablename__ = "project_story_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(
        ForeignKey("project_stories.id", ondelete="CASCADE"), index=True
    )
    storage_name: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(100))
    caption: Mapped[str] = mapped_column(String(300), default="")
    publish: Mapped[bool] = mapped_column(Boolean, default=False)  # the team's consent

    story: Mapped[ProjectStory] = relationship(back_populates="photos")
