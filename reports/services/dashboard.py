"""The dashboard: every number in one statement, registrations by month, and both with
the outcomes kept per process until the data they come from changes."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    case,
    func,
    literal_column,
    null,
    select,
)

from events.models import Event, EventKind, Registration, RegistrationStatus
from events.models import Session as EventSession
from reports import outcomes
from reports.models import REPORTS_STAMP
from reports.services import ReportFilter, courses_table
from reports.services.lists import LISTINGS, attendance_places, people_of_registrations
from webapp.caching import StampedCache
from webapp.extensions import db
from webapp.types import utcnow


@dataclass
class Figures:
    values: dict[str, int]  # by listing name
    expected_places: int
    attended_places: int

    @property
    def attendance_rate(self) -> float | None:
        if not self.expected_places:
            return None
        return self.attended_places / self.expected_places


def figures(filters: ReportFilter) -> Figures:
    """Every number of the dashboard in ONE statement: the attendance places, beside a
    scalar subquery per list."""
    places = attendance_places(filters)
    counts = {name: listing.count(filters) for name, listing in LISTINGS.items()}
    columns = [query.scalar_subquery().label(name) for name, query in counts.items()]
    row = db.session.execute(select(*columns, places.c.expected, places.c.attended)).one()
    return Figures(
        values={name: row._mapping[name] for name in counts},
        expected_places=row.expected,
        attended_places=row.attended,
    )


def _month_of(column, zone: str) -> ColumnElement[str]:
    """'2026-11': the month in the zone, by its current UTC offset (Moscow keeps one all
    year), the same expression's result on SQLite and PostgreSQL."""
    offset = ZoneInfo(zone).utcoffset(datetime.now())
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if db.engine.dialect.name == "postgresql":
        shifted = column + literal_column(f"interval '{minutes} minutes'")
        return func.to_char(shifted, "YYYY-MM")
    return func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


def registrations_by_month(filters: ReportFilter) -> list[tuple[str, int, int]]:
    """(month 'YYYY-MM', course registrations, event registrations), every month from the
    first to the last that has any. A programme filter leaves the events out."""
    month = _month_of(Registration.created_at, filters.zone)
    is_course = Event.kind == EventKind.COURSE
    query = (
        people_of_registrations(filters, null(), null())
        .with_only_columns(
            month.label("month"),
            func.sum(case((is_course, 1), else_=0)),
            func.sum(case((is_course, 0), else_=1)),
        )
        .join(Event, Event.id == Registration.event_id)
        .outerjoin(courses_table, courses_table.c.id == Registration.event_id)
        .where(
            Registration.status != RegistrationStatus.CANCELLED,
            filters.in_period(Registration.created_at),
            filters.programme_is(courses_table.c.programme_id),
        )
        .group_by(month)
        .order_by(month)
    )
    counts = {row[0]: (int(row[1]), int(row[2])) for row in db.session.execute(query)}
    return [(month, *counts.get(month, (0, 0))) for month in _months_between(counts)]


def _months_between(months) -> list[str]:
    if not months:
        return []
    first, last = min(months), max(months)
    year, number = int(first[:4]), int(first[5:])
    every = []
    while (current := f"{year:04d}-{number:02d}") <= last:
        every.append(current)
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return every


@dataclass(frozen=True)
class DashboardData:
    """What the dashboard and the funder's workbook summary show, but the targets."""

    figures: Figures
    months: list[tuple[str, int, int]]
    outcomes: outcomes.OutcomeFigures
    # past sessions count in the attendance rate: the figures hold until the next one starts
    next_session_start: datetime | None


# by ReportFilter; a few dozen filter choices in use at once is plenty
_computed: StampedCache[DashboardData] = StampedCache(
    REPORTS_STAMP, max_entries=256, ends=lambda data: data.next_session_start
)


def dashboard_data(filters: ReportFilter) -> DashboardData:
    """The dashboard's figures under these filters, computed at most once per worker process
    while the data stays the same: a database trigger bumps the "reports" cache stamp in
    every transaction that writes a table they come from (STAMPED_TABLES), and one cheap
    read of it per request tells whether this process's copy still holds. The stamp is read
    first: a write that commits while the figures are computed leaves an older stamp beside
    them, so the next request computes them again (never the other way round)."""
    return _computed.get_or_load(filters, lambda: _compute(filters))


def _compute(filters: ReportFilter) -> DashboardData:
    # Taken before the figures take theirs: a session that starts in between ends the copy
    # at once (its start is already past), never lets it outlive a change.
    now = utcnow()
    return DashboardData(
        figures=figures(filters),
        months=registrations_by_month(filters),
        outcomes=outcomes.figures(filters),
        next_session_start=db.session.scalar(
            select(func.min(EventSession.starts_at)).where(EventSession.starts_at > now)
        ),
    )
