"""The rules of projects and trajectories, one room per concept:

- `editing`: creating and editing a project, its team and partners, level decisions,
  reading a project and a person's projects;
- `steps`: the trajectory's steps (a project's and a programme's defaults), progress per
  level, and the receiver that ticks a step when a member completes its course;
- `mentoring`: the mentor and logged consultations;
- `roadmap`: milestones;
- `board`: the organisers' board of all projects.

Here: who may do what, the centre's today, and ProjectError. No request objects in any of
them: views, the demo and the tests call the same functions. Each write is one unit of
work (webapp.transactions); a refused input raises ProjectError with a stable reason, a
message for the person and, where it belongs to one, the form field.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from projects.models import Milestone, MilestoneStatus, Project
from webapp.errors import ServiceError
from webapp.models import Role, User

CLOSED_STATUSES = (MilestoneStatus.DONE, MilestoneStatus.CANCELLED)


class ProjectError(ServiceError):
    """A refused input; the reasons whose message needs no details are listed here."""

    MESSAGES = {
        "title_missing": _l("Give the project a title."),
        "programme_missing": _l("Choose a programme."),
        "direction_missing": _l("Choose a direction."),
        "start_missing": _l("Give the date the project started."),
        "partner_needed": _l("A joint project needs at least one partner organisation."),
        "mentor_not_trainer": _l("Choose a trainer as the mentor."),
        "level_invalid": _l("Choose a level."),
        "step_title_missing": _l("Give the step a title."),
        "course_unknown": _l("No such course."),
        "milestone_title_missing": _l("Give the milestone a title."),
        "due_missing": _l("Give the due date."),
        "status_invalid": _l("Choose a status."),
        "done_before_start": _l("The milestone cannot be done before the project started."),
        "topic_missing": _l("Give the consultation's topic."),
        "held_on_missing": _l("Give the date of the consultation."),
        "consultation_ahead": _l("A consultation is logged once it has taken place."),
        "expert_unknown": _l("No such expert."),
        "same_level": _l("The project is already on this level."),
        "comment_missing": _l("Say why: the decision is recorded with its comment."),
    }


def today() -> date:
    """Today in the centre's zone: a milestone due today is not overdue before midnight."""
    return datetime.now(ZoneInfo(current_app.config["TROPA_TIMEZONE"])).date()


def day(value: date | None) -> str:
    """A calendar date (no time, no zone) in the reader's language: '27 ноября 2026'."""
    return format_date(value, "d MMMM y") if value else ""


def is_overdue(milestone: Milestone, on: date | None = None) -> bool:
    return milestone.status not in CLOSED_STATUSES and milestone.due_on < (on or today())


# --- who may do what -----------------------------------------------------------------------


def is_member(user: User, project: Project) -> bool:
    return any(member.user_id == user.id for member in project.members)


def is_organiser(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.ORGANISER)


def may_view(user: User, project: Project) -> bool:
    """The team, the mentor, organisers and admins; nobody else (another team's project is
    theirs to keep)."""
    return may_log(user, project)


def may_edit(user: User, project: Project) -> bool:
    """The team edits its project (details, steps, roadmap); organisers edit every one."""
    return user.is_authenticated and (is_organiser(user) or is_member(user, project))


def may_log(user: User, project: Project) -> bool:
    """Consultations and ticking steps: the team and organisers, and the project's mentor."""
    return user.is_authenticated and (may_edit(user, project) or project.mentor_id == user.id)
