"""The admin's outbox page: what was queued, sent or failed (found by recipient), each
message's parts, sending a failed one again, and every mail template previewed with sample
data."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp import outbox
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.mail import build_message
from webapp.models import OutboxMessage, OutboxStatus, Role
from webapp.permissions import roles_required
from webapp.views import bp

STATUS_LABELS = {
    OutboxStatus.QUEUED: _l("Queued"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
}
# What each mail template is, for people; a template not named here shows its path.
TEMPLATE_TITLES = {
    "mail/password_reset": _l("Password reset"),
    "events/mail/ticket": _l("Ticket"),
    "events/mail/promoted": _l("A place from the waiting list"),
    "events/mail/cancelled": _l("Registration cancelled"),
    "events/mail/reminder": _l("Reminder"),
    "events/mail/announcement": _l("Organisers' message"),
    "certificates/mail/issued": _l("Certificate issued"),
}


def template_title(template: str) -> str:
    return str(TEMPLATE_TITLES.get(template, template))


@bp.app_context_processor
def _outbox_labels():
    return {"outbox_status_labels": STATUS_LABELS, "mail_template_title": template_title}


@bp.route("/admin/outbox")
@roles_required(Role.ADMIN)
def admin_outbox():
    status = request.args.get("status", "")
    recipient = request.args.get("q", "").strip().lower()[:254]
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in {s.value for s in OutboxStatus}:
        query = query.where(OutboxMessage.status == status)
    if recipient:
        found = func.lower(OutboxMessage.recipient).contains(recipient, autoescape=True)
        query = query.where(found)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template(
        "webapp/admin_outbox.html",
        page=page,
        statuses=list(OutboxStatus),
        recipient=recipient,
        templates=sorted(outbox.previews(), key=template_title),
    )


@bp.route("/admin/outbox/<int:message_id>")
@roles_required(Role.ADMIN)
def admin_outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "webapp/admin_outbox_message.html",
        message=message,
        parts=outbox.parts(message.content),
        form=ConfirmForm(),
    )


@bp.route("/admin/outbox/<int:message_id>/resend", methods=["POST"])
@roles_required(Role.ADMIN)
def admin_outbox_resend(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        message = outbox.resend(message_id)
    except outbox.OutboxError as refused:
        if refused.reason == "not_found":
            abort(404)
        flash(refused.message, "warning")
    else:
        flash(_("The message to %(to)s is queued again.", to=message.recipient), "success")
    return redirect(url_for("webapp.admin_outbox_message", message_id=message_id))


@bp.route("/admin/outbox/preview/<path:template>")
@roles_required(Role.ADMIN)
def admin_outbox_preview(template: str):
    preview = outbox.previews().get(template)
    if preview is None:
        abort(404)
    locale = request.args.get("lang", "ru")
    with force_locale(locale):
        message = build_message(
            "anna@example.org", preview.subject, preview.template, locale, **preview.context
        )
    return render_template(
        "webapp/admin_outbox_message.html",
        message=None,
        preview=preview,
        subject=message["Subject"],
        parts=outbox.parts(bytes(message)),
    )
