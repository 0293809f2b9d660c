"""The JSON bodies of the check-in API and the door page, checked field by field.

A malformed body is answered 400 with one of these messages, never a 500: ids are bounded
to what every database's integer holds, texts to their columns, times must carry a zone.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from events.services.checkin import NONCE_MAX_LENGTH
from webapp.forms import FIRST_DAY, LAST_DAY

MAX_ID = 2**31 - 1  # a PostgreSQL integer
MAX_SCANNED_TEXT = 500  # a ticket URL with some room; a secret is 26 characters


class BadRequestBody(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


@dataclass(frozen=True)
class CheckinRequest:
    """`secret` (what was scanned: the secret or the ticket URL) or `registration_id` (a
    manual check-in from the search); the event by `event_id`, or by `session_id`, or, for a
    one-session event as DESIGN.md allows, by the ticket itself."""

    event_id: int | None
    session_id: int | None
    secret: str | None
    registration_id: int | None
    nonce: str | None
    scanned_at: datetime | None


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise BadRequestBody(_l("The body must be a JSON object."))
    return data


def _optional_id(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    # bool is an int in Python; an id never is.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise BadRequestBody(_l("%(field)s must be a positive whole number.", field=name))
    return value


def _optional_text(data: dict, name: str, max_length: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise BadRequestBody(
            _l(
                "%(field)s must be a text of at most %(max)d characters.",
                field=name,
                max=max_length,
            )
        )
    return value.strip() or None


def _optional_time(data: dict, name: str) -> datetime | None:
    text = _optional_text(data, name, 40)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise BadRequestBody(
            _l(
                "%(field)s must be an ISO 8601 time with its zone, as 2026-05-14T10:05:00Z.",
                field=name,
            )
        )
    return moment


def parse_checkin_request(data) -> CheckinRequest:
    data = _object(data)
    request = CheckinRequest(
        event_id=_optional_id(data, "event_id"),
        session_id=_optional_id(data, "session_id"),
        secret=_optional_text(data, "secret", MAX_SCANNED_TEXT),
        registration_id=_optional_id(data, "registration_id"),
        nonce=_optional_text(data, "nonce", NONCE_MAX_LENGTH),
        scanned_at=_optional_time(data, "scanned_at"),
    )
    if (request.secret is None) == (request.registration_id is None):
        raise BadRequestBody(_l("Send the scanned ticket as secret (or a registration_id)."))
    return request


def parse_undo_request(data) -> tuple[int, int]:
    """(registration_id, session_id) of the check-in to undo."""
    data = _object(data)
    registration_id = _optional_id(data, "registration_id")
    session_id = _optional_id(data, "session_id")
    if registration_id is None or session_id is None:
        raise BadRequestBody(_l("registration_id and session_id are required."))
    return registration_id, session_id
