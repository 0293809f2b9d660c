"""The events blueprint, one module a concern: `public` (list, event page, registration,
tickets), `manage` (editing events), `registrants` (the organiser's list, export, import),
`checkin` (the door page and the check-in API), `calendars` (the .ics files and feeds),
`messages` (writing to registrants)."""

from flask import Blueprint, abort
from flask_login import current_user

from events.models import Event
from events.services import access
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


# The modules register their routes on `bp` when imported.
from events.views import (  # noqa: E402, F401
    calendars,
    checkin,
    manage,
    messages,
    public,
    registrants,
)
