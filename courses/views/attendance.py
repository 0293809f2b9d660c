"""Attendance at course sessions: the trainer's session page (register, live counts, the
link to the ticket scanner), the projector's rotating code, the participant's self-scan
`/a/<session>/<code>`, the course grid with its export, and "My attendance"."""

from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from courses import services
from courses.forms import AttendanceSettingsForm, MarkAttendanceForm
from courses.models import Course
from courses.services import attendance
from courses.views import bp, staff_course, visible_course
from events.models import AttendanceStatus, Session
from events.services import checkin, tickets
from webapp.export import table_response
from webapp.extensions import db
from webapp.filters import icon, local_date, local_datetime, local_time
from webapp.forms import ConfirmForm
from webapp.types import utcnow
from webapp.urls import absolute_url_for

PENDING_SCAN_KEY = "pending_self_scan"


def _staff_session(session_id: int) -> tuple[Session, Course]:
    """A course session, or 404; 403 unless the user is the course's trainer or organiser."""
    session = db.get_or_404(Session, session_id)
    if not isinstance(session.event, Course):
        abort(404)
    return session, staff_course(session.event_id)


# --- the trainer's session page -----------------------------------------------------------


@bp.route("/manage/sessions/<int:session_id>/attendance")
@login_required
def session_attendance(session_id: int):
    session, course = _staff_session(session_id)
    return render_template(
        "courses/session_attendance.html",
        session=session,
        course=course,
        rows=attendance.register(session),
        changes=attendance.changes(session),
        names=attendance.registration_names(session),
        statuses=list(AttendanceStatus),
        mark_form=MarkAttendanceForm(),
        rest_form=ConfirmForm(),
    )


@bp.route("/manage/sessions/<int:session_id>/attendance.json")
@login_required
def session_attendance_json(session_id: int):
    session, _course = _staff_session(session_id)
    return jsonify(attendance.register_json(session))


@bp.route("/manage/sessions/<int:session_id>/attendance/mark", methods=["POST"])
@login_required
def mark_attendance(session_id: int):
    """One tap of the register. The page's script asks for JSON (no reload: the row's new
    status and the counts); without script the form posts and the page comes back."""
    session, course = _staff_session(session_id)
    form = MarkAttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    changed = checkin.mark(
        event_id=course.id,
        registration_id=form.registration_id.data,
        session_id=session.id,
        status=AttendanceStatus(form.status.data),
        by_user=current_user,
    )
    if request.accept_mimetypes.best == "application/json":
        return _marked_json(session, form.registration_id.data)
    if changed:
        flash(_("Attendance saved."))
    return redirect(url_for("courses.session_attendance", session_id=session.id))


def _marked_json(session: Session, registration_id: int):
    row = next(
        (row for row in attendance.register(session) if row.registration.id == registration_id),
        None,
    )
    if row is None or row.attendance is None:
        message = _("This person is not enrolled in the course.")
        return jsonify(status="error", reason="not_enrolled", message=message), 404
    return jsonify(
        status="ok",
        registration_id=registration_id,
        attendance_status=row.attendance.status.value,
        label=row.attendance.status.label,
        method=row.attendance.method.label,
        message=_("Attendance saved."),
        **attendance.register_json(session),
    )


@bp.route("/manage/sessions/<int:session_id>/attendance/rest-absent", methods=["POST"])
@login_required
def mark_rest_absent(session_id: int):
    session, course = _staff_session(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = checkin.mark_rest_absent(
        event_id=course.id, session_id=session.id, by_user=current_user
    )
    flash(_("Marked absent: %(count)s.", count=count))
    return redirect(url_for("courses.session_attendance", session_id=session.id))


# --- the rotating code --------------------------------------------------------------------


def _code_json(session: Session) -> dict:
    """The projector's state. While self check-in is closed there is no code to show, only
    when it opens (in the course's zone) or that it has closed."""
    now = utcnow()
    if not attendance.self_checkin_open(session, now):
        return {"open": False, "closed_text": closed_text(session, now)}
    shown = attendance.current_code(session, now)
    url = absolute_url_for("courses.self_scan", session_id=session.id, code=shown.code)
    return {
        "open": True,
        "url": url,
        "code": shown.code,
        "seconds_left": shown.seconds_left,
        "svg": tickets.qr_svg(url),
    }


def closed_text(session: Session, now: datetime) -> str:
    """What the projector says instead of a code: the time alone on the opening's own day
    (in the course's zone), else the day and time."""
    if now > session.ends_at:
        return _("Self check-in for this session is closed.")
    opens_at = attendance.self_checkin_opens_at(session)
    time = local_time(opens_at, session.event.tz)
    if local_date(opens_at, session.event.tz) == local_date(now, session.event.tz):
        return _("Self check-in opens at %(time)s", time=time)
    day = local_datetime(opens_at, session.event.tz, "d MMMM")
    return _("Self check-in opens on %(day)s at %(time)s", day=day, time=time)


@bp.route("/sessions/<int:session_id>/code")
@login_required
def session_code(session_id: int):
    session, course = _staff_session(session_id)
    return render_template(
        "courses/code.html", session=session, course=course, shown=_code_json(session)
    )


@bp.route("/sessions/<int:session_id>/code.json")
@login_required
def session_code_json(session_id: int):
    session, _course = _staff_session(session_id)
    response = jsonify(**_code_json(session), **attendance.register_json(session))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/a/<int:session_id>/<code>")
def self_scan(session_id: int, code: str):
    """A participant scanned the trainer's code. Signed out: the verified scan waits in the
    signed session cookie (5 minutes) while they sign in, then this URL completes it."""
    session = db.get_or_404(Session, session_id)
    if not isinstance(session.event, Course):
        abort(404)
    now = utcnow()
    user = current_user if current_user.is_authenticated else None
    scan = _pending_scan(session.id, now)
    if scan is None:
        try:
            scan = attendance.verify_code(session, code, now)
        except attendance.ScanRefused as refused:
            answer = attendance.refuse(session, refused.reason, user, request.remote_addr, now)
            return _scan_page(session, answer, 403)
    if user is None:
        cookie[PENDING_SCAN_KEY] = {
            "session_id": scan.session_id,
            "step": scan.step,
            "scanned_at": scan.scanned_at.isoformat(),
        }
        flash(_("Sign in to be marked present: your scan is kept for 5 minutes."), "info")
        return redirect(url_for("webapp.login", next=request.path))
    cookie.pop(PENDING_SCAN_KEY, None)
    answer = attendance.self_check_in(session, user, scan, request.remote_addr, now)
    ok = answer["status"] == "ok" or answer.get("reason") == "already_checked_in"
    return _scan_page(session, answer, 200 if ok else 403)


def _pending_scan(session_id: int, now: datetime) -> attendance.VerifiedScan | None:
    """The scan kept while the participant signed in, if it is this session's and recent."""
    kept = cookie.get(PENDING_SCAN_KEY)
    if not kept or kept.get("session_id") != session_id:
        return None
    scanned_at = datetime.fromisoformat(kept["scanned_at"])
    if not 0 <= (now - scanned_at).total_seconds() <= attendance.PENDING_SCAN_SECONDS:
        cookie.pop(PENDING_SCAN_KEY, None)
        return None
    return attendance.VerifiedScan(session_id, kept["step"], scanned_at)


def _scan_page(session: Session, answer: dict, status: int):
    return (
        render_template(
            "courses/attendance_scan.html",
            session=session,
            course=session.event,
            answer=answer,
            message=attendance.participant_message(answer),
        ),
        status,
    )


# --- reports ------------------------------------------------------------------------------


@bp.route("/manage/courses/<int:course_id>/attendance", methods=["GET", "POST"])
@login_required
def course_attendance(course_id: int):
    course = staff_course(course_id)
    form = AttendanceSettingsForm(obj=course)
    if form.validate_on_submit():
        services.save_course_rules(
            course.id,
            {
                name: getattr(form, name).data
                for name in ("attendance_threshold", "code_step_seconds", "refuse_same_ip")
            },
        )
        flash(_("Attendance settings saved."))
        return redirect(url_for("courses.course_attendance", course_id=course.id))
    return render_template(
        "courses/attendance_grid.html", course=course, grid=attendance.grid(course), form=form
    )


@bp.route("/manage/courses/<int:course_id>/attendance.<any(csv, xlsx):fmt>")
@login_required
def export_attendance(course_id: int, fmt: str):
    course = staff_course(course_id)
    header, rows = attendance.grid_table(course, attendance.grid(course))
    return table_response(fmt, f"attendance-{course.id}", header, rows)


STATUS_ICONS = {
    AttendanceStatus.PRESENT: "check-lg",
    AttendanceStatus.LATE: "clock",
    AttendanceStatus.EXCUSED: "file-earmark-medical",
    AttendanceStatus.ABSENT: "x-lg",
}


@bp.app_template_global()
def status_icon(status: AttendanceStatus) -> Markup:
    """The register's icon of an attendance status (its label is always next to it)."""
    return icon(STATUS_ICONS[status])


@bp.app_template_global()
def below_attendance_threshold(course: Course) -> list[attendance.GridRow]:
    """For the course page's staff links: who is below the course's attendance rate."""
    return attendance.grid(course).below_threshold()


@bp.route("/my/courses/<int:course_id>/attendance")
@login_required
def my_attendance(course_id: int):
    course = visible_course(course_id)
    grid = attendance.grid(course, user=current_user)
    if not grid.rows:
        abort(404)
    return render_template(
        "courses/attendance_mine.html", course=course, grid=grid, row=grid.rows[0]
    )
