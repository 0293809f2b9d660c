"""Home page, catalogue, course page, enrolment and My learning."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import raiseload

from courses import services
from courses.forms import CatalogueForm
from courses.models import Course
from courses.services import catalogue as catalogue_pages
from courses.views import bp, is_staff_of, visible_course
from events.models import RegistrationStatus
from events.services import calendars, listing, seats
from events.views.calendars import calendar_response
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import Role
from webapp.permissions import has_role
from webapp.types import utcnow


@bp.route("/")
def index():
    query = services.catalogue_query(services.CatalogueFilter()).limit(6)
    upcoming = services.summarise(list(db.session.scalars(query)))
    events = listing.upcoming_events(limit=3)
    return render_template("courses/index.html", upcoming=upcoming, events=events)


@bp.route("/courses/")
def catalogue():
    # Everything but the page's frame is the same for everyone who asks the same question
    # in the same language: kept rendered until a change the catalogue shows is committed.
    key = (str(get_locale()), request.script_root, request.query_string)
    content = catalogue_pages.PAGES.get_or_load(key, _catalogue_content)
    return render_template("courses/catalogue.html", content=content)


def _catalogue_content() -> Markup:
    form = CatalogueForm(services.programmes(), request.args)
    filters = services.CatalogueFilter()
    if form.validate():
        filters = services.CatalogueFilter(
            text=form.q.data or "",
            programme_id=int(form.programme.data) if form.programme.data else None,
            level=int(form.level.data) if form.level.data else None,
            direction=form.direction.data or None,
            format=form.format.data or None,
            free_places=form.free.data,
        )
    # Cards show no trainers: not loading them keeps the statements the same on any page.
    query = services.catalogue_query(filters).options(raiseload(Course.trainers))
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    cards = services.summarise(list(page.items))
    html = render_template("courses/_catalogue_content.html", form=form, page=page, cards=cards)
    return Markup(html)  # noqa: S704  rendered by Jinja with autoescaping


@bp.route("/courses/<int:course_id>")
def course_page(course_id: int):
    course = visible_course(course_id)
    summary = services.summarise([course])[0]
    registration = position = None
    if current_user.is_authenticated:
        registration = services.my_registration(course, current_user)
        if registration:
            position = seats.waitlist_positions([registration.id]).get(registration.id)
    return render_template(
        "courses/course.html",
        course=course,
        summary=summary,
        registration=registration,
        position=position,
        form=ConfirmForm(),
        is_staff=is_staff_of(course),
    )


@bp.route("/courses/<int:course_id>/enrol", methods=["POST"])
@login_required
def enrol(course_id: int):
    course = visible_course(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = services.enrol(course, current_user)
    except (seats.RegistrationRefused, ServiceError) as refused:
        flash(refused.message, "warning")
        return redirect(url_for("courses.course_page", course_id=course_id))
    registration = result.registration
    if not result.created:
        flash(_("You are already enrolled in this course."), "info")
    elif registration.status == RegistrationStatus.CONFIRMED:
        flash(_("You are enrolled. See you at the first session!"), "success")
    else:
        position = seats.waitlist_positions([registration.id]).get(registration.id)
        flash(
            _("The course is full: you are number %(n)d on the waiting list.", n=position), "info"
        )
    if not current_user.profile_complete:
        flash(_("Please complete your profile: the centre's reports count what is filled."), "info")
    return redirect(url_for("courses.course_page", course_id=course_id))


@bp.route("/courses/<int:course_id>/cancel", methods=["POST"])
@login_required
def cancel(course_id: int):
    course = visible_course(course_id)
    registration = services.my_registration(course, current_user)
    if registration is None or not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.cancel(registration.id)
    except (seats.RegistrationRefused, ServiceError) as refused:
        flash(refused.message, "warning")
    else:
        flash(_("Your enrolment is cancelled."))
    return redirect(url_for("courses.course_page", course_id=course_id))


@bp.route("/my/learning")
@login_required
def my_learning():
    return render_template(
        "courses/my_learning.html",
        rows=services.my_learning(current_user),
        now=utcnow(),
        teaching=services.courses_taught_by(current_user) if has_role(Role.TRAINER) else [],
    )


@bp.route("/courses/<int:course_id>/calendar.ics")
def course_calendar(course_id: int):
    course = visible_course(course_id)
    return calendar_response(calendars.event_calendar(course), f"course-{course.id}.ics")
