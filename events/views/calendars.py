"""Calendar files: an event's, a ticket's, and a person's feed (a course's is served by
courses/, with the same `calendar_response`). Every answer
carries an ETag and Last-Modified, and a client that has the current version gets a 304."""

from flask import Response, abort, request

from events.services import calendars
from events.views import bp, ticket_or_404, visible_event

CALENDAR_TYPE = "text/calendar; charset=utf-8"

# For the "Add to calendar" buttons (templates/events/_add_to_calendar.html).
for helper in (calendars.webcal_url, calendars.google_calendar_url, calendars.yandex_calendar_url):
    bp.add_app_template_global(helper)


def calendar_response(feed: calendars.Feed, filename: str) -> Response:
    response = Response(feed.body, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Clients poll feeds: they must ask again, and get a 304 when nothing changed.
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(feed.etag)
    if feed.last_modified:
        response.last_modified = feed.last_modified
    return response.make_conditional(request)


@bp.route("/events/<int:event_id>/calendar.ics")
def event_calendar(event_id: int):
    event = visible_event(event_id)
    return calendar_response(calendars.event_calendar(event), f"event-{event.id}.ics")


@bp.route("/t/<secret>/calendar.ics")
def ticket_calendar(secret: str):
    registration = ticket_or_404(secret)
    feed = calendars.ticket_calendar(registration)
    return calendar_response(feed, f"event-{registration.event_id}.ics")


@bp.route("/calendar/<feed_token>.ics")
def personal_calendar(feed_token: str):
    user = calendars.user_for_feed(feed_token)
    if user is None:
        abort(404)
    return calendar_response(calendars.personal_calendar(user), "tropa.ics")
