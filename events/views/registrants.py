"""The organiser's registrant list of an event: search and filters, editing and the status
buttons, the CSV/XLSX export and the CSV import. The event's check-in staff may read the
list; only managers change, export or import."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from events.forms.bulk import BulkForm
from events.forms.registrants import (
    ImportForm,
    RegistrantActionForm,
    RegistrantFilterForm,
    registrant_form,
)
from events.models import STATUS_LABELS, Event, Registration, RegistrationStatus
from events.services import access, registrant_order, seats
from events.services.listing import OUTREACH
from events.services.registrant_import import MAX_IMPORT_BYTES, ImportReport, import_registrants
from events.services.registrants import (
    RegistrantError,
    export_table,
    registrant_counts,
    registrant_details,
    registrant_query,
    update_registrant,
)
from events.services.registration import answer_text
from events.services.tickets import ticket_url
from events.views import bp, event_for_checkin_staff, event_for_managers
from webapp.export import table_response
from webapp.extensions import db

PAGE_SIZE = 50
# What the import page lists of a refused file's problems; the rest are counted.
PROBLEMS_SHOWN = 200

Status = RegistrationStatus


def outreach_event(event_id: int, *, manage: bool) -> Event:
    """An outreach event the current user may manage (or, manage=False, see the list of);
    a course has its own enrolment list."""
    event = event_for_managers(event_id) if manage else event_for_checkin_staff(event_id)
    if event.kind != OUTREACH:
        abort(404)
    return event


def _registration_of(event: Event, registration_id: int) -> Registration:
    registration = db.get_or_404(Registration, registration_id)
    if registration.event_id != event.id:
        abort(404)
    return registration


def _list_url(event: Event) -> str:
    return url_for("events.registrants", event_id=event.id)


@bp.route("/manage/events/<int:event_id>/registrants")
@login_required
def registrants(event_id: int):
    event = outreach_event(event_id, manage=False)
    questions = list(event.questions)
    form = RegistrantFilterForm(questions, formdata=request.args)
    sort = registrant_order.sort_key(request.args.get("sort"))
    page = db.paginate(
        registrant_order.ordered(registrant_query(event.id, form.to_filter()), sort),
        per_page=PAGE_SIZE,
        max_per_page=PAGE_SIZE,
        error_out=False,
        count=True,
    )
    return render_template(
        "events/registrants.html",
        event=event,
        form=form,
        page=page,
        details=registrant_details(event.id, page.items),
        counts=registrant_counts(event.id),
        questions=questions,
        session_count=len(event.sessions),
        can_change=access.can_manage(current_user, event),
        bulk_form=BulkForm(),
        sort=sort,
        status_labels=STATUS_LABELS,
        answer_text=answer_text,
    )


@bp.route("/manage/events/<int:event_id>/registrants.<any(csv, xlsx):fmt>")
@login_required
def export_registrants(event_id: int, fmt: str):
    event = outreach_event(event_id, manage=True)
    header, rows = export_table(event)
    return table_response(fmt, f"registrants-{event.id}", header, rows)


@bp.route("/manage/events/<int:event_id>/registrants/<int:registrant_id>", methods=["GET", "POST"])
@login_required
def edit_registrant(event_id: int, registrant_id: int):
    event = outreach_event(event_id, manage=True)
    registration = _registration_of(event, registrant_id)
    form = registrant_form(event, registration)
    if form.validate_on_submit():
        try:
            update_registrant(registration.id, form.to_changes())
        except RegistrantError as refused:
            form[refused.field].errors.append(refused.message)
        else:
            flash(_("Registration of %(name)s saved.", name=registration.full_name), "success")
            return redirect(_list_url(event))
    return render_template(
        "events/registrant_edit.html",
        event=event,
        registration=registration,
        form=form,
        position=seats.waitlist_positions([registration.id]).get(registration.id),
        ticket_url=ticket_url(registration.ticket_secret),
        action_form=RegistrantActionForm(),
    )


@bp.route("/manage/events/<int:event_id>/registrants/<int:registrant_id>/status", methods=["POST"])
@login_required
def registrant_action(event_id: int, registrant_id: int):
    event = outreach_event(event_id, manage=True)
    registration = _registration_of(event, registrant_id)
    form = RegistrantActionForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: choose an action."), "warning")
        return redirect(_back(event))
    name = registration.full_name
    try:
        promoted = _apply(registration, form.action.data)
    except seats.RegistrationRefused as refused:
        flash(refused.message, "warning")
        return redirect(_back(event))
    others = [r.full_name for r in promoted if r.id != registration.id]
    if others:
        flash(_("Promoted from the waiting list: %(names)s", names=", ".join(others)), "info")
    db.session.refresh(registration)
    flash(_status_message(name, form.action.data, registration.status), "success")
    return redirect(_back(event))


def _apply(registration: Registration, action: str) -> list[Registration]:
    """Run one status button through the seat-taking service; returns who was promoted."""
    if action == "approve":
        seats.approve(registration.id)
        return []
    if action == "cancel":
        return seats.cancel(registration.id)
    new_status = Status.CONFIRMED if action == "confirm" else Status.WAITLISTED
    return seats.change_status(registration.id, new_status)


def _status_message(name: str, action: str, status: Status) -> str:
    if action == "waitlist" and status == Status.CONFIRMED:
        return _("A place is free, so %(name)s stays confirmed.", name=name)
    if status == Status.CONFIRMED:
        return _("%(name)s is confirmed.", name=name)
    if status == Status.WAITLISTED:
        if action == "approve":
            return _("%(name)s is approved and on the waiting list: no place is free.", name=name)
        return _("%(name)s is on the waiting list.", name=name)
    return _("The registration of %(name)s is cancelled.", name=name)


def _back(event: Event) -> str:
    """Where a status button was pressed: the list (with its filters) or the edit page."""
    target = request.form.get("next", "")
    if target.startswith(f"/manage/events/{event.id}/registrants") and "//" not in target:
        return target
    return _list_url(event)


@bp.route("/manage/events/<int:event_id>/registrants/import", methods=["GET", "POST"])
@login_required
def import_registrants_page(event_id: int):
    event = outreach_event(event_id, manage=True)
    # Refuse a big upload before reading it (the app allows larger uploads elsewhere).
    limit = MAX_IMPORT_BYTES + 64 * 1024  # the file and the form around it
    if request.method == "POST" and (request.content_length or 0) > limit:
        message = _("The file is larger than 2 MB: split it in parts.")
        return _import_page(event, ImportForm(formdata=None), too_big=message), 413
    request.max_content_length = limit  # an upload that does not say its length
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = import_registrants(event.id, form.file.data.read())
        if report.imported:
            flash(_import_summary(report), "success")
            if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                return jsonify(redirect=_list_url(event))  # the page's script goes there
            return redirect(_list_url(event))
    return _import_page(event, form, report=report)


def _import_page(event: Event, form: ImportForm, report: ImportReport | None = None, **extra):
    return render_template(
        "events/registrants_import.html",
        event=event,
        form=form,
        report=report,
        problems_shown=PROBLEMS_SHOWN,
        max_megabytes=MAX_IMPORT_BYTES // (1024 * 1024),
        **extra,
    )


def _import_summary(report: ImportReport) -> str:
    parts = [
        _(
            "Imported %(count)s: %(confirmed)s confirmed, %(waitlisted)s on the waiting list.",
            count=report.registered,
            confirmed=report.confirmed,
            waitlisted=report.waitlisted,
        )
    ]
    if report.already_registered:
        parts.append(_("Already registered, skipped: %(count)s.", count=report.already_registered))
    if report.repeated_in_file:
        parts.append(_("Repeated in the file, skipped: %(count)s.", count=report.repeated_in_file))
    if report.ignored_columns:
        parts.append(_("Columns ignored: %(columns)s.", columns=", ".join(report.ignored_columns)))
    return " ".join(parts)


@bp.route("/manage/events/<int:event_id>/registrants/import-sample.csv")
@login_required
def import_sample(event_id: int):
    """A file to start a list from: the header and one example row."""
    outreach_event(event_id, manage=True)
    header = ["full_name", "email", "phone", "organisation_name", "organisation_type", "inn",
              "status"]  # fmt: skip
    example = ["Иванова Мария Петровна", "maria@example.org", "8 912 345-67-89",
               "АНО «Добрые дела»", "sonko", "", ""]  # fmt: skip
    return table_response("csv", "registrants-import-sample", header, [example])
