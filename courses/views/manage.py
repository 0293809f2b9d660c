"""Organisers: programmes, courses and their sessions."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from courses import services
from courses.forms import CourseForm, ProgrammeForm
from courses.models import Course, Programme
from courses.views import bp
from events.forms import repeating
from events.forms.manage import SessionForm
from events.forms.repeating import NewSessionForm
from events.models import Session
from events.services import editing
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import Role, User, UserRole
from webapp.permissions import roles_required
from webapp.timezones import to_local, to_utc


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
        services.save_programme(programme.id, form.title.data, form.description.data or "")
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
        services.save_course(course.id, _course_data(form, course.timezone))
        flash(_("Course saved."))
        return redirect(url_for("courses.course_page", course_id=course.id))
    return render_template("courses/edit_course.html", form=form, course=course)


@bp.route("/manage/courses/<int:course_id>/sessions", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def manage_sessions(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = NewSessionForm()
    if form.validate_on_submit():
        if form.repeat.data == repeating.ONCE:
            _save_session(None, course, form)
            flash(_("Session added."))
            return redirect(url_for("courses.manage_sessions", course_id=course.id))
        if added := repeating.add_sessions(course.id, form):
            flash(_("Sessions added: %(n)s.", n=added))
            return redirect(url_for("courses.manage_sessions", course_id=course.id))
    return render_template(
        "courses/manage_sessions.html", course=course, form=form, delete_form=ConfirmForm()
    )


def _save_session(session: Session | None, course: Course, form: SessionForm) -> None:
    zone = course.timezone
    starts = to_utc(datetime.combine(form.date.data, form.starts.data), zone)
    ends = to_utc(datetime.combine(form.date.data, form.ends.data), zone)
    editing.save_session(course, session, starts, ends, form.room.data or "")


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
        services.delete_session(session.id)
        flash(_("Session deleted."))
    return redirect(url_for("courses.manage_sessions", course_id=course_id))
