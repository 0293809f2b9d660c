"""An event's (or course's) certificates: settings, the list with issue / re-issue / revoke,
bulk issue with its progress page and ZIP; My certificates; the PDF; `tropa certificates
issue`."""

import shutil

import click
from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from certificates.forms.issuing import DEFAULT_TEMPLATE, CertificateSettingsForm, RevokeForm
from certificates.models import (
    BatchState,
    Certificate,
    CertificateBatch,
)
from certificates.services import batches, issuing, templates
from certificates.views import bp
from events.models import Event, Registration
from events.services import tickets
from webapp.export import attachment_disposition
from webapp.extensions import db
from webapp.forms import ConfirmForm

PER_PAGE = 50


def managed_event(event_id: int) -> Event:
    """The event, or 404; 403 unless the current user manages its certificates."""
    event = db.get_or_404(Event, event_id)
    if not issuing.can_manage(current_user, event):
        abort(403)
    return event


def managed_certificate(certificate_id: int) -> Certificate:
    certificate = db.get_or_404(Certificate, certificate_id)
    managed_event(certificate.event_id)
    return certificate


def _back_to_list(event_id: int):
    return redirect(
        url_for("certificates.event_certificates", event_id=event_id, page=request.args.get("page"))
    )


@bp.route("/events/<int:event_id>/certificates", methods=["GET", "POST"])
@login_required
def event_certificates(event_id: int):
    event = managed_event(event_id)
    settings = issuing.settings_of(event)
    form = CertificateSettingsForm(
        enabled=issuing.issues_certificates(event, settings),
        template_id=settings.template_id if settings and settings.template_id else DEFAULT_TEMPLATE,
    )
    form.set_templates(templates.template_choices(issuing.kind_of(event)))
    if form.validate_on_submit():
        issuing.save_settings(event, form.enabled.data, form.template_id.data or None)
        flash(_("Certificate settings saved."))
        return _back_to_list(event.id)
    page = db.paginate(issuing.certificate_list_query(event), per_page=PER_PAGE, error_out=False)
    ids = [registration.id for registration in page.items]
    return render_template(
        "certificates/event_certificates.html",
        event=event,
        form=form,
        page=page,
        certificates=issuing.certificates_by_registration(ids),
        eligible=issuing.eligible_now(event, list(page.items)),
        issues=issuing.issues_certificates(event, settings),
        batch=batches.latest_batch(event.id),
        confirm_form=ConfirmForm(),
    )


@bp.route("/registrations/<int:registration_id>/certificate", methods=["POST"])
@login_required
def issue_certificate(registration_id: int):
    registration = db.get_or_404(Registration, registration_id)
    managed_event(registration.event_id)
    if ConfirmForm().validate_on_submit():
        try:
            certificate = issuing.issue_now(registration.id, current_user)
            flash(_("Certificate %(serial)s issued.", serial=certificate.serial), "success")
        except issuing.NotEligible as refusal:
            flash(refusal.message, "danger")
    return _back_to_list(registration.event_id)


@bp.route("/certificates/<int:certificate_id>/reissue", methods=["POST"])
@login_required
def reissue_certificate(certificate_id: int):
    certificate = managed_certificate(certificate_id)
    if ConfirmForm().validate_on_submit():
        try:
            certificate = issuing.reissue(certificate_id, current_user)
            flash(
                _(
                    "Certificate %(serial)s re-issued as version %(version)s.",
                    serial=certificate.serial,
                    version=certificate.version,
                ),
                "success",
            )
        except issuing.NotEligible as refusal:
            flash(refusal.message, "danger")
    return _back_to_list(certificate.event_id)


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_certificate(certificate_id: int):
    certificate = managed_certificate(certificate_id)
    if certificate.revoked:  # by someone else meanwhile, or a second click
        flash(issuing.NotEligible("already_revoked").message, "warning")
        return _back_to_list(certificate.event_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            certificate = issuing.revoke(certificate_id, form.reason.data, current_user)
        except issuing.NotEligible as refusal:  # revoked meanwhile by someone else
            flash(refusal.message, "warning")
        else:
            flash(_("Certificate %(serial)s revoked.", serial=certificate.serial), "success")
        return _back_to_list(certificate.event_id)
    return render_template("certificates/revoke.html", certificate=certificate, form=form)


@bp.route("/certificates/<int:certificate_id>.pdf")
@login_required
def certificate_pdf(certificate_id: int):
    """The holder's own (while valid), or any of the event's for those who manage it."""
    certificate = db.get_or_404(Certificate, certificate_id)
    is_holder = certificate.user_id is not None and certificate.user_id == current_user.id
    if not issuing.can_manage(current_user, certificate.event) and not (
        is_holder and not certificate.revoked
    ):
        abort(403)
    return _pdf_response(certificate)


@bp.route("/t/<secret>/certificate.pdf")
def ticket_certificate_pdf(secret: str):
    """A guest's own certificate (no account): the ticket's secret is the way in, as for
    the ticket itself; the issued mail links here."""
    registration = tickets.find_ticket(secret)
    certificate = issuing.certificate_of(registration.id) if registration else None
    if certificate is None or certificate.revoked:
        abort(404)
    return _pdf_response(certificate)


def _pdf_response(certificate: Certificate) -> Response:
    response = Response(issuing.pdf_of(certificate), mimetype="application/pdf")
    response.headers["Content-Disposition"] = attachment_disposition(
        batches.pdf_filename(certificate), fallback="certificate.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/my/certificates")
@login_required
def my_certificates():
    return render_template(
        "certificates/my_certificates.html", certificates=issuing.certificates_of_user(current_user)
    )


# --- bulk issue ----------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/certificates/batch", methods=["POST"])
@login_required
def start_batch(event_id: int):
    event = managed_event(event_id)
    if not ConfirmForm().validate_on_submit():
        return _back_to_list(event.id)
    try:
        batch = batches.start_batch(event, current_user)
    except issuing.NotEligible as refusal:
        flash(refusal.message, "danger")
        return _back_to_list(event.id)
    return redirect(url_for("certificates.batch_page", batch_id=batch.id))


def managed_batch(batch_id: int) -> CertificateBatch:
    batch = db.get_or_404(CertificateBatch, batch_id)
    managed_event(batch.event_id)
    return batch


@bp.route("/certificate-batches/<int:batch_id>")
@login_required
def batch_page(batch_id: int):
    batch = managed_batch(batch_id)
    return render_template(
        "certificates/batch.html",
        batch=batch,
        event=db.session.get(Event, batch.event_id),
        progress=_progress(batch),
        form=ConfirmForm(),
    )


@bp.route("/certificate-batches/<int:batch_id>/step", methods=["POST"])
@login_required
def batch_step(batch_id: int):
    """The progress page's script asks for one step at a time, until the batch is done."""
    managed_batch(batch_id)
    if not ConfirmForm().validate_on_submit():
        return jsonify(error=_("The form has expired: reload the page.")), 400
    return jsonify(_progress(batches.run_batch_step(batch_id)))


def _progress(batch: CertificateBatch) -> dict:
    return {
        "state": batch.state.value,
        "done": batch.done,
        "total": batch.total,
        "issued": batch.issued,
        "percent": round(100 * batch.done / batch.total) if batch.total else 100,
        "error": batch.error,
        "zip_url": url_for("certificates.batch_zip", batch_id=batch.id)
        if batch.state == BatchState.DONE
        else None,
    }


@bp.route("/certificate-batches/<int:batch_id>.zip")
@login_required
def batch_zip(batch_id: int):
    batch = managed_batch(batch_id)
    if batch.state != BatchState.DONE or not batches.zip_path(batch).exists():
        abort(404)
    response = send_file(batches.zip_path(batch), mimetype="application/zip")
    response.headers["Content-Disposition"] = attachment_disposition(
        f"certificates-{batch.event_id}-{batch.id}.zip"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.cli.command("issue")
@click.argument("event_id", type=int)
@click.option("--zip", "zip_to", type=click.Path(dir_okay=False), help="Copy the ZIP here.")
def issue_command(event_id: int, zip_to: str | None):
    """Issue certificates to everyone eligible in the event or course EVENT_ID."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise click.ClickException(_("There is no event %(id)s.", id=event_id))
    try:
        batch = batches.start_batch(event, None)
    except issuing.NotEligible as refusal:
        raise click.ClickException(refusal.message) from None
    while (batch := batches.run_batch_step(batch.id)).state == BatchState.RUNNING:
        click.echo(f"{batch.done}/{batch.total}")
    if batch.state == BatchState.FAILED:
        raise click.ClickException(batch.error or "")
    click.echo(
        _(
            "%(total)s certificates (%(issued)s issued now).",
            total=batch.total,
            issued=batch.issued,
        )
    )
    if zip_to:
        shutil.copyfile(batches.zip_path(batch), zip_to)
        click.echo(zip_to)
