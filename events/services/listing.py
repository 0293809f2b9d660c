"""Lists of outreach events and what their cards, pages and the API show, in constant
queries whatever the number of events."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, func, or_, select

from events.models import (
    PRESENT_OR_LATE,
    Attendance,
    Event,
    EventKind,
    Registration,
    Session,
    Visibility,
)
from events.services import seats
from webapp.extensions import db
from webapp.models import search_key
from webapp.types import utcnow

OUTREACH = EventKind.EVENT  # forums, seminars, round tables (courses are EventKind.COURSE)
UPCOMING, PAST = "upcoming", "past"
ONLINE, OFFLINE = "online", "offline"


def _first_start():
    return (
        select(func.min(Session.starts_at))
        .where(Session.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )


def _last_end():
    return (
        select(func.max(Session.ends_at))
        .where(Session.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class EventFilter:
    """The public list's search and filters; dates are days in the centre's time zone."""

    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    format: str | None = None  # ONLINE: has a link; OFFLINE: has a venue or address
    municipality: str | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(current_app.config["TROPA_TIMEZONE"]))


def _filtered(query: Select, wanted: EventFilter, starts, ends) -> Select:
    for word in search_key(wanted.text).split():
        query = query.where(Event.search_text.contains(word, autoescape=True))
    if wanted.date_from:  # still on (or after) that day
        query = query.where(ends >= _day_start(wanted.date_from))
    if wanted.date_to:  # begun by the end of that day
        query = query.where(starts < _day_start(wanted.date_to + timedelta(days=1)))
    if wanted.format == ONLINE:
        query = query.where(func.coalesce(Event.online_url, "") != "")
    elif wanted.format == OFFLINE:
        query = query.where(
            or_(func.coalesce(Event.venue, "") != "", func.coalesce(Event.address, "") != "")
        )
    if wanted.municipality:
        query = query.where(Event.municipality == wanted.municipality)
    return query


def event_list_query(when: str = UPCOMING, wanted: EventFilter | None = None) -> Select:
    """Published outreach events that match `wanted`: upcoming (not over yet, soonest
    first, undated last), past (the latest first) or all of them by date."""
    now = utcnow()
    query = select(Event).where(Event.kind == OUTREACH, Event.visibility == Visibility.PUBLISHED)
    starts, ends = _first_start(), _last_end()
    if wanted is not None:
        query = _filtered(query, wanted, starts, ends)
    if when == PAST:
        return query.where(ends < now).order_by(starts.desc(), Event.id.desc())
    if when == UPCOMING:
        query = query.where((ends >= now) | ends.is_(None))
    return query.order_by(starts.is_(None), starts, Event.id)


def organisers_list_query() -> Select:
    """Every outreach event, drafts and cancelled ones too, the latest (and undated) first:
    what an organiser works on is at the top, the archive below."""
    starts = _first_start()
    return (
        select(Event)
        .where(Event.kind == OUTREACH)
        .order_by(starts.is_(None).desc(), starts.desc(), Event.id.desc())
    )


def upcoming_events(limit: int) -> list["EventSummary"]:
    """The next few published events, for the home page."""
    return summarise(list(db.session.scalars(event_list_query(UPCOMING).limit(limit))))


@dataclass
class EventSummary:
    """What a card, the event page or the API shows of an event."""

    event: Event
    counts: seats.SeatCounts
    starts_at: datetime | None
    ends_at: datetime | None
    checked_in: int
    closed_reason: str | None  # None while registration is open

    @property
    def places_left(self) -> int | None:
        return self.counts.places_left(self.event.capacity)

    @property
    def registration_open(self) -> bool:
        return self.closed_reason is None

    @property
    def is_over(self) -> bool:
        return self.ends_at is not None and self.ends_at < utcnow()


def closed_reason(event: Event, ends_at: datetime | None, now: datetime | None = None):
    """Why registration is closed now (seats.registration_state's reasons, or "over" once
    the event has ended and no closing time said so earlier), or None when it is open."""
    now = now or utcnow()
    if reason := seats.registration_state(event, now):
        return reason
    if ends_at is not None and ends_at < now:
        return "over"
    return None


def registration_closed_reason(event: Event) -> str | None:
    """`closed_reason` of one event from its own sessions (the event page loads them), without
    the summary's counts."""
    return closed_reason(event, max((session.ends_at for session in event.sessions), default=None))


def summarise(events: list[Event]) -> list[EventSummary]:
    """Summaries of a page of events: three queries, however many events."""
    ids = [event.id for event in events]
    counts = seats.seat_counts(ids)
    spans = _spans(ids)
    checked_in = checked_in_counts(ids)
    now = utcnow()
    summaries = []
    for event in events:
        starts_at, ends_at = spans.get(event.id, (None, None))
        summaries.append(
            EventSummary(
                event=event,
                counts=counts.get(event.id, seats.SeatCounts()),
                starts_at=starts_at,
                ends_at=ends_at,
                checked_in=checked_in.get(event.id, 0),
                closed_reason=closed_reason(event, ends_at, now),
            )
        )
    return summaries


def _spans(event_ids: list[int]) -> dict[int, tuple[datetime, datetime]]:
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Session.event_id, func.min(Session.starts_at), func.max(Session.ends_at))
        .where(Session.event_id.in_(event_ids))
        .group_by(Session.event_id)
    )
    return {event_id: (starts, ends) for event_id, starts, ends in rows}


def checked_in_counts(event_ids: list[int]) -> dict[int, int]:
    """People marked present or late at any session, per event, in one query."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Registration.event_id, func.count(func.distinct(Attendance.registration_id)))
        .join(Attendance, Attendance.registration_id == Registration.id)
        .where(
            Registration.event_id.in_(event_ids),
            Attendance.status.in_(PRESENT_OR_LATE),
        )
        .group_by(Registration.event_id)
    )
    return dict(rows.all())
