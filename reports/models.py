"""The centre's targets, per programme, that the dashboard measures progress against."""

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.types import EnumText


class Indicator(enum.StrEnum):
    TRAINED = "trained"  # people who completed a course
    ORGANISATIONS = "organisations"  # organisations supported
    SELF_EMPLOYED = "self_employed"  # self-employed people supported
    JOINT_PROTOTYPES = "joint_prototypes"  # joint projects at prototype level or beyond
    REACHED = "reached"  # distinct people checked in at events

    @property
    def label(self) -> str:
        return str(INDICATOR_LABELS[self])


INDICATOR_LABELS = {
    Indicator.TRAINED: _l("People trained"),
    Indicator.ORGANISATIONS: _l("Organisations supported"),
    Indicator.SELF_EMPLOYED: _l("Self-employed people supported"),
    Indicator.JOINT_PROTOTYPES: _l("Joint projects brought to a prototype"),
    Indicator.REACHED: _l("People reached by events"),
}

# The centre's commitments to its funders, the default for a programme with no targets set.
DEFAULT_TARGETS = {
    Indicator.TRAINED: 50,
    Indicator.ORGANISATIONS: 40,
    Indicator.SELF_EMPLOYED: 20,
    Indicator.JOINT_PROTOTYPES: 6,
    Indicator.REACHED: 150,
}


class ProgrammeTarget(db.Model):
    __tablename__ = "programme_targets"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    indicator: Mapped[Indicator] = mapped_column(EnumText(Indicator), primary_key=True)
    target: Mapped[int]


# The cache stamp (webapp.caching.StampedCache) of the dashboard's figures, and the tables
# they are computed from: a trigger on each bumps the stamp in every transaction that writes
# one (migration 768f0e48c040) — whoever writes, through the ORM, a bulk insert or plain SQL
# (tests/test_reports_cache.py checks this list against the dashboard's statements and the
# database's triggers).
REPORTS_STAMP = "reports"
STAMPED_TABLES = frozenset(
    {
        "attendance",
        "certificates",
        "course_completions",
        "courses",
        "events",
        "feedback_answers",
        "feedback_forms",
        "feedback_invitations",
        "feedback_questions",
        "feedback_responses",
        "organisations",
        "programmes",
        "project_audits",
        "project_level_decisions",
        "project_members",
        "project_partners",
        "projects",
        "registrations",
        "sessions",
        "users",
    }
)
