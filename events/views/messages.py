"""Writing to the registrants of an event or a course: a form, a preview, then the outbox."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from events.forms.messages import AnnouncementForm
from events.models import RegistrationStatus
from events.services import messages
from events.views import bp, event_for_managers
from webapp.outbox import parts


def _announcement(form: AnnouncementForm) -> messages.Announcement:
    checked_in = {"yes": True, "no": False}.get(form.checked_in.data)
    status = RegistrationStatus(form.status.data) if form.status.data else None
    return messages.Announcement(
        subject=form.subject.data.strip(),
        body=form.body.data.strip(),
        status=status,
        checked_in=checked_in,
    )


@bp.route("/manage/events/<int:event_id>/message", methods=["GET", "POST"])
@login_required
def write_to_registrants(event_id: int):
    event = event_for_managers(event_id)
    form = AnnouncementForm()
    shown = count = None
    if form.validate_on_submit():
        announcement = _announcement(form)
        if form.send.data:
            sent = messages.send_announcement(event, announcement)
            flash(_("The message is on its way to %(n)s people.", n=sent), "success")
            return redirect(url_for("events.write_to_registrants", event_id=event.id))
        count = messages.recipient_count(event, announcement)
        message = messages.preview(event, announcement)
        shown = {"subject": message["Subject"], **parts(bytes(message))} if message else None
    return render_template(
        "events/write_to_registrants.html", event=event, form=form, preview=shown, count=count
    )
