"""The monitoring dashboard's rules, one room per concept: `lists` (the rows behind each
number, and their counts), `dashboard` (every number in one statement, registrations by
month), `targets` (the programmes' targets). Here: the filters they share, ReportError.

Each figure is an aggregate query (COUNT DISTINCT, GROUP BY, UNION) — never a loop over
rows — so the dashboard costs the same few statements whatever the size of the data.

Definitions (the dashboard's help text says the same):

- A *person* is a user account, or for a guest (no account) the lower-cased e-mail.
- A person's *organisation* is the one in their profile, else the one named on the
  registration; their *municipality* is their own, else their organisation's.
- A project's municipality is the one on its card.
- *People trained*: distinct people with a course completion (completed_at) in the period.
- *Organisations supported*: distinct organisations (of any type but "individual") of the
  people trained in the period, plus the lead and partner organisations of projects with a
  level decision in the period.
- *Self-employed people supported*: distinct people trained in the period, or members of
  projects with a level decision in the period, whose organisation is self-employed.
- *Joint projects brought to a prototype*: joint projects now at PROTOTYPE_LEVEL or beyond
  whose decision that brought them there falls in the period (with no period: all of them).
- *People reached by events*: distinct people marked present or late at a session (by its
  start) of an outreach event (not a course) in the period. Events belong to no programme,
  so the programme filter does not apply to this figure.
- *Attendance rate*: of the past, not cancelled course sessions in the period, the marks
  present or late divided by the places expected at them (each confirmed enrolment × each
  past session of its course).
- *Certificates issued*: certificates issued in the period and not revoked.
- *Registrations over time*: registrations not cancelled, by the month they were made in
  the centre's time zone, courses and events apart.

Targets: a programme's own target for an indicator, else DEFAULT_TARGETS; for all
programmes together, the sum of the targets programmes have set, else (when none has set
one for that indicator) DEFAULT_TARGETS, the centre's commitment to its funders.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select, true

from courses.models import Course, Programme
from webapp.errors import ServiceError
from webapp.extensions import db

courses_table = Course.__table__  # the course columns alone, without the events join


@dataclass(frozen=True)
class ReportFilter:
    """The dashboard's filters; dates are whole days in the centre's time zone, both
    included."""

    date_from: date | None = None
    date_to: date | None = None
    programme_id: int | None = None
    municipality: str | None = None
    zone: str = "Europe/Moscow"

    @property
    def start(self) -> datetime | None:
        if self.date_from is None:
            return None
        return datetime.combine(self.date_from, time(), ZoneInfo(self.zone))

    @property
    def end(self) -> datetime | None:
        """The first moment after the period."""
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time(), ZoneInfo(self.zone))

    def in_period(self, column) -> ColumnElement[bool]:
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return and_(true(), *conditions)

    @property
    def has_period(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def programme_is(self, column) -> ColumnElement[bool]:
        return true() if self.programme_id is None else column == self.programme_id

    def municipality_is(self, column) -> ColumnElement[bool]:
        return true() if not self.municipality else column == self.municipality


class ReportError(ServiceError):
    MESSAGES = {
        "target_invalid": _l("A target is a whole number from 0 up."),
    }


def programmes() -> list[Programme]:
    return list(db.session.scalars(select(Programme).order_by(Programme.title, Programme.id)))
