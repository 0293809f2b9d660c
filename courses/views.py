"""Home page, catalogue, course pages, enrolment, course management, the public API and
`tropa demo-data`."""

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from courses import demo, services
from courses.forms import (
    CatalogueForm,
    ConfirmForm,
    CourseForm,
    ProgrammeForm,
    SessionForm,
    StatusForm,
    to_local,
    to_utc,
)
from courses.models import Course, Programme
from events.models import Registration, RegistrationStatus, Session, Visibility
from events.services import seats
from webapp.export import table_response
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.permissions import has_role, roles_required

# cli_group=None: the blueprint's commands are top-level, `tropa demo-data`.
bp = Blueprint("courses", __name__, template_folder="templates", cli_group=None)


def _visible_course(course_id: int) -> Course:
    """A published course, or a draft for the staff who may see drafts."""
    course = db.get_or_404(Course, course_id)
    if course.visibility != Visibility.PUBLISHED and not _is_staff_of(course):
        abort(404)
    return course


def _is_staff_of(course: Course) -> bool:
    if has_role(Role.ORGANISER):
        return True
    return current_user.is_authenticated and any(t.id == current_user.id for t in course.trainers)


# --- public pages ------------------------------------------------------------------------


@bp.route("/")
def index():
    query = services.catalogue_query(services.CatalogueFilter()).limit(6)
    upcoming = services.summarise(list(db.session.scalars(query)))
    return render_template("courses/index.html", upcoming=upcoming)


@bp.route("/courses/")
def catalogue():
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
    page = db.paginate(
        services.catalogue_query(filters),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    cards = services.summarise(list(page.items))
    return render_template("courses/catalogue.html", form=form, page=page, cards=cards)


@bp.route("/courses/<int:course_id>")
def course_page(course_id: int):
    course = _visible_course(course_id)
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
        is_staff=_is_staff_of(course),
    )


@bp.route("/courses/<int:course_id>/enrol", methods=["POST"])
@login_required
def enrol(course_id: int):
    course = _visible_course(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = services.enrol(course, current_user)
    except seats.RegistrationRefused as refused:
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
    course = _visible_course(course_id)
    registration = services.my_registration(course, current_user)
    if registration is None or not ConfirmForm().validate_on_submit():
        abort(400)
    seats.cancel(registration.id)
    flash(_("Your enrolment is cancelled."))
    return redirect(url_for("courses.course_page", course_id=course_id))


@bp.route("/my/learning")
@login_required
def my_learning():
    return render_template(
        "courses/my_learning.html",
        rows=services.my_learning(current_user),
        teaching=services.courses_taught_by(current_user) if has_role(Role.TRAINER) else [],
    )


# --- management --------------------------------------------------------------------------


@bp.route("/manage/courses")
@roles_required(Role.ORGANISER)
def manage_courses():
    filters = services.CatalogueFilter(text=request.args.get("q", ""), include_drafts=True)
    page = db.paginate(services.catalogue_query(filters), per_page=25, error_out=False)
    return render_template(
        "courses/manage_courses.html", page=page, cards=services.summarise(list(page.items))
    )


@bp.route("/manage/programmes", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def manage_programmes():
    form = ProgrammeForm()
    if form.validate_on_submit():
        services.save_programme(None, form.title.data, form.description.data or "")
        flash(_("Programme created."))
        return redirect(url_for("courses.manage_programmes"))
    return render_template(
        "courses/manage_programmes.html", programmes=services.programmes(), form=form
    )


@bp.route("/manage/programmes/<int:programme_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_programme(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        services.save_programme(programme, form.title.data, form.description.data or "")
        flash(_("Programme saved."))
        return redirect(url_for("courses.manage_programmes"))
    return render_template("courses/edit_programme.html", programme=programme, form=form)


def _course_form(course: Course | None) -> CourseForm:
    form = CourseForm(obj=course)
    form.programme_id.choices = [(p.id, p.title) for p in services.programmes()]
    trainers = db.session.scalars(
        select(User)
        .where(User.role_rows.any(UserRole.role == Role.TRAINER), User.deleted_at.is_(None))
        .order_by(User.full_name)
    )
    form.trainer_ids.choices = [(u.id, u.full_name) for u in trainers]
    if course and request.method == "GET":
        form.trainer_ids.data = [t.id for t in course.trainers]
        form.registration_opens_at.data = to_local(course.registration_opens_at, course.timezone)
        form.registration_closes_at.data = to_local(course.registration_closes_at, course.timezone)
    return form


def _course_data(form: CourseForm, timezone: str) -> services.CourseData:
    return services.CourseData(
        title=form.title.data,
        description=form.description.data or "",
        programme_id=form.programme_id.data,
        level=form.level.data,
        direction=form.direction.data,
        format=form.format.data,
        venue=form.venue.data or None,
        online_url=form.online_url.data or None,
        academic_hours=form.academic_hours.data or 0,
        capacity=form.capacity.data,
        registration_opens_at=to_utc(form.registration_opens_at.data, timezone),
        registration_closes_at=to_utc(form.registration_closes_at.data, timezone),
        visibility=form.visibility.data,
        trainer_ids=form.trainer_ids.data or [],
    )


@bp.route("/manage/courses/new", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def new_course():
    form = _course_form(None)
    if not form.programme_id.choices:
        flash(_("Create a programme first."), "info")
        return redirect(url_for("courses.manage_programmes"))
    if form.validate_on_submit():
        zone = current_app.config["TROPA_TIMEZONE"]
        course = services.save_course(None, _course_data(form, zone))
        flash(_("Course created. Now add its sessions."))
        return redirect(url_for("courses.manage_sessions", course_id=course.id))
    return render_template("courses/edit_course.html", form=form, course=None)


@bp.route("/manage/courses/<int:course_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_course(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = _course_form(course)
    if form.validate_on_submit():
        services.save_course(course, _course_data(form, course.timezone))
        flash(_("Course saved."))
        return redirect(url_for("courses.course_page", course_id=course.id))
    return render_template("courses/edit_course.html", form=form, course=course)


@bp.route("/manage/courses/<int:course_id>/sessions", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def manage_sessions(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = SessionForm()
    if form.validate_on_submit():
        _save_session(None, course, form)
        flash(_("Session added."))
        return redirect(url_for("courses.manage_sessions", course_id=course.id))
    return render_template(
        "courses/manage_sessions.html", course=course, form=form, delete_form=ConfirmForm()
    )


def _save_session(session: Session | None, course: Course, form: SessionForm) -> None:
    zone = course.timezone
    starts = to_utc(datetime.combine(form.date.data, form.starts.data), zone)
    ends = to_utc(datetime.combine(form.date.data, form.ends.data), zone)
    services.save_session(session, course, starts, ends, form.room.data or "")


@bp.route("/manage/sessions/<int:session_id>", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def edit_session(session_id: int):
    session = db.get_or_404(Session, session_id)
    course = db.get_or_404(Course, session.event_id)
    form = SessionForm()
    if request.method == "GET":
        local_start = session.starts_at.astimezone(ZoneInfo(course.timezone))
        form.date.data = local_start.date()
        form.starts.data = local_start.time()
        form.ends.data = session.ends_at.astimezone(ZoneInfo(course.timezone)).time()
        form.room.data = session.room
    if form.validate_on_submit():
        _save_session(session, course, form)
        flash(_("Session saved."))
        return redirect(url_for("courses.manage_sessions", course_id=course.id))
    return render_template("courses/edit_session.html", course=course, session=session, form=form)


@bp.route("/manage/sessions/<int:session_id>/delete", methods=["POST"])
@roles_required(Role.ORGANISER)
def delete_session(session_id: int):
    session = db.get_or_404(Session, session_id)
    course_id = session.event_id
    if ConfirmForm().validate_on_submit():
        services.delete_session(session)
        flash(_("Session deleted."))
    return redirect(url_for("courses.manage_sessions", course_id=course_id))


# --- enrolment list ----------------------------------------------------------------------


def _staff_course(course_id: int) -> Course:
    course = db.get_or_404(Course, course_id)
    if not _is_staff_of(course):
        abort(403)
    return course


@bp.route("/manage/courses/<int:course_id>/enrolments")
@login_required
def enrolments(course_id: int):
    course = _staff_course(course_id)
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
    course = _staff_course(course_id)
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
        registered_at = registration.created_at.astimezone(ZoneInfo(course.timezone))
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
                registered_at.strftime("%Y-%m-%d %H:%M"),
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


# --- public JSON API ---------------------------------------------------------------------


def _course_json(summary: services.CourseSummary, with_sessions: bool = False) -> dict:
    course = summary.course
    data = {
        "id": course.id,
        "title": course.title,
        "url": url_for("courses.course_page", course_id=course.id, _external=True),
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


# --- command line ------------------------------------------------------------------------


@bp.cli.command("demo-data")
def demo_data():
    """Create a demo training centre (once) and print the demo logins."""
    summary = demo.load_demo_data()
    if summary.created:
        click.echo(
            _(
                "Demo data created: %(programmes)d programmes, %(courses)d courses, "
                "%(users)d users, %(organisations)d organisations, %(enrolments)d enrolments.",
                programmes=summary.programmes,
                courses=summary.courses,
                users=summary.users,
                organisations=summary.organisations,
                enrolments=summary.enrolments,
            )
        )
    else:
        click.echo(_("Demo data is already there: nothing changed."))
    click.echo(_("Demo logins (password: %(password)s):", password=demo.DEMO_PASSWORD))
    for role, email in demo.DEMO_LOGINS:
        click.echo(f"  {role.label:<16} {email}")
