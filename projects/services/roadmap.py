"""A project's roadmap: milestones per level with due dates; overdue ones show in red."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from projects.models import LEVELS, Milestone, MilestoneStatus, Project
from projects.services import ProjectError, day, today
from webapp.extensions import db
from webapp.transactions import unit_of_work


@dataclass
class MilestoneData:
    title: str
    level: int
    due_on: date
    status: str = MilestoneStatus.PLANNED.value
    done_on: date | None = None
    notes: str = ""


def _checked(project: Project, data: MilestoneData) -> tuple[str, MilestoneStatus, date | None]:
    """The title, status and done date to save, or ProjectError."""
    title = (data.title or "").strip()
    if not title:
        raise ProjectError("milestone_title_missing", field="title")
    if data.level not in LEVELS:
        raise ProjectError("level_invalid", field="level")
    if data.due_on is None:
        raise ProjectError("due_missing", field="due_on")
    if data.due_on < project.started_on:
        raise ProjectError(
            "due_before_start",
            _l("The due date is before the project started (%(day)s).",
               day=day(project.started_on)),
            field="due_on",
        )  # fmt: skip
    try:
        status = MilestoneStatus(data.status)
    except ValueError:
        raise ProjectError("status_invalid", field="status") from None
    done_on = data.done_on
    if status == MilestoneStatus.DONE:
        done_on = done_on or today()
        if done_on < project.started_on:
            raise ProjectError("done_before_start", field="done_on")
    else:
        done_on = None  # only a done milestone has a done date
    return title, status, done_on


def save_milestone(project: Project, milestone: Milestone | None, data: MilestoneData) -> Milestone:
    with unit_of_work():
        title, status, done_on = _checked(project, data)
        if milestone is None:
            milestone = Milestone(project=project)
            db.session.add(milestone)
        milestone.title, milestone.level, milestone.due_on = title, data.level, data.due_on
        milestone.status, milestone.done_on, milestone.notes = status, done_on, data.notes.strip()
    return milestone


def delete_milestone(milestone: Milestone) -> None:
    with unit_of_work():
        db.session.delete(milestone)
