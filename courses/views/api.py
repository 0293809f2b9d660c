"""Public JSON for the centre's website: /api/v1/courses."""

from flask import jsonify
from flask_babel import gettext as _

from courses import services
from courses.models import Course
from courses.views import bp
from events.models import Visibility
from webapp.extensions import db
from webapp.urls import absolute_url_for


def _course_json(summary: services.CourseSummary, with_sessions: bool = False) -> dict:
    course = summary.course
    data = {
        "id": course.id,
        "title": course.title,
        "url": absolute_url_for("courses.course_page", course_id=course.id),
        "starts_at": summary.starts_at.isoformat() if summary.starts_at else None,
        "capacity": course.capacity,
        "confirmed": summary.counts.confirmed,
        "waitlisted": summary.counts.waitlisted,
        "places_left": summary.places_left,
        "registration_open": summary.registration_open,
        "programme": course.programme.title,
        "level": course.level,
        "direction": course.direction,
        "format": course.format,
        "academic_hours": course.academic_hours,
    }
    if with_sessions:
        data["sessions"] = [
            {"id": s.id, "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat()}
            for s in course.sessions
        ]
    return data


@bp.route("/api/v1/courses")
def api_courses():
    page = db.paginate(
        services.catalogue_query(services.CatalogueFilter()), per_page=100, error_out=False
    )
    return jsonify(
        courses=[_course_json(s) for s in services.summarise(list(page.items))],
        page=page.page,
        pages=page.pages,
        total=page.total,
    )


@bp.route("/api/v1/courses/<int:course_id>")
def api_course(course_id: int):
    course = db.session.get(Course, course_id)
    if course is None or course.visibility != Visibility.PUBLISHED:
        return jsonify(status="error", reason="not_found", message=_("No such course.")), 404
    return jsonify(_course_json(services.summarise([course])[0], with_sessions=True))
