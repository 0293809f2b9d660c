"""The registrant list's tools: bulk actions on the picked people, the printable door list
and the name badges (PDF)."""

from flask import Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from events.forms.bulk import BulkForm
from events.models import Event
from events.services import badges, bulk, door_list
from events.views import bp
from events.views.registrants import outreach_event

SHOWN_NAMES = 10  # a flash lists this many names, then counts the rest


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    if len(names) > SHOWN_NAMES:
        shown += " " + _("and %(n)s more", n=len(names) - SHOWN_NAMES)
    return shown


def _back(event: Event, target: str | None) -> str:
    """Back to the list as it was (its filters, sort and page), never elsewhere."""
    prefix = f"/manage/events/{event.id}/registrants"
    if target and target.startswith(prefix) and "//" not in target:
        return target
    return url_for("events.registrants", event_id=event.id)


@bp.route("/manage/events/<int:event_id>/registrants/bulk", methods=["POST"])
@login_required
def registrants_bulk(event_id: int):
    event = outreach_event(event_id, manage=True)
    form = BulkForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: pick people and choose an action."), "warning")
        return redirect(_back(event, form.next.data))
    try:
        report = bulk.apply(
            event,
            form.ids.data,
            form.action.data,
            by_user=current_user,
            subject=form.subject.data or "",
            body=form.body.data or "",
        )
    except bulk.BulkError as refused:
        flash(refused.message, "warning")
        return redirect(_back(event, form.next.data))
    _report(report)
    return redirect(_back(event, form.next.data))


def _report(report: bulk.BulkReport) -> None:
    action = str(bulk.ACTION_LABELS[report.action])
    if report.done:
        flash(
            ngettext(
                "%(action)s: done for %(num)d person: %(names)s.",
                "%(action)s: done for %(num)d people: %(names)s.",
                len(report.done),
                action=action,
                names=_names(report.done),
            ),
            "success",
        )
    for name, why in report.refusals():
        flash(_("%(name)s: not done. %(why)s", name=name, why=why), "warning")
    if report.promoted:
        names = _names(sorted(report.promoted))
        flash(_("Promoted from the waiting list: %(names)s", names=names), "info")


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@bp.route("/manage/events/<int:event_id>/door-list.pdf")
@login_required
def door_list_pdf(event_id: int):
    event = outreach_event(event_id, manage=False)
    return _pdf(door_list.door_list_pdf(event), f"door-list-{event.id}.pdf")


@bp.route("/manage/events/<int:event_id>/badges.pdf")
@login_required
def badges_pdf(event_id: int):
    event = outreach_event(event_id, manage=True)
    return _pdf(badges.badges_pdf(event), f"badges-{event.id}.pdf")
