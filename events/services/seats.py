"""Seat-taking: registration, waiting list, cancellation and promotion for any Event.

Every change that takes or frees a seat runs under the event's lock, in one transaction:
`SELECT ... FOR UPDATE` on the event row on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (one
writer at a time, the others wait on the busy timeout). So two requests can never both see
the last free place, however many workers serve them.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from events.models import Event, Registration, RegistrationStatus, Visibility
from webapp.extensions import db
from webapp.locking import write_transaction
from webapp.mail import send_mail
from webapp.models import User
from webapp.services import (
    anonymisers,
    normalise_email,
    personal_data_exporters,
    random_secret,
)
from webapp.types import utcnow

Status = RegistrationStatus


class RegistrationRefused(Exception):
    """A registration or change the rules do not allow; `reason` is a stable code."""

    MESSAGES = {
        "not_found": _l("This event does not exist."),
        "not_published": _l("Registration is not open: the event is not published yet."),
        "not_open_yet": _l("Registration has not opened yet."),
        "closed": _l("Registration is closed."),
        "no_places": _l("There are no free places. Raise the capacity first."),
        "invalid_status": _l("This change of status is not possible."),
    }

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self.MESSAGES[self.reason])


@dataclass(frozen=True)
class SeatCounts:
    confirmed: int = 0
    waitlisted: int = 0
    pending: int = 0

    def places_left(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(capacity - self.confirmed, 0)


@dataclass(frozen=True)
class RegisterResult:
    registration: Registration
    created: bool


def registration_state(event: Event, now: datetime | None = None) -> str | None:
    """None when registration is open now, else the reason code it is not."""
    now = now or utcnow()
    if event.visibility != Visibility.PUBLISHED:
        return "not_published"
    if event.registration_opens_at and now < event.registration_opens_at:
        return "not_open_yet"
    if event.registration_closes_at and now >= event.registration_closes_at:
        return "closed"
    return None


@contextmanager
def event_lock(event_id: int) -> Iterator[Event]:
    """A transaction that holds the event's seat lock; commits on success, else rolls back."""
    with write_transaction():
        locked = db.session.execute(
            select(Event.id).where(Event.id == event_id).with_for_update()
        ).scalar_one_or_none()
        if locked is None:
            raise RegistrationRefused("not_found")
        yield db.session.get(Event, event_id, populate_existing=True)


def seat_counts(event_ids: Iterable[int]) -> dict[int, SeatCounts]:
    """Confirmed, waitlisted and pending per event, in one query."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id, Registration.status)
    )
    found: dict[int, dict[str, int]] = {event_id: {} for event_id in ids}
    for event_id, status, count in rows:
        found[event_id][status] = count
    return {
        event_id: SeatCounts(
            confirmed=by_status.get(Status.CONFIRMED, 0),
            waitlisted=by_status.get(Status.WAITLISTED, 0),
            pending=by_status.get(Status.PENDING, 0),
        )
        for event_id, by_status in found.items()
    }


def waitlist_positions(registration_ids: Iterable[int]) -> dict[int, int]:
    """1-based place on the waiting list for each waitlisted registration, in one query."""
    ids = list(registration_ids)
    if not ids:
        return {}
    ahead = aliased(Registration)
    rows = db.session.execute(
        select(Registration.id, func.count(ahead.id))
        .join(
            ahead,
            and_(
                ahead.event_id == Registration.event_id,
                ahead.status == Status.WAITLISTED,
                ahead.queue_number <= Registration.queue_number,
            ),
        )
        .where(Registration.id.in_(ids), Registration.status == Status.WAITLISTED)
        .group_by(Registration.id)
    )
    return dict(rows.all())


def _confirmed_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id, Registration.status == Status.CONFIRMED
        )
    )


def _next_queue_number(event_id: int) -> int:
    highest = db.session.scalar(
        select(func.max(Registration.queue_number)).where(Registration.event_id == event_id)
    )
    return (highest or 0) + 1


def _has_free_place(event: Event) -> bool:
    return event.capacity is None or _confirmed_count(event.id) < event.capacity


def _promote_waitlist(event: Event) -> list[Registration]:
    """Fill free places from the head of the waiting list; call under the event lock."""
    if event.capacity is None:
        free = None
    else:
        free = event.capacity - _confirmed_count(event.id)
        if free <= 0:
            return []
    query = (
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == Status.WAITLISTED)
        .order_by(Registration.queue_number)
    )
    if free is not None:
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for registration in promoted:
        registration.status = Status.CONFIRMED
    return promoted


def register(
    event_id: int, *, full_name: str, email: str, user_id: int | None = None
) -> RegisterResult:
    """Take a place if one is free, else join the waiting list; one registration per e-mail.

    A second registration of the same person returns the existing one (created=False); a
    cancelled one is brought back at the end of the queue.
    """
    email = normalise_email(email)
    with event_lock(event_id) as event:
        same_person = Registration.email == email
        if user_id:
            same_person |= Registration.user_id == user_id
        existing = db.session.scalar(
            select(Registration).where(Registration.event_id == event_id, same_person)
        )
        if existing and existing.status != Status.CANCELLED:
            return RegisterResult(existing, created=False)
        if reason := registration_state(event):
            raise RegistrationRefused(reason)
        status = Status.CONFIRMED if _has_free_place(event) else Status.WAITLISTED
        registration = existing or Registration(
            event_id=event_id, ticket_secret=random_secret(), email=email
        )
        registration.full_name = full_name
        registration.user_id = user_id or registration.user_id
        registration.status = status
        registration.queue_number = _next_queue_number(event_id)
        db.session.add(registration)
    return RegisterResult(registration, created=True)


def cancel(registration_id: int) -> list[Registration]:
    """Cancel a registration and promote from the waiting list; returns who was promoted."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise RegistrationRefused("not_found")
    with event_lock(registration.event_id) as event:
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration.status == Status.CANCELLED:
            return []
        registration.status = Status.CANCELLED
        db.session.flush()
        promoted = _promote_waitlist(event)
    _tell_promoted(promoted)
    return promoted


def change_status(registration_id: int, new_status: Status) -> list[Registration]:
    """An organiser moves a registration between states; never past the capacity."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise RegistrationRefused("not_found")
    with event_lock(registration.event_id) as event:
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration.status == new_status:
            return []
        if new_status == Status.CONFIRMED and not _has_free_place(event):
            raise RegistrationRefused("no_places")
        if new_status == Status.WAITLISTED:
            registration.queue_number = _next_queue_number(event.id)
        registration.status = new_status
        db.session.flush()
        promoted = _promote_waitlist(event)
    _tell_promoted(promoted)
    return promoted


def set_capacity(event_id: int, capacity: int | None) -> list[Registration]:
    """Change the capacity; raising it promotes from the waiting list at once."""
    with event_lock(event_id) as event:
        event.capacity = capacity
        db.session.flush()
        promoted = _promote_waitlist(event)
    _tell_promoted(promoted)
    return promoted


def _tell_promoted(promoted: list[Registration]) -> None:
    for registration in promoted:
        send_mail(
            registration.email,
            _l("A place is yours: %(title)s", title=registration.event.title),
            "mail/promoted",
            locale=registration.user.locale if registration.user else None,
            registration=registration,
            event=registration.event,
        )


# --- personal data ------------------------------------------------------------------------


def _export_registrations(user: User) -> dict:
    registrations = db.session.scalars(
        select(Registration).where(Registration.user_id == user.id).order_by(Registration.id)
    )
    return {
        "registrations": [
            {
                "event": r.event.title,
                "status": r.status.value,
                "registered_at": r.created_at.isoformat(),
            }
            for r in registrations
        ]
    }


def _anonymise_registrations(user: User) -> None:
    for registration in db.session.scalars(
        select(Registration).where(Registration.user_id == user.id)
    ):
        registration.full_name = str(_l("Deleted user"))
        registration.email = f"deleted-{registration.id}@deleted.invalid"


personal_data_exporters.append(_export_registrations)
anonymisers.append(_anonymise_registrations)
