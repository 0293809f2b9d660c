"""The trajectory's steps: a project's (copied from its programme's defaults at creation,
then the team's own), a programme's defaults, progress per level, and the receiver that
ticks a step when a member of the project completes the step's course."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from courses.models import Course, CourseCompletion, Programme
from events.models import Registration
from projects.models import LEVELS, ProgrammeStep, Project, ProjectMember, ProjectStep
from projects.services import ProjectError, is_overdue, today
from webapp.extensions import db
from webapp.models import User
from webapp.transactions import unit_of_work
from webapp.types import utcnow

# The steps of a programme that has none of its own: what each level of support is for.
DEFAULT_STEPS = {
    1: [_l("Audit done"), _l("Individual trajectory described"), _l("First training complete")],
    2: [
        _l("Product designed"),
        _l("Technology chosen"),
        _l("Cooperation agreed"),
        _l("Prototype tested"),
    ],
    3: [_l("Marketing plan"), _l("Management plan"), _l("Promotion started")],
}


def for_new_project(programme_id: int) -> list[ProjectStep]:
    """Copies of the programme's default steps, or the built-in ones when it has none."""
    defaults = programme_steps(programme_id)
    if defaults:
        return [
            ProjectStep(level=s.level, position=s.position, title=s.title, course_id=s.course_id)
            for s in defaults
        ]
    return [
        ProjectStep(level=level, position=position, title=str(title))
        for level, titles in DEFAULT_STEPS.items()
        for position, title in enumerate(titles)
    ]


def _check_step(level: int, title: str, course_id: int | None) -> str:
    if level not in LEVELS:
        raise ProjectError("level_invalid", field="level")
    title = (title or "").strip()
    if not title:
        raise ProjectError("step_title_missing", field="title")
    if course_id is not None and db.session.get(Course, course_id) is None:
        raise ProjectError("course_unknown", field="course_id")
    return title


# --- a project's steps ----------------------------------------------------------------------


def add_step(project: Project, level: int, title: str, course_id: int | None = None) -> ProjectStep:
    with unit_of_work():
        title = _check_step(level, title, course_id)
        position = 1 + max((s.position for s in project.steps if s.level == level), default=-1)
        step = ProjectStep(level=level, position=position, title=title, course_id=course_id)
        project.steps.append(step)
    return step


def save_step(step: ProjectStep, title: str, course_id: int | None) -> None:
    with unit_of_work():
        step.title = _check_step(step.level, title, course_id)
        step.course_id = course_id


def set_step_done(step: ProjectStep, user: User, done: bool) -> None:
    with unit_of_work():
        if done and step.done_at is None:
            step.done_at, step.done_by_id = utcnow(), user.id
        elif not done:
            step.done_at = step.done_by_id = None


def delete_step(step: ProjectStep) -> None:
    with unit_of_work():
        db.session.delete(step)


def tick_steps_for_completions(_sender, completions: list[CourseCompletion]) -> None:
    """Receiver of signals.course_completed: a step naming a course is done once a member
    of the project completes that course. Runs inside the completion's unit."""
    pairs = db.session.execute(
        select(Registration.user_id, Registration.event_id).where(
            Registration.id.in_([c.registration_id for c in completions]),
            Registration.user_id.is_not(None),
        )
    ).all()
    if not pairs:
        return
    steps = db.session.execute(
        select(ProjectStep, ProjectMember.user_id)
        .join(ProjectMember, ProjectMember.project_id == ProjectStep.project_id)
        .where(
            ProjectStep.done_at.is_(None),
            or_(*(and_(ProjectMember.user_id == u, ProjectStep.course_id == c) for u, c in pairs)),
        )
    ).all()
    now = utcnow()
    for step, user_id in steps:
        if step.done_at is None:  # two members may complete the course at once
            step.done_at, step.done_by_id = now, user_id


# --- a programme's default steps ------------------------------------------------------------


def programme_steps(programme_id: int) -> list[ProgrammeStep]:
    return list(
        db.session.scalars(
            select(ProgrammeStep)
            .where(ProgrammeStep.programme_id == programme_id)
            .order_by(ProgrammeStep.level, ProgrammeStep.position, ProgrammeStep.id)
        )
    )


def add_programme_step(
    programme: Programme, level: int, title: str, course_id: int | None = None
) -> ProgrammeStep:
    with unit_of_work():
        title = _check_step(level, title, course_id)
        position = 1 + (
            db.session.scalar(
                select(func.max(ProgrammeStep.position)).where(
                    ProgrammeStep.programme_id == programme.id, ProgrammeStep.level == level
                )
            )
            or 0
        )
        step = ProgrammeStep(
            programme_id=programme.id,
            level=level,
            position=position,
            title=title,
            course_id=course_id,
        )
        db.session.add(step)
    return step


def save_programme_step(step: ProgrammeStep, title: str, course_id: int | None) -> None:
    with unit_of_work():
        step.title = _check_step(step.level, title, course_id)
        step.course_id = course_id


def delete_programme_step(step: ProgrammeStep) -> None:
    with unit_of_work():
        db.session.delete(step)


# --- progress -------------------------------------------------------------------------------


@dataclass
class LevelProgress:
    level: int
    done: int
    total: int
    current: bool
    overdue: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def trajectory(project: Project) -> list[LevelProgress]:
    """Steps done per level, the current level and overdue milestones: the project at a glance."""
    on = today()
    return [
        LevelProgress(
            level=level,
            done=sum(1 for s in project.steps if s.level == level and s.done_at),
            total=sum(1 for s in project.steps if s.level == level),
            current=level == project.level,
            overdue=sum(1 for m in project.milestones if m.level == level and is_overdue(m, on)),
        )
        for level in LEVELS
    ]
