"""The catalogue's pages, kept rendered in each process until something they show changes.

A page of the catalogue shows courses (title, programme, level, direction, format, dates,
places left) and the programmes of its filter. Every change of those bumps the stamp of
`PAGES` inside its unit of work (webapp.caching.StampedCache): courses' own edits call
`changed()`; the events package announces new registration states and session times
through the named signals, to the receivers below (connected in courses.init_app).
"""

from events.models import Event, EventKind, Registration, Session
from webapp.caching import StampedCache
from webapp.extensions import db

# Rendered pages by language and query string; a few hundred at most (~15 KB each).
PAGES: StampedCache = StampedCache("catalogue")


def changed() -> None:
    """A course, programme, session or enrolment the catalogue shows changes in this unit."""
    PAGES.changed()


def catalogue_follows_registration(registration: Registration, **_) -> None:
    """signals.registration_changed: a course's places left may be different now."""
    # A new registration is announced before its INSERT, with its event's id only; the
    # event itself is in the session already (the seat lock read it).
    event = registration.event or db.session.get(Event, registration.event_id)
    if event.kind == EventKind.COURSE:
        changed()


def catalogue_follows_session(session: Session, **_) -> None:
    """signals.session_changed: a course's dates may be different now."""
    if session.event.kind == EventKind.COURSE:
        changed()
