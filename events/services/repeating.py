"""Repeating sessions: "weekly × N" or "weekly until a date" on the session forms of events
and courses. Each session keeps the wall-clock time in the event's zone, so a series that
crosses a change to or from summer time still starts at 18:00 local every week (its UTC
time moves instead)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from events.models import Event, Session
from webapp import signals
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.timezones import to_utc
from webapp.transactions import unit_of_work

MAX_SESSIONS = 52  # a year of weeks in one go


class RepeatError(ServiceError):
    MESSAGES = {
        "too_many": _l("At most %(n)s sessions at once.", n=MAX_SESSIONS),
        "until_before_start": _l("The last date must be on or after the first session's date."),
    }


@dataclass(frozen=True)
class Series:
    first: date
    starts: time
    ends: time
    room: str = ""
    count: int | None = None  # weekly, this many sessions (the first included)
    until: date | None = None  # weekly, up to and including this date


def weekly_dates(series: Series) -> list[date]:
    if series.until is not None:
        if series.until < series.first:
            raise RepeatError("until_before_start", field="repeat_until")
        count = (series.until - series.first).days // 7 + 1
    else:
        count = series.count or 1
    if count > MAX_SESSIONS:
        raise RepeatError("too_many", field="repeat_count")
    return [series.first + timedelta(weeks=week) for week in range(count)]


def add_series(event_id: int, series: Series) -> list[Session]:
    """Add the series' sessions to the event in one unit of work, each announced as a new
    session (signals.session_changed: reminders, the catalogue); returns them."""
    days = weekly_dates(series)
    with unit_of_work():
        event = db.session.get(Event, event_id)
        sessions = [
            Session(
                event_id=event.id,
                starts_at=to_utc(datetime.combine(day, series.starts), event.timezone),
                ends_at=to_utc(datetime.combine(day, series.ends), event.timezone),
                room=series.room.strip() or None,
            )
            for day in days
        ]
        db.session.add_all(sessions)
        db.session.flush()
        for session in sessions:
            signals.session_changed.send(session)
    return sessions
