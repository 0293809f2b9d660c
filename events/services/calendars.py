"""iCalendar files: one event or course, one ticket, and a person's feed of everything they
are confirmed in (plus what they teach).

One VEVENT per session, the same for every file, so a client that subscribed to the feed
and imported a ticket sees one entry: UID `session-<id>@<host>`, SEQUENCE that grows on
every change (Session.sequence, bumped by events.services.editing), a
cancelled session kept with STATUS:CANCELLED so clients remove it, local times with the
event's TZID and the matching VTIMEZONE.
"""

import hashlib
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode, urlsplit

import icalendar
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from events.models import Event, EventKind, Registration, RegistrationStatus, Session
from webapp import signals
from webapp.extensions import db
from webapp.models import User
from webapp.services import random_secret
from webapp.transactions import unit_of_work
from webapp.urls import absolute_url, base_url


@dataclass(frozen=True)
class Feed:
    """A rendered calendar with what HTTP caching needs."""

    body: bytes
    etag: str
    last_modified: datetime | None


def host() -> str:
    return urlsplit(base_url()).hostname or "tropa.local"


def event_url(event: Event) -> str:
    section = "courses" if event.kind == EventKind.COURSE else "events"
    return absolute_url(f"/{section}/{event.id}")


def _event_details(event: Event) -> dict:
    """What every session of an event shares, worked out once per event."""
    location = ", ".join(filter(None, [event.venue, event.address]))
    description = "\n".join(filter(None, [event.online_url, event_url(event)]))
    return {
        "location": location or event.online_url,
        "url": event_url(event),
        "description": description,
        "tz": event.tz,
    }


def _vevent(
    session: Session,
    event: Event,
    details: dict,
    uid_host: str,
    url: str | None,
    cancelled: bool = False,
) -> icalendar.Event:
    entry = icalendar.Event()
    entry.add("uid", f"session-{session.id}@{uid_host}")
    # The time this version of the session was written: stable, so an unchanged feed is
    # byte for byte the same (and its ETag too).
    entry.add("dtstamp", session.updated_at)
    entry.add("sequence", session.sequence)
    entry.add("dtstart", session.starts_at.astimezone(details["tz"]))
    entry.add("dtend", session.ends_at.astimezone(details["tz"]))
    entry.add("summary", f"{event.title} · {session.room}" if session.room else event.title)
    if details["location"]:
        entry.add("location", details["location"])
    entry.add("url", url or details["url"])
    if details["description"]:
        entry.add("description", details["description"])
    if cancelled or session.cancelled_at or event.cancelled_at:
        entry.add("status", "CANCELLED")
    else:
        entry.add("status", "CONFIRMED")
    return entry


def render(
    sessions: Iterable[Session],
    name: str,
    url_for_event: dict[int, str] | None = None,
    all_cancelled: bool = False,
) -> Feed:
    """A VCALENDAR of the sessions (each with its `event` loaded); `all_cancelled` marks
    every session cancelled (the calendar of a cancelled registration)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Tropa//calendar//RU")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    uid_host = host()
    details: dict[int, dict] = {}
    first = last = None
    last_modified = None
    for session in sessions:
        event = session.event
        if event.id not in details:
            details[event.id] = _event_details(event)
        url = (url_for_event or {}).get(event.id)
        entry = _vevent(session, event, details[event.id], uid_host, url, all_cancelled)
        calendar.add_component(entry)
        first = min(first or session.starts_at, session.starts_at)
        last = max(last or session.ends_at, session.ends_at)
        last_modified = max(last_modified or session.updated_at, session.updated_at)
    if first is not None:
        first_date, last_date = first.date() - timedelta(days=1), last.date() + timedelta(days=1)
        # Before the sessions, as icalendar's add_missing_timezones puts them (a zone it
        # does not know is left out, as there).
        known = []
        for tzid in sorted(calendar.get_missing_tzids()):
            with suppress(ValueError):
                known.append(_vtimezone(tzid, first_date, last_date))
        calendar.subcomponents[:0] = known
    body = calendar.to_ical()
    return Feed(body, hashlib.sha256(body).hexdigest()[:32], last_modified)


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_date: date, last_date: date) -> icalendar.Timezone:
    """The VTIMEZONE of a zone over these dates, worked out once per process: icalendar
    searches the zone's transitions up to the year 9999 each time (20 ms and more for
    Europe/Moscow, which has none after 2014), the cost of every ticket mail and calendar
    file before. Shared between calendars, which only read it."""
    return icalendar.Timezone.from_tzid(tzid, first_date=first_date, last_date=last_date)


def event_calendar(event: Event) -> Feed:
    """Every session of an event or a course."""
    return render(event.sessions, event.title)


def ticket_calendar(registration: Registration) -> Feed:
    """The sessions of one registration, linking back to its ticket; all cancelled when the
    registration is."""
    from events.services.tickets import ticket_url

    event = registration.event
    return render(
        event.sessions,
        event.title,
        {event.id: ticket_url(registration.ticket_secret)},
        all_cancelled=registration.status == RegistrationStatus.CANCELLED,
    )


def personal_sessions_query(user: User):
    """Every session of every event the user is confirmed in, or teaches."""
    confirmed = select(Registration.event_id).where(
        Registration.user_id == user.id, Registration.status == RegistrationStatus.CONFIRMED
    )
    in_feed = [Session.event_id.in_(confirmed)]
    # Events a package says the person teaches (courses: its trainers; events cannot import
    # courses).
    in_feed += [
        Session.event_id.in_(taught) for taught in signals.collect(signals.taught_event_ids, user)
    ]
    return (
        select(Session)
        .join(Session.event)
        .options(contains_eager(Session.event))
        .where(or_(*in_feed))
        .order_by(Session.starts_at, Session.id)
    )


def personal_calendar(user: User) -> Feed:
    """The personal feed: one query, whatever the number of sessions."""
    sessions = db.session.scalars(personal_sessions_query(user)).unique().all()
    return render(sessions, f"Tropa · {user.full_name}")


# --- the personal feed's token ------------------------------------------------------------


def feed_token(user: User) -> str | None:
    """The user's feed token; None until they ask for one (a page that shows it must not
    write)."""
    return user.calendar_token


def reset_feed_token(user: User) -> str:
    """A new token (the first one, or a new one: the old feed URL stops working at once)."""
    with unit_of_work():
        user.calendar_token = random_secret()
    return user.calendar_token


def user_for_feed(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalar(
        select(User).where(User.calendar_token == token, User.deleted_at.is_(None))
    )


# --- links to calendars -------------------------------------------------------------------


def webcal_url(https_url: str) -> str:
    """The subscribe link of a feed: the same address on webcal://."""
    return "webcal://" + https_url.split("://", 1)[1]


def _utc_stamp(moment: datetime) -> str:
    """RFC 5545's basic UTC form, for machines (people read Babel's formats)."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(session: Session) -> str:
    event = session.event
    details = _event_details(event)
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_utc_stamp(session.starts_at)}/{_utc_stamp(session.ends_at)}",
        "details": details["description"],
        "location": details["location"] or "",
        "ctz": event.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def yandex_calendar_url(session: Session) -> str:
    event = session.event
    details = _event_details(event)
    start = session.starts_at.astimezone(event.tz)
    end = session.ends_at.astimezone(event.tz)
    query = {
        "name": event.title,
        "startTs": start.replace(tzinfo=None).isoformat(timespec="seconds"),
        "endTs": end.replace(tzinfo=None).isoformat(timespec="seconds"),
        "description": details["description"],
        "location": details["location"] or "",
        "timezone": event.timezone,
    }
    return "https://calendar.yandex.ru/event?" + urlencode(query)
