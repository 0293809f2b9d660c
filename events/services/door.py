"""What the door page shows besides marking (events.services.checkin): the live counts,
the offline list of hashed tickets, and the search by name. Reads only."""

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from events.models import PRESENT_OR_LATE, Attendance, Event, Registration, RegistrationStatus
from events.services.checkin import attendee_json
from webapp.extensions import db
from webapp.filters import local_time
from webapp.models import search_key


def secret_hash(secret: str) -> str:
    """What the offline list carries instead of a secret (the page hashes a scan the same way)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def checkin_counts(event_id: int, session_id: int | None) -> dict:
    """Registered (confirmed), checked in (of them, at the session) and still expected."""
    confirmed = select(Registration.id).where(
        Registration.event_id == event_id, Registration.status == RegistrationStatus.CONFIRMED
    )
    registered = db.session.scalar(select(func.count()).select_from(confirmed.subquery()))
    checked_in = 0
    if session_id is not None:
        checked_in = db.session.scalar(
            select(func.count())
            .select_from(Attendance)
            .where(
                Attendance.session_id == session_id,
                Attendance.status.in_(PRESENT_OR_LATE),
                Attendance.registration_id.in_(confirmed),
            )
        )
    return {"registered": registered, "checked_in": checked_in, "expected": registered - checked_in}


def offline_list(event: Event) -> list[dict]:
    """Every registration of the event for the door's offline check: the hash of its
    secret (never the secret), name, status and the sessions it is checked in at."""
    tz = event.tz
    marks: dict[int, dict[str, str]] = {}
    rows = db.session.execute(
        select(Attendance.registration_id, Attendance.session_id, Attendance.marked_at)
        .join(Registration)
        .where(Registration.event_id == event.id, Attendance.status.in_(PRESENT_OR_LATE))
    )
    for registration_id, session_id, marked_at in rows:
        marks.setdefault(registration_id, {})[str(session_id)] = local_time(marked_at, tz)
    registrations = db.session.execute(
        select(
            Registration.id, Registration.full_name, Registration.status, Registration.ticket_secret
        )
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
    )
    return [
        {
            "hash": secret_hash(secret),
            "registration_id": registration_id,
            "name": name,
            "status": status.value,
            "checked_in": marks.get(registration_id, {}),
        }
        for registration_id, name, status, secret in registrations
    ]


def search_registrations(
    event_id: int, text: str, session_id: int | None, *, page: int, per_page: int
) -> tuple[list[dict], bool]:
    """Registrations of the event whose name, e-mail or phone holds every word of `text`,
    by name, one page; with their check-in at the session. Returns (rows, has_next)."""
    query = select(Registration).where(Registration.event_id == event_id)
    for word in search_key(text).split():
        query = query.where(Registration.search_text.contains(word, autoescape=True))
    found = list(
        db.session.scalars(
            query.options(joinedload(Registration.event))
            .order_by(Registration.full_name, Registration.id)
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    has_next = len(found) > per_page
    found = found[:per_page]
    attendance = {}
    if session_id is not None and found:
        attendance = {
            a.registration_id: a
            for a in db.session.scalars(
                select(Attendance)
                .options(joinedload(Attendance.marked_by))
                .where(
                    Attendance.session_id == session_id,
                    Attendance.status.in_(PRESENT_OR_LATE),
                    Attendance.registration_id.in_([r.id for r in found]),
                )
            )
        }
    rows = [
        {**attendee_json(r, attendance.get(r.id)), "email": r.email, "phone": r.phone}
        for r in found
    ]
    return rows, has_next
