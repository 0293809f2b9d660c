"""Seat-taking: registration, waiting list, cancellation and promotion for any Event.

Every change that takes or frees a seat is one unit of work under the event's lock
(`event_lock`): `SELECT ... FOR UPDATE` on the event row on PostgreSQL, `BEGIN IMMEDIATE`
on SQLite (one writer at a time). So two requests can never both see the last free place,
however many workers serve them. A status change is announced inside the unit
(signals.registration_changed: the reminders follow it); the mail it owes is recorded as
a flag on the registration and rendered by the mail worker (events.services.notifications),
so the lock, and the request, are held for the seat only.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import aliased

from events.models import (
    Answer,
    Event,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Visibility,
    registration_search_text,
)
from webapp import metrics, signals
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, User
from webapp.services import (
    normalise_email,
    random_secret,
)
from webapp.transactions import unit_of_work
from webapp.types import utcnow

Status = RegistrationStatus


class RegistrationRefused(ServiceError):
    """A registration or change the rules do not allow; `reason` is a stable code."""

    MESSAGES = {
        "not_found": _l("This event does not exist."),
        "not_published": _l("Registration is not open: the event is not published yet."),
        "not_open_yet": _l("Registration has not opened yet."),
        "closed": _l("Registration is closed."),
        "no_places": _l("There are no free places. Raise the capacity first."),
        "invalid_status": _l("This change of status is not possible."),
        "cancelled": _l("The event is cancelled."),
        "over": _l("The event is over."),
        "no_consent": _l("Consent to the processing of personal data is required."),
    }


@dataclass(frozen=True)
class SeatCounts:
    confirmed: int = 0
    waitlisted: int = 0
    pending: int = 0

    def places_left(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(capacity - self.confirmed, 0)


@dataclass(frozen=True)
class RegisterResult:
    """The registration, with what an answer shows of it read inside the unit: the commit
    expires `registration`, and reading it again would cost a transaction of its own."""

    registration: Registration
    created: bool
    registration_id: int
    status: Status
    ticket_secret: str

    @classmethod
    def of(cls, registration: Registration, *, created: bool) -> "RegisterResult":
        return cls(
            registration,
            created,
            registration.id,
            registration.status,
            registration.ticket_secret,
        )


def registration_state(event: Event, now: datetime | None = None) -> str | None:
    """None when registration is open now, else the reason code it is not."""
    now = now or utcnow()
    if event.cancelled_at is not None:
        return "cancelled"
    if event.visibility != Visibility.PUBLISHED:
        return "not_published"
    if event.registration_opens_at and now < event.registration_opens_at:
        return "not_open_yet"
    if event.registration_closes_at and now >= event.registration_closes_at:
        return "closed"
    return None


@contextmanager
def event_lock(event_id: int) -> Iterator[Event]:
    """A unit of work that holds the event's seat lock; commits at its end, else rolls
    back (inside an enclosing unit, e.g. a bulk action, it joins that one). Yields the
    event, read under the lock."""

    def lock() -> None:
        # The whole row, fresh: the lock's statement is also the read of the event.
        locked = db.session.scalars(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if locked is None:
            raise RegistrationRefused("not_found")

    with unit_of_work(lock=lock):
        yield db.session.get(Event, event_id)  # the row the lock read, from the identity map


def _changed(registration: Registration) -> None:
    """Announce a new status inside the unit (the reminders follow it)."""
    signals.registration_changed.send(registration)


def _owe_mail(registrations: Sequence[Registration], *, ticket: bool = False) -> None:
    """Record the mail the registrations are owed (the ticket, or the news of their new
    status): the mail worker renders and queues it in its next round, before it sends
    (notifications.send_due_mail), so it goes out as soon as if the request rendered it."""
    for registration in registrations:
        if ticket:
            registration.ticket_mail_due = True
        else:
            registration.status_mail_due = True


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


def _confirmed_and_next_number(event_id: int) -> tuple[int, int]:
    """`_confirmed_count` and `_next_queue_number` in one statement, for a unit that needs
    both (each statement under the lock holds every other registration up)."""
    confirmed, highest = db.session.execute(
        select(
            func.count().filter(Registration.status == Status.CONFIRMED),
            func.max(Registration.queue_number),
        ).where(Registration.event_id == event_id)
    ).one()
    return confirmed, (highest or 0) + 1


def _place_free(event: Event, confirmed: int) -> bool:
    return event.capacity is None or confirmed < event.capacity


def _has_free_place(event: Event) -> bool:
    return _place_free(event, _confirmed_count(event.id))


def _promote_waitlist(event: Event) -> list[Registration]:
    """Fill free places from the head of the waiting list and tell the people promoted;
    call under the event lock."""
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
    _owe_mail(promoted)
    for registration in promoted:
        _changed(registration)
    return promoted


def register(
    event_id: int,
    *,
    full_name: str,
    email: str,
    user_id: int | None = None,
    phone: str | None = None,
    organisation_id: int | None = None,
    write_organisation: Callable[[], int | None] | None = None,
    answers: dict[int, str] | None = None,
    consent_policy_version: str | None = None,
    mail_ticket: bool = False,
    locale: str | None = None,
) -> RegisterResult:
    """Take a place if one is free, else join the waiting list; one registration per e-mail.

    On an event that requires approval the registration waits, PENDING and holding no
    place, until `approve`. A second registration of the same person returns the existing
    one (created=False) unchanged; a cancelled one is brought back at the end of the queue
    with what was given now. `write_organisation`, called under the lock only once the
    person is new and registration open, writes the organisation they named and returns
    its id (so a refused or repeated registration writes none). `answers` are the stored
    texts by question id; `consent_policy_version`, when given, records the person's
    consent to that policy now. `mail_ticket` owes a new registration its ticket mail (in
    `locale`), which the mail worker sends.
    """
    email = normalise_email(email)
    with event_lock(event_id) as event:
        same_person = Registration.email == email
        if user_id:
            same_person |= Registration.user_id == user_id
        # A live registration first: a person may also have a cancelled one under another
        # address of theirs, which must not be brought back beside the live one.
        existing = db.session.scalar(
            select(Registration)
            .where(Registration.event_id == event_id, same_person)
            .order_by(Registration.status == Status.CANCELLED, Registration.id)
            .limit(1)
        )
        if existing and existing.status != Status.CANCELLED:
            return RegisterResult.of(existing, created=False)
        if reason := registration_state(event):
            raise RegistrationRefused(reason)
        if write_organisation is not None:
            organisation_id = write_organisation()
        confirmed, queue_number = _confirmed_and_next_number(event_id)
        if event.requires_approval:
            status = Status.PENDING
        else:
            status = Status.CONFIRMED if _place_free(event, confirmed) else Status.WAITLISTED
        registration = existing or Registration(
            event_id=event_id, ticket_secret=random_secret(), email=email
        )
        registration.full_name = full_name
        registration.user_id = user_id or registration.user_id
        registration.phone = phone or registration.phone
        registration.organisation_id = organisation_id or registration.organisation_id
        if consent_policy_version:
            registration.consent_at = utcnow()
            registration.consent_policy_version = consent_policy_version
        registration.status = status
        registration.queue_number = queue_number
        registration.mail_locale = locale or registration.mail_locale
        registration.status_mail_due = False  # a comeback's old news is moot
        if mail_ticket:
            _owe_mail([registration], ticket=True)  # before the INSERT: written with it
        db.session.add(registration)
        if answers is not None:
            if registration.answers:  # a comeback: the old answers go before the new ones
                registration.answers.clear()
                db.session.flush()
            registration.answers.extend(
                Answer(question_id=question_id, value=value)
                for question_id, value in answers.items()
            )
        _changed(registration)  # before the INSERT: a new registration has no reminders
        db.session.flush()
        result = RegisterResult.of(registration, created=True)
    metrics.count_registration(result.status.value)
    return result


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
        registration.ticket_mail_due = False  # a ticket not sent yet is moot now
        _owe_mail([registration])
        _changed(registration)
        db.session.flush()
        promoted = _promote_waitlist(event)
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
        _changed(registration)
        db.session.flush()
        promoted = _promote_waitlist(event)
    return promoted


def set_capacity(event_id: int, capacity: int | None) -> list[Registration]:
    """Change the capacity; raising it promotes from the waiting list at once."""
    with event_lock(event_id) as event:
        event.capacity = capacity
        db.session.flush()
        promoted = _promote_waitlist(event)
    return promoted


def approve(registration_id: int) -> Registration:
    """An organiser accepts a pending registration: a place if one is free, else the end of
    the waiting list."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise RegistrationRefused("not_found")
    with event_lock(registration.event_id) as event:
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration.status != Status.PENDING:
            raise RegistrationRefused("invalid_status")
        if _has_free_place(event):
            registration.status = Status.CONFIRMED
        else:
            registration.status = Status.WAITLISTED
            registration.queue_number = _next_queue_number(event.id)
        _changed(registration)
    return registration


@dataclass(frozen=True)
class NewOrganisation:
    """An organisation a newcomer names that is not in the database yet."""

    name: str
    type: OrganisationType
    inn: str | None = None


@dataclass
class Newcomer:
    """One person of a batch: `email` normalised; `waitlist` asks for the waiting list
    rather than a place."""

    full_name: str
    email: str
    phone: str | None = None
    organisation: Organisation | NewOrganisation | None = None
    waitlist: bool = False


@dataclass
class BatchResult:
    confirmed: int = 0
    waitlisted: int = 0
    already_registered: int = 0  # skipped: that person is in already (or twice in the batch)


def register_batch(
    event: Event, newcomers: Sequence[Newcomer], mail_tickets: bool = False
) -> BatchResult:
    """Register many people in the given order (an organiser's import) under the event lock
    the caller holds: `with event_lock(event.id) as event:`; its unit commits.

    Places go in order while they last, then the waiting list. As in `register`, a person
    already in (same e-mail or account) is skipped, never duplicated, a cancelled
    registration is brought back, and a registration is linked to the account with its
    e-mail; the approval step is skipped: the organiser's list is the approval. New
    organisations are written only if a registered person names them. A few statements
    whatever the size: the INSERTs go in batches. No mail is rendered here, under the lock:
    with `mail_tickets` the mail worker sends the tickets and schedules the reminders after
    the commit (notifications.send_due_mail).
    """
    emails = list(dict.fromkeys(newcomer.email for newcomer in newcomers))
    accounts: dict[str, int] = {}
    existing: list[Registration] = []
    for chunk in chunks(emails):
        rows = db.session.execute(select(User.email, User.id).where(User.email.in_(chunk)))
        accounts.update(rows.tuples().all())
    in_event = select(Registration).where(Registration.event_id == event.id)
    for chunk in chunks(emails):
        existing += db.session.scalars(in_event.where(Registration.email.in_(chunk)))
    for chunk in chunks(list(accounts.values())):
        existing += db.session.scalars(in_event.where(Registration.user_id.in_(chunk)))
    by_email = {registration.email: registration for registration in existing}
    by_user = {registration.user_id: registration for registration in existing}

    confirmed, queue_number = _confirmed_and_next_number(event.id)
    result = BatchResult()
    taken: list[tuple[Newcomer, Registration | None, dict]] = []  # (who, brought back, values)
    seen: set[str] = set()
    brought_back: set[int] = set()
    for newcomer in newcomers:
        user_id = accounts.get(newcomer.email)
        known = by_email.get(newcomer.email) or (user_id and by_user.get(user_id)) or None
        in_already = known and (known.status != Status.CANCELLED or known.id in brought_back)
        if newcomer.email in seen or in_already:
            result.already_registered += 1
            continue
        seen.add(newcomer.email)
        has_place = _place_free(event, confirmed)
        status = Status.CONFIRMED if has_place and not newcomer.waitlist else Status.WAITLISTED
        confirmed += status == Status.CONFIRMED
        result.confirmed += status == Status.CONFIRMED
        result.waitlisted += status == Status.WAITLISTED
        values = {"status": status, "queue_number": queue_number, "user_id": user_id}
        queue_number += 1
        if known:  # a cancelled registration: the same person comes back
            brought_back.add(known.id)
        taken.append((newcomer, known, values))

    organisation_ids = _insert_organisations(
        {n.organisation for n, _, _ in taken if isinstance(n.organisation, NewOrganisation)}
    )
    new_rows = []
    for newcomer, known, values in taken:
        organisation = newcomer.organisation
        if isinstance(organisation, NewOrganisation):
            organisation_id = organisation_ids[organisation]
        else:
            organisation_id = organisation.id if organisation else None
        if known:
            known.full_name = newcomer.full_name
            known.phone = newcomer.phone
            known.organisation_id = organisation_id
            known.status = values["status"]
            known.queue_number = values["queue_number"]
            known.user_id = values["user_id"] or known.user_id
            known.ticket_mail_due = mail_tickets
            known.status_mail_due = False
            continue
        new_rows.append(
            {
                **values,
                "event_id": event.id,
                "full_name": newcomer.full_name,
                "email": newcomer.email,
                "phone": newcomer.phone,
                "organisation_id": organisation_id,
                "ticket_secret": random_secret(),
                # A bulk INSERT skips the model's @validates hook: the search text is given.
                "search_text": registration_search_text(
                    newcomer.full_name, newcomer.email, newcomer.phone
                ),
                "ticket_mail_due": mail_tickets,
            }
        )
    if new_rows:
        # Without RETURNING, and with the same columns in every row (render_nulls), so
        # SQLAlchemy sends them all as one executemany.
        db.session.execute(insert(Registration), new_rows, execution_options={"render_nulls": True})
    db.session.flush()
    return result


def _insert_organisations(new: set[NewOrganisation]) -> dict[NewOrganisation, int]:
    """Insert the organisations in one batched statement; their ids by what they are."""
    if not new:
        return {}
    # RETURNING without "sort by parameter order", which would send a row a statement on
    # SQLite: the rows are told apart by their values instead. render_nulls: a missing INN
    # is sent as NULL, not left out, so every row has the same columns and one statement.
    rows = db.session.execute(
        insert(Organisation).returning(
            Organisation.id, Organisation.name, Organisation.type, Organisation.inn
        ),
        [{"name": o.name, "type": o.type, "inn": o.inn} for o in new],
        execution_options={"render_nulls": True},
    )
    return {NewOrganisation(name, kind, inn): id_ for id_, name, kind, inn in rows}


def chunks(values: list, size: int = 900) -> Iterator[list]:
    """Slices of an IN list, well under SQLite's limit of parameters in one statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- personal data ------------------------------------------------------------------------


def export_registrations(user: User) -> dict:
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


def anonymise_registrations(user: User) -> None:
    for registration in db.session.scalars(
        select(Registration).where(Registration.user_id == user.id)
    ):
        registration.full_name = str(_l("Deleted user"))
        registration.email = f"deleted-{registration.id}@deleted.invalid"
        registration.phone = None
        # Free-text answers may name the person; choices stay for the reports.
        for answer in registration.answers:
            if answer.question.kind == QuestionKind.TEXT:
                answer.value = ""
