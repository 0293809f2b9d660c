"""The courses blueprint, one module a concern: `catalogue` (home page, catalogue, course
page, enrolment, My learning), `manage` (programmes, courses, sessions), `enrolments` (the
enrolment list and its export), `api` (public JSON), `cli` (`tropa demo-data`),
`attendance` (registers, the rotating code, reports), `materials` (modules, materials,
progress, task answers, completion)."""

from flask import Blueprint, abort
from flask_login import current_user

from courses.models import Course
from events.models import Visibility
from webapp.extensions import db
from webapp.models import Role
from webapp.permissions import has_role

# cli_group=None: the blueprint's commands are top-level, `tropa demo-data`.
bp = Blueprint("courses", __name__, template_folder="../templates", cli_group=None)


def visible_course(course_id: int) -> Course:
    """A published course, or a draft for the staff who may see drafts."""
    course = db.get_or_404(Course, course_id)
    if course.visibility != Visibility.PUBLISHED and not is_staff_of(course):
        abort(404)
    return course


def is_staff_of(course: Course) -> bool:
    if has_role(Role.ORGANISER):
        return True
    return current_user.is_authenticated and course.is_staff(current_user)


def staff_course(course_id: int) -> Course:
    """The course, or 404; 403 unless the current user is its staff (organiser, trainer)."""
    course = db.get_or_404(Course, course_id)
    if not is_staff_of(course):
        abort(403)
    return course


# The modules register their routes on `bp` when imported.
from courses.views import (  # noqa: E402, F401
    api,
    attendance,
    catalogue,
    cli,
    enrolments,
    manage,
    materials,
)
