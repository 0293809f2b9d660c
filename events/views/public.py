"""Events: the public list, the event page with its registration form, tickets, and the
public JSON API."""

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from events.forms.listing import EventListForm
from events.forms.registration import RegistrationForm, registration_form
from events.models import Event, Registration, RegistrationStatus
from events.services import access, listing, seats, tickets
from events.services import registration as registration_service
from events.views import bp, ticket_or_404, visible_event
from webapp.caching import ShortCache
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.urls import absolute_url_for

# Registrations made in this browser, remembered in the (signed) session cookie: a second
# submission of the form leads back to the ticket, as it does for the account that owns it.
MY_REGISTRATIONS = "my_registrations"
REMEMBERED = 20


# --- list and event page -------------------------------------------------------------------


# The list's pages, rendered, for a few seconds per process: what they show also changes
# with the clock (an event ends, registration opens), so they expire rather than wait for
# a change to be announced. Places left and new or edited events may show up to these
# seconds late on the list; the event page, where people register, is always exact.
LIST_CACHE_SECONDS = 5
_list_pages: ShortCache[Markup] = ShortCache(LIST_CACHE_SECONDS, max_entries=256)


@bp.route("/events/")
def event_list():
    # Everything but the page's frame is the same for everyone who asks the same question
    # in the same language; the share link is absolute, so the address asked is in the key.
    key = (str(get_locale()), request.url_root, request.query_string)
    content = _list_pages.get_or_load(key, _event_list_content)
    return render_template("events/list.html", content=content)


def _event_list_content() -> Markup:
    form = EventListForm(formdata=request.args)
    wanted = form.to_filter()
    page = db.paginate(
        listing.event_list_query(form.when_value, wanted),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    cards = listing.summarise(list(page.items))
    html = render_template(
        "events/_list_content.html",
        page=page,
        cards=cards,
        when=form.when_value,
        form=form,
        filtered=wanted != listing.EventFilter(),
        share_url=_share_url(),
    )
    return Markup(html)  # noqa: S704  rendered by Jinja with autoescaping


def _share_url() -> str:
    """The list as filtered now, without the empty fields and the page number."""
    args = {name: value for name, value in request.args.items() if value and name != "page"}
    return absolute_url_for("events.event_list", **args)


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
def event_page(event_id: int):
    event = visible_event(event_id)
    user = current_user if current_user.is_authenticated else None
    mine = registration_service.my_registration(event, user, session.get(MY_REGISTRATIONS, []))
    form = None
    # From the event's own dates: a registration answers with a redirect and needs none of
    # the summary's counts (the seat service counts under the lock).
    registration_open = listing.registration_closed_reason(event) is None
    if registration_open and (mine is None or request.method == "POST"):
        form = registration_form(event, current_user)
        if form.validate_on_submit():
            return _register(event, form, mine)
    return render_template(
        "events/event.html",
        event=event,
        summary=listing.summarise([event])[0],
        form=form,
        mine=mine,
        can_manage=access.can_manage(current_user, event),
    )


def _register(event: Event, form: RegistrationForm, mine: Registration | None):
    """Register from the form; `mine` is the registration this browser or account already
    has here, if any."""
    user = current_user if current_user.is_authenticated else None
    data = registration_service.RegistrationData(
        full_name=form.full_name.data,
        email=form.email.data,
        phone=form.phone.data,
        answers=form.answers(),
        consent=form.consent.data,
        locale=str(get_locale()),
    )
    if event.asks_organisation:
        data.organisation_type = form.organisation_type.data
        data.organisation_name = form.organisation_name.data
        data.inn = form.inn.data
    try:
        result = registration_service.register(event, data, user)
    except seats.RegistrationRefused as refused:
        flash(refused.message, "warning")
        return redirect(url_for("events.event_page", event_id=event.id))
    if result.created:
        _remember(result.registration_id)
        flash(_created_message(result.status), "success")
    elif mine is not None and mine.id == result.registration_id:
        flash(_("You are already registered for this event: here is your ticket."), "info")
    else:
        # Someone else may be typing this address: the ticket goes to the address only, and
        # at most once an hour (anyone may type any address).
        if registration_service.send_ticket(result.registration_id, str(get_locale())):
            message = _(
                "This e-mail address is already registered for the event. We have sent "
                "the link to its ticket to that address again (we do so at most once an hour)."
            )
        else:
            message = _(
                "This e-mail address is already registered for the event. The link to its "
                "ticket was sent to that address again less than an hour ago: look for it "
                "there (we send it at most once an hour)."
            )
        flash(message, "info")
        return redirect(url_for("events.event_page", event_id=event.id))
    # The anchor replaces the form's #register, which the browser would carry over.
    return redirect(url_for("events.ticket", secret=result.ticket_secret, _anchor="ticket"))


def _created_message(status: RegistrationStatus) -> str:
    if status == RegistrationStatus.PENDING:
        return _("Thank you! An organiser will confirm your registration; the ticket shows it.")
    if status == RegistrationStatus.WAITLISTED:
        return _(
            "The event is full: you are on the waiting list. We will write when a place is yours."
        )
    return _("You are registered. Here is your ticket; we have sent it by e-mail too.")


def _remember(registration_id: int) -> None:
    mine = session.get(MY_REGISTRATIONS, [])
    session[MY_REGISTRATIONS] = [*mine, registration_id][-REMEMBERED:]


# --- tickets -------------------------------------------------------------------------------


@bp.after_request
def _keep_tickets_private(response: Response) -> Response:
    """The secret is in a ticket's URL: search engines must not index it, and no link on
    the page may send it onwards as a Referer."""
    if request.path.startswith("/t/"):
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/t/<secret>")
def ticket(secret: str):
    registration = ticket_or_404(secret)
    url = tickets.ticket_url(registration.ticket_secret)
    return render_template(
        "events/ticket.html",
        registration=registration,
        event=registration.event,
        position=tickets.waitlist_position(registration),
        qr_svg=tickets.qr_svg(url),
        ticket_url=url,
        may_cancel=tickets.may_cancel(registration),
    )


@bp.route("/t/<secret>/cancel", methods=["GET", "POST"])
def cancel_ticket(secret: str):
    """A confirmation page, then the cancellation: a place freed goes to the waiting list."""
    registration = ticket_or_404(secret)
    if not tickets.may_cancel(registration):
        flash(_("This registration cannot be cancelled any more."), "warning")
        return redirect(url_for("events.ticket", secret=registration.ticket_secret))
    form = ConfirmForm()
    if form.validate_on_submit():
        seats.cancel(registration.id)
        flash(_("Your registration is cancelled."), "info")
        return redirect(url_for("events.ticket", secret=registration.ticket_secret))
    return render_template(
        "events/ticket_cancel.html", registration=registration, event=registration.event, form=form
    )


def _download(body, mimetype: str, filename: str, inline: bool = True) -> Response:
    response = Response(body, mimetype=mimetype)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@bp.route("/t/<secret>/qr.png")
def ticket_qr_png(secret: str):
    registration = ticket_or_404(secret)
    png = tickets.qr_png(tickets.ticket_url(registration.ticket_secret))
    return _download(png, "image/png", f"ticket-{registration.event_id}.png")


@bp.route("/t/<secret>/qr.svg")
def ticket_qr_svg(secret: str):
    registration = ticket_or_404(secret)
    svg = tickets.qr_svg(tickets.ticket_url(registration.ticket_secret))
    return _download(svg, "image/svg+xml", f"ticket-{registration.event_id}.svg")


@bp.route("/t/<secret>/ticket.pdf")
def ticket_pdf(secret: str):
    registration = ticket_or_404(secret)
    pdf = tickets.ticket_pdf(registration)
    return _download(pdf, "application/pdf", f"ticket-{registration.event_id}.pdf")


# --- public JSON API -----------------------------------------------------------------------


def _event_json(summary: listing.EventSummary, with_sessions: bool = False) -> dict:
    event = summary.event
    data = {
        "id": event.id,
        "title": event.title,
        "url": absolute_url_for("events.event_page", event_id=event.id),
        "starts_at": summary.starts_at.isoformat() if summary.starts_at else None,
        "ends_at": summary.ends_at.isoformat() if summary.ends_at else None,
        "timezone": event.timezone,
        "venue": event.venue,
        "address": event.address,
        "online": bool(event.online_url),
        "cancelled": event.cancelled_at is not None,
        "capacity": event.capacity,
        "confirmed": summary.counts.confirmed,
        "waitlisted": summary.counts.waitlisted,
        "places_left": summary.places_left,
        "registration_open": summary.registration_open,
        "checked_in": summary.checked_in,
    }
    if with_sessions:
        data["sessions"] = [
            {"id": s.id, "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat()}
            for s in event.sessions
        ]
    return data


API_WHEN = (listing.UPCOMING, listing.PAST, "all")


@bp.route("/api/v1/events")
def api_events():
    when = request.args.get("when", listing.UPCOMING)
    if when not in API_WHEN:
        message = _("when is one of: %(values)s.", values=", ".join(API_WHEN))
        return jsonify(status="error", reason="bad_request", message=message), 400
    page = db.paginate(listing.event_list_query(when), per_page=100, error_out=False)
    return jsonify(
        events=[_event_json(s) for s in listing.summarise(list(page.items))],
        page=page.page,
        pages=page.pages,
        total=page.total,
    )


@bp.route("/api/v1/events/<int:event_id>")
def api_event(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None or event.kind != listing.OUTREACH or not event.is_published:
        return jsonify(status="error", reason="not_found", message=_("No such event.")), 404
    return jsonify(_event_json(listing.summarise([event])[0], with_sessions=True))
