"""The events blueprint, one module a concern: `public` (list, event page, registration,
tickets), `manage` (editing events), `registrants` (the organiser's list, export, import),
`registrant_tools` (bulk actions, the door list and badges), `checkin` (the door page and
the check-in API), `calendars` (the .ics files and feeds), `messages` (writing to
registrants)."""

from flask import Blueprint, abort, make_response, render_template
from flask_login import current_user

from events.models import Event, Registration
from events.services import access, listing, tickets
from webapp.extensions import db

bp = Blueprint(
    "events",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static/events",
)


def event_for_managers(event_id: int) -> Event:
    """The event, or 404; 403 unless the current user may manage it."""
    event = db.get_or_404(Event, event_id)
    if not access.can_manage(current_user, event):
        abort(403)
    return event


def event_for_checkin_staff(event_id: int) -> Event:
    """The event, or 404; 403 unless the current user may check people in."""
    event = db.get_or_404(Event, event_id)
    if not access.can_check_in(current_user, event):
        abort(403)
    return event


def visible_event(event_id: int) -> Event:
    """An outreach event that is published, or a draft for those who may manage it."""
    event = db.session.get(Event, event_id)
    if event is None or event.kind != listing.OUTREACH:
        abort(404)
    if not event.is_published and not access.can_manage(current_user, event):
        abort(404)
    return event


def ticket_or_404(secret: str) -> Registration:
    """The registration of a ticket secret, or a friendly 404 page."""
    registration = tickets.find_ticket(secret)
    if registration is None:
        abort(make_response(render_template("events/ticket_not_found.html"), 404))
    return registration


# The modules register their routes on `bp` when imported.
from events.views import (  # noqa: E402, F401
    calendars,
    checkin,
    manage,
    messages,
    public,
    registrant_tools,
    registrants,
)
