"""The enrolment list of a course, its export, and moving people between states."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from courses import services
from courses.forms import StatusForm
from courses.views import bp, staff_course
from events.models import Registration, RegistrationStatus
from events.services import seats
from webapp.export import table_response
from webapp.extensions import db
from webapp.filters import local_datetime
from webapp.models import Role
from webapp.permissions import has_role, roles_required


@bp.route("/manage/courses/<int:course_id>/enrolments")
@login_required
def enrolments(course_id: int):
    course = staff_course(course_id)
    status = request.args.get("status") or None
    if status and status not in RegistrationStatus.__members__.values():
        status = None
    page = db.paginate(
        services.enrolment_list(course, status), per_page=50, error_out=False, count=True
    )
    positions = seats.waitlist_positions(registration.id for registration in page.items)
    return render_template(
        "courses/enrolments.html",
        course=course,
        page=page,
        positions=positions,
        summary=services.summarise([course])[0],
        status=status,
        status_form=StatusForm(),
        can_change=has_role(Role.ORGANISER),
    )


@bp.route("/manage/courses/<int:course_id>/enrolments.<any(csv, xlsx):fmt>")
@login_required
def export_enrolments(course_id: int, fmt: str):
    course = staff_course(course_id)
    registrations = db.session.scalars(services.enrolment_list(course)).unique().all()
    positions = seats.waitlist_positions(r.id for r in registrations)
    # Written out (not looked up from a tuple of keys) so the message extractor finds them.
    header = [
        _("Full name"), _("E-mail"), _("Phone"), _("Status"), _("Waiting list"),
        _("Municipality"), _("Organisation"), _("Organisation type"), _("INN"),
        _("Registered at"),
    ]  # fmt: skip
    table = []
    for registration in registrations:
        user = registration.user
        organisation = user.organisation if user else None
        table.append(
            (
                registration.full_name,
                registration.email,
                user.phone if user else None,
                registration.status.label,
                positions.get(registration.id),
                user.municipality if user else None,
                organisation.name if organisation else None,
                organisation.type.label if organisation else None,
                organisation.inn if organisation else None,
                local_datetime(registration.created_at, course.timezone, "yyyy-MM-dd HH:mm"),
            )
        )
    return table_response(fmt, f"enrolments-{course.id}", header, table)


@bp.route("/manage/registrations/<int:registration_id>/status", methods=["POST"])
@roles_required(Role.ORGANISER)
def change_status(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            promoted = seats.change_status(registration.id, RegistrationStatus(form.status.data))
        except seats.RegistrationRefused as refused:
            flash(refused.message, "warning")
        else:
            flash(_("Status changed."))
            if promoted:
                flash(
                    _(
                        "Promoted from the waiting list: %(names)s",
                        names=", ".join(r.full_name for r in promoted),
                    )
                )
    return redirect(url_for("courses.enrolments", course_id=registration.event_id))
