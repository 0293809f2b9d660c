"""The entry audit: a scored self-assessment the team fills when the project enters level 1
and again after each level move, so "before / after" shows what changed.

Six areas of three statements each, every statement answered 0 (no) to 3 (yes, fully). An
area scores 100 × its points / 9, the audit the mean of its areas (whole numbers). An area
below GAP_BELOW is a gap.

Suggested steps (the rule): for the two weakest gaps, published courses with a session yet
to start whose support level is the one that works on that area (AREA_LEVELS: team, legal
form and finances are the entry level's work; product and partners, design and
prototyping; market, promotion) and whose direction is the project's own or "other"
(general courses).
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from courses.models import Course, Direction
from events.models import Session, Visibility
from projects.models import Project
from projects.outcomes.models import ProjectAudit
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.models import User
from webapp.transactions import unit_of_work
from webapp.types import utcnow

GAP_BELOW = 67
ANSWERS = (0, 1, 2, 3)
ANSWER_LABELS = {0: _l("No"), 1: _l("Started"), 2: _l("Mostly"), 3: _l("Yes, fully")}
AREAS = {
    "team": (
        _l("Team"),
        (
            _l("The team has a leader and agreed roles."),
            _l("The team has the skills the project needs."),
            _l("The team meets regularly and shares the work."),
        ),
    ),
    "market": (
        _l("Market and beneficiaries"),
        (
            _l("We know who our beneficiaries are and how many there are."),
            _l("We have asked beneficiaries about their needs."),
            _l("We know who else works on this problem nearby."),
        ),
    ),
    "product": (
        _l("Product or service"),
        (
            _l("The service or product is described."),
            _l("It has been tried with real people."),
            _l("We measure its results."),
        ),
    ),
    "finances": (
        _l("Finances"),
        (
            _l("The project has a budget."),
            _l("We have more than one source of money."),
            _l("We keep accounts and can report to a funder."),
        ),
    ),
    "legal": (
        _l("Legal form"),
        (
            _l("The project runs under a registered organisation or a self-employed person."),
            _l("The legal form fits what we do."),
            _l("We know which documents and licences we need."),
        ),
    ),
    "partners": (
        _l("Partners"),
        (
            _l("We have partners who help."),
            _l("The partners' roles are agreed in writing."),
            _l("The municipality knows about the project."),
        ),
    ),
}
AREA_LEVELS = {"team": 1, "legal": 1, "finances": 1, "product": 2, "partners": 2, "market": 3}


class AuditError(ServiceError):
    MESSAGES = {"missing": _l("Answer every statement."), "level": _l("Unknown level.")}


def field_name(area: str, number: int) -> str:
    return f"{area}.{number}"


def area_scores(answers: dict[str, int]) -> dict[str, int]:
    return {
        area: round(100 * sum(answers[field_name(area, n)] for n in range(len(items))) / 9)
        for area, (_label, items) in AREAS.items()
    }


def take_audit(
    project_id: int,
    answers: dict[str, str],
    user: User,
    history: tuple[datetime, int] | None = None,
) -> ProjectAudit:
    """Record the team's answers (every statement answered 0–3) now, at the project's
    level; `history` (when, on which level) records a past audit (the demo's)."""
    cleaned = {}
    for area, (_label, items) in AREAS.items():
        for number in range(len(items)):
            name = field_name(area, number)
            value = (answers.get(name) or "").strip()
            if value not in {str(a) for a in ANSWERS}:
                raise AuditError("missing", field=name)
            cleaned[name] = int(value)
    scores = area_scores(cleaned)
    with unit_of_work():
        project = db.session.get(Project, project_id)
        audit = ProjectAudit(
            project_id=project.id,
            level=history[1] if history else project.level,
            answers=cleaned,
            score=round(sum(scores.values()) / len(scores)),
            taken_by_id=user.id,
            taken_at=history[0] if history else utcnow(),
            **scores,
        )
        db.session.add(audit)
    return audit


def audits_of(project_id: int) -> list[ProjectAudit]:
    return list(
        db.session.scalars(
            select(ProjectAudit)
            .where(ProjectAudit.project_id == project_id)
            .order_by(ProjectAudit.taken_at, ProjectAudit.id)
        )
    )


@dataclass
class AuditSummary:
    latest: ProjectAudit | None
    first: ProjectAudit | None
    due: bool  # no audit on the project's current level yet
    areas: list[tuple[str, str, int]]  # (area, label, score) of the latest, weakest first
    gaps: list[str]
    suggestions: dict[str, list[Course]]  # by gap area

    @property
    def label_of(self) -> dict[str, str]:
        return {area: label for area, label, _score in self.areas}

    @property
    def change(self) -> int | None:
        if self.latest is None or self.first is None or self.first.id == self.latest.id:
            return None
        return self.latest.score - self.first.score


def summary(project: Project) -> AuditSummary:
    audits = audits_of(project.id)
    latest = audits[-1] if audits else None
    due = not any(audit.level == project.level for audit in audits)
    if latest is None:
        return AuditSummary(None, None, due, [], [], {})
    areas = sorted(
        ((area, str(label), getattr(latest, area)) for area, (label, _) in AREAS.items()),
        key=lambda item: (item[2], item[0]),
    )
    gaps = [area for area, _label, score in areas if score < GAP_BELOW]
    return AuditSummary(latest, audits[0], due, areas, gaps, suggested_courses(project, gaps[:2]))


def suggested_courses(project: Project, areas: list[str], per_area: int = 3):
    """The module docstring's rule, in one query."""
    if not areas:
        return {}
    levels = {AREA_LEVELS[area] for area in areas}
    upcoming = exists().where(
        Session.event_id == Course.id, Session.starts_at > utcnow(), Session.cancelled_at.is_(None)
    )
    courses = db.session.scalars(
        select(Course)
        .where(
            Course.level.in_(levels),
            Course.direction.in_([project.direction, Direction.OTHER]),
            Course.visibility == Visibility.PUBLISHED,
            Course.cancelled_at.is_(None),
            upcoming,
        )
        .order_by(Course.title, Course.id)
    ).all()
    return {
        area: [course for course in courses if course.level == AREA_LEVELS[area]][:per_area]
        for area in areas
    }
