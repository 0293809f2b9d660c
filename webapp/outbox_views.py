"""The admin's outbox page: what was queued, sent or failed, each message's parts, and
every mail template previewed with sample data."""

from flask import abort, render_template, request
from flask_babel import force_locale
from sqlalchemy import select

from webapp import outbox
from webapp.extensions import db
from webapp.mail import build_message
from webapp.models import OutboxMessage, OutboxStatus, Role
from webapp.permissions import roles_required
from webapp.views import bp


@bp.route("/admin/outbox")
@roles_required(Role.ADMIN)
def admin_outbox():
    status = request.args.get("status", "")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in {s.value for s in OutboxStatus}:
        query = query.where(OutboxMessage.status == status)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template(
        "webapp/admin_outbox.html",
        page=page,
        statuses=list(OutboxStatus),
        templates=sorted(outbox.previews()),
    )


@bp.route("/admin/outbox/<int:message_id>")
@roles_required(Role.ADMIN)
def admin_outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "webapp/admin_outbox_message.html",
        message=message,
        parts=outbox.parts(message.content),
    )


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
