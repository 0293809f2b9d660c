"""Door check-in: the staff's scanning page, its JSON helpers and `POST /api/v1/checkin`.

The page (camera, photo upload, search, undo) talks to the API with its session cookie and
CSRF token; a scanner app uses a personal bearer token (webapp.api_auth). The page keeps a
hashed attendee list and a queue of scans in the browser, so it works on while offline
(events/static/checkin/checkin.js); its service worker makes a reload work offline too.
"""

from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from events.forms.checkin import BadRequestBody, parse_checkin_request, parse_undo_request
from events.models import AttendanceMethod, Event, Session
from events.services import access, checkin, door
from events.views import bp, event_for_checkin_staff
from webapp import LANGUAGES, api_auth, metrics
from webapp.extensions import csrf, db, limiter
from webapp.filters import local_datetime, local_time
from webapp.types import utcnow

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "checkin"
SEARCH_PAGE_SIZE = 20
MAX_SEARCH_PAGE = 10_000  # an offset every database takes
MAX_BODY_BYTES = 4096  # a check-in is a few short fields


def _json_error(status: int, reason: str, message) -> tuple[Response, int]:
    return jsonify(status="error", reason=reason, message=str(message)), status


def _staff_event(event_id: int) -> Event:
    """For the page's JSON helpers: 401 when signed out (a fetch cannot follow a login
    redirect), 403 without the check-in right."""
    if not current_user.is_authenticated:
        abort(401)
    return event_for_checkin_staff(event_id)


def _session_arg(event: Event) -> Session | None:
    """The session named by ?session_id= if it is the event's, else the current one."""
    wanted = request.args.get("session_id", type=int)
    chosen = next((s for s in event.sessions if s.id == wanted), None)
    return chosen or checkin.current_session(event)


def _session_json(session: Session, event: Event) -> dict:
    starts = local_datetime(session.starts_at, event.tz, "dd.MM HH:mm")
    ends = local_time(session.ends_at, event.tz)
    label = f"{starts}–{ends}" + (f" · {session.room}" if session.room else "")
    return {
        "id": session.id,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "label": label,
    }


# --- the page -----------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/checkin")
@login_required
def checkin_page(event_id: int):
    event = event_for_checkin_staff(event_id)
    current = _session_arg(event)  # a trainer's session page links with ?session_id=
    page_url = url_for("events.checkin_page", event_id=event.id)
    config = {
        "eventId": event.id,
        "timezone": event.timezone,
        "windowOpensMinutes": current_app.config["TROPA_CHECKIN_OPENS_MINUTES"],
        "sessions": [_session_json(s, event) for s in event.sessions],
        "sessionId": current.id if current else None,
        "urls": {
            "page": page_url,
            "api": url_for("events.api_checkin"),
            "stats": url_for("events.checkin_stats", event_id=event.id),
            "attendees": url_for("events.checkin_attendees", event_id=event.id),
            "search": url_for("events.checkin_search", event_id=event.id),
            "undo": url_for("events.checkin_undo", event_id=event.id),
            "serviceWorker": url_for("events.checkin_service_worker", event_id=event.id),
        },
        "userId": current_user.id,
        "text": _page_texts(),
    }
    return render_template("events/checkin.html", event=event, config=config)


def _page_texts() -> dict:
    """What the page's script says, in the user's language."""
    return {
        "online": str(_l("Online")),
        "offline": str(_l("Offline")),
        "queued": str(_l("offline — %(count)s scans queued", count="{n}")),
        "syncing": str(_l("Sending queued scans…")),
        "offlineCheck": str(_l("Checked against the offline list; it is sent when back online.")),
        "offlineUnknown": str(_l("Not in the offline list.")),
        "offlineAlready": str(_l("Already checked in at {time}.")),
        "ok": str(_l("Checked in")),
        "refused": str(_l("Not admitted")),
        "already": str(_l("Already checked in")),
        "noCode": str(_l("No QR code found in this picture. Try again closer and sharper.")),
        "cameraOff": str(_l("The camera is not available: take a photo of the ticket instead.")),
        "scanning": str(_l("Point the camera at the ticket's QR code.")),
        "undone": str(_l("Check-in undone: {name}.")),
        "nothingToUndo": str(_l("Nothing to undo.")),
        "checkIn": str(_l("Check in")),
        "noResults": str(_l("Nobody found.")),
        "more": str(_l("More")),
        "conflict": str(_l("After sync")),
        "signedOut": str(_l("You are signed out: sign in again to send the queued scans.")),
        "failed": str(_l("The server did not answer. Try again.")),
        "statuses": {
            "confirmed": str(_l("Confirmed")),
            "waitlisted": str(_l("Waiting list")),
            "pending": str(_l("Awaiting approval")),
            "cancelled": str(_l("Cancelled")),
        },
        "reasons": {reason: str(message) for reason, message in checkin.REASON_MESSAGES.items()},
    }


@bp.route("/events/<int:event_id>/checkin/sw.js")
def checkin_service_worker(event_id: int):
    """The page's service worker, served under the page's path so it may control it. It
    holds no data (only code), so anyone may fetch it."""
    db.get_or_404(Event, event_id)
    response = send_from_directory(STATIC_DIR, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = url_for("events.checkin_page", event_id=event_id)
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- the page's JSON helpers --------------------------------------------------------------


@bp.route("/events/<int:event_id>/checkin/stats")
def checkin_stats(event_id: int):
    """Live counters; `now` lets the page correct its clock for offline scans."""
    event = _staff_event(event_id)
    session = _session_arg(event)
    counts = door.checkin_counts(event.id, session.id if session else None)
    return jsonify(**counts, session_id=session.id if session else None, now=utcnow().isoformat())


@bp.route("/events/<int:event_id>/checkin/attendees")
def checkin_attendees(event_id: int):
    """The offline list for this staff member's browser: hashes of the secrets, never the
    secrets themselves."""
    event = _staff_event(event_id)
    response = jsonify(
        event_id=event.id,
        generated_at=utcnow().isoformat(),
        sessions=[_session_json(s, event) for s in event.sessions],
        attendees=door.offline_list(event),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/events/<int:event_id>/checkin/search")
def checkin_search(event_id: int):
    event = _staff_event(event_id)
    session = _session_arg(event)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_SEARCH_PAGE)
    rows, has_next = door.search_registrations(
        event.id,
        request.args.get("q", "")[:200],
        session.id if session else None,
        page=page,
        per_page=SEARCH_PAGE_SIZE,
    )
    return jsonify(results=rows, page=page, has_next=has_next)


@bp.route("/events/<int:event_id>/checkin/undo", methods=["POST"])
def checkin_undo(event_id: int):
    """Undo a check-in (the page's "undo last"); the audit trail keeps both."""
    event = _staff_event(event_id)
    try:
        registration_id, session_id = parse_undo_request(request.get_json(force=True, silent=True))
    except BadRequestBody as error:
        return _json_error(400, "bad_request", error.message)
    attendee = checkin.undo_check_in(
        event_id=event.id,
        registration_id=registration_id,
        session_id=session_id,
        by_user=current_user,
    )
    if attendee is None:
        return jsonify(
            status="error",
            reason="not_checked_in",
            message=str(_l("This check-in was already undone.")),
            attendee=None,
        )
    return jsonify(status="ok", message="", attendee=attendee)


# --- the API ------------------------------------------------------------------------------


def _checkin_rate_limit() -> str:
    return current_app.config["TROPA_CHECKIN_RATE_LIMIT"]


@bp.route("/api/v1/checkin", methods=["POST"])
@csrf.exempt  # a bearer token needs none; api_auth checks the cookie path's CSRF itself
@limiter.limit(_checkin_rate_limit, key_func=api_auth.rate_limit_key)
def api_checkin():
    """`{"secret", "event_id" | "session_id", "nonce", "scanned_at"?}` → the check-in answer."""
    try:
        user = api_auth.api_user()
    except api_auth.ApiAuthError as error:
        response = jsonify(error.as_json())
        if error.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response, error.status
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _json_error(400, "bad_request", _l("The request is too large."))
    try:
        body = parse_checkin_request(request.get_json(force=True, silent=True))
    except BadRequestBody as error:
        return _json_error(400, "bad_request", error.message)
    if body.event_id is None and body.session_id is None:
        event_id = checkin.event_id_of_ticket(body.secret, body.registration_id)
        if event_id is None:
            if not access.can_check_in_somewhere(user):
                return _json_error(403, "forbidden", _l("You may not check people in."))
            return jsonify(
                checkin.refuse_unknown_ticket(
                    nonce=body.nonce,
                    by_user=user,
                    method=AttendanceMethod.DOOR,
                    client_ip=request.remote_addr,
                )
            )
        body = replace(body, event_id=event_id)
    event = _event_of(body)
    if event is None:
        return _json_error(400, "bad_request", _l("There is no such event or session."))
    if not checkin.may_check_in(user, event.id):
        return _json_error(403, "forbidden", _l("You may not check people in at this event."))
    # A bearer request has no session cookie: answer in the token holder's language.
    bearer_locale = user.locale if api_auth.uses_bearer_token() else None
    with force_locale(bearer_locale) if bearer_locale in LANGUAGES else nullcontext():
        try:
            answer = checkin.check_in(
                event_id=event.id,
                scanned=body.secret,
                registration_id=body.registration_id,
                session_id=body.session_id,
                nonce=body.nonce,
                by_user=user,
                method=checkin.scan_method(event, bool(body.secret)),
                client_ip=request.remote_addr,
                scanned_at=body.scanned_at,
            )
        except checkin.CheckinRequestError as error:
            return _json_error(400, "bad_request", error.message)
    return jsonify(metrics.count_checkin(answer))


def _event_of(body) -> checkin.DoorEvent | None:
    """The event the scan names, by itself or by its session (cached a few seconds)."""
    if body.event_id is not None:
        return checkin.door_event(body.event_id)
    event_id = checkin.event_id_of_session(body.session_id)
    return checkin.door_event(event_id) if event_id is not None else None
