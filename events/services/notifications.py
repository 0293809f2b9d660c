"""The mail a registration's life sends: registered (with the ticket, its QR code and the
calendar attached), on the waiting list, promoted, cancelled, and the reminders before each
session. Each is queued in the outbox in the transaction of the change that caused it
(webapp.mail.send_mail), so it goes out once the change is committed, and only then.

Reminders are outbox rows due 24 h and 1 h (TROPA_REMINDER_HOURS) before each session of
each confirmed registration. ORM hooks keep them right whatever the code path: a session
that moves gets them again at the new time (and a higher SEQUENCE for calendars), a
cancelled session or registration drops its pending ones.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes

from events.models import Event, Registration, RegistrationStatus, Session
from events.services import calendars, tickets
from webapp.extensions import db
from webapp.locking import write_transaction
from webapp.mail import Attachment, send_mail
from webapp.models import OutboxMessage, OutboxStatus
from webapp.outbox import Preview
from webapp.types import utcnow

Status = RegistrationStatus
REMINDER = "events/mail/reminder"
# A change of one of these is a new version of the session for calendars and reminders.
SESSION_FIELDS = ("starts_at", "ends_at", "room", "cancelled_at")


def _locale(registration: Registration) -> str | None:
    return registration.user.locale if registration.user else None


def tell_registered(registration: Registration, locale: str | None = None) -> None:
    """The ticket mail: confirmed (the ticket's QR code and the calendar attached), on the
    waiting list (with the place in it), or awaiting approval."""
    url = tickets.ticket_url(registration.ticket_secret)
    attachments: tuple[Attachment, ...] = ()
    if registration.status == Status.CONFIRMED:
        attachments = (
            Attachment(tickets.qr_png(url), "image/png", "ticket.png"),
            Attachment(calendars.ticket_calendar(registration).body, "text/calendar", "event.ics"),
        )
    send_mail(
        registration.email,
        _l("Your ticket: %(title)s", title=registration.event.title),
        "events/mail/ticket",
        locale=locale or _locale(registration),
        registration_id=registration.id,
        attachments=attachments,
        registration=registration,
        event=registration.event,
        ticket_url=url,
        position=tickets.waitlist_position(registration),
    )


def tell_promoted(promoted: Iterable[Registration]) -> None:
    for registration in promoted:
        send_mail(
            registration.email,
            _l("A place is yours: %(title)s", title=registration.event.title),
            "events/mail/promoted",
            locale=_locale(registration),
            registration_id=registration.id,
            registration=registration,
            event=registration.event,
            ticket_url=tickets.ticket_url(registration.ticket_secret),
        )


def tell_cancelled(registration: Registration) -> None:
    send_mail(
        registration.email,
        _l("Registration cancelled: %(title)s", title=registration.event.title),
        "events/mail/cancelled",
        locale=_locale(registration),
        registration_id=registration.id,
        registration=registration,
        event=registration.event,
        event_url=calendars.event_url(registration.event),
    )


# A batch is rendered inside the writer's transaction (on SQLite the one writer lock): small
# batches keep check-ins waiting at most a moment.
IMPORTED_BATCH = 25


def mail_imported_tickets(_sender=None, limit: int = IMPORTED_BATCH) -> int:
    """The ticket mail and the reminders of a batch of people an import added
    (Registration.ticket_mail_due); returns how many were done, 0 when none is left.

    Work for the mail worker (webapp.outbox.deferred_work): the rows are claimed with FOR
    UPDATE SKIP LOCKED (the writer lock on SQLite), so several workers share the work and
    nobody gets a ticket twice.
    """
    with write_transaction():
        registrations = db.session.scalars(
            select(Registration)
            .where(Registration.ticket_mail_due)
            .order_by(Registration.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for registration in registrations:
            registration.ticket_mail_due = False
            if registration.status != Status.CANCELLED:
                tell_registered(registration)
                reschedule_registration(db.session, registration)
    return len(registrations)


# --- reminders -----------------------------------------------------------------------------


def _queue_reminders(session: Session, registration: Registration) -> None:
    now = utcnow()
    for hours in current_app.config["TROPA_REMINDER_HOURS"]:
        due_at = session.starts_at - timedelta(hours=hours)
        if due_at <= now:
            continue
        send_mail(
            registration.email,
            _l("Reminder: %(title)s", title=session.event.title),
            REMINDER,
            locale=_locale(registration),
            due_at=due_at,
            session_id=session.id,
            registration_id=registration.id,
            registration=registration,
            event=session.event,
            session=session,
            ticket_url=tickets.ticket_url(registration.ticket_secret),
        )


def _pending_reminders(db_session: OrmSession, **about) -> None:
    conditions = [getattr(OutboxMessage, name) == value for name, value in about.items()]
    db_session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.template == REMINDER,
            OutboxMessage.status == OutboxStatus.QUEUED,
            *conditions,
        )
    )


def _session_is_on(session: Session) -> bool:
    return session.cancelled_at is None and session.event.cancelled_at is None


def reminded_sessions(event: Event) -> list[Session]:
    """The sessions people are reminded of: each session of a course (every meeting is a
    new day out), but only the first session of each day of an outreach event, whose
    agenda items are one day's programme (a forum of 4 items: 2 reminders, not 8)."""
    sessions = [session for session in event.sessions if _session_is_on(session)]
    if event.kind != "event":  # a course (events.services.listing.OUTREACH)
        return sessions
    first_of_day: dict[date, Session] = {}
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id or 0)):
        first_of_day.setdefault(session.starts_at.astimezone(event.tz).date(), session)
    return list(first_of_day.values())


def reschedule_session(db_session: OrmSession, session: Session) -> None:
    event = session.event
    if event.kind == "event":
        # A moved, added or cancelled item can change which one opens its day (and the day
        # it left): the event's reminders are computed again.
        db_session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.template == REMINDER,
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.session_id.in_(
                    select(Session.id).where(Session.event_id == event.id)
                ),
            )
        )
        reminded = reminded_sessions(event)
    else:
        _pending_reminders(db_session, session_id=session.id)
        reminded = [session] if _session_is_on(session) else []
    if not reminded:
        return
    confirmed = db_session.scalars(
        select(Registration).where(
            Registration.event_id == session.event_id, Registration.status == Status.CONFIRMED
        )
    )
    for registration in confirmed:
        for reminded_session in reminded:
            _queue_reminders(reminded_session, registration)


def reschedule_registration(db_session: OrmSession, registration: Registration) -> None:
    _pending_reminders(db_session, registration_id=registration.id)
    if registration.status != Status.CONFIRMED:
        return
    for session in reminded_sessions(registration.event):
        _queue_reminders(session, registration)


# Changed sessions and registrations of the transaction, kept in the ORM session's info
# until it commits.
_CHANGED = "tropa_changed_for_reminders"


def _changed(instance, names: Iterable[str]) -> bool:
    return any(attributes.get_history(instance, name).has_changes() for name in names)


@event.listens_for(OrmSession, "before_flush")
def _note_changes(db_session: OrmSession, _context, _instances) -> None:
    changed = db_session.info.setdefault(_CHANGED, {"sessions": set(), "registrations": set()})
    for instance in db_session.new:
        if isinstance(instance, Session):
            changed["sessions"].add(instance)
        elif isinstance(instance, Registration):
            changed["registrations"].add(instance)
    for instance in db_session.dirty:
        if isinstance(instance, Session) and _changed(instance, SESSION_FIELDS):
            # A new version for calendar clients (SEQUENCE, DTSTAMP, Last-Modified).
            instance.sequence = (instance.sequence or 0) + 1
            instance.updated_at = utcnow()
            changed["sessions"].add(instance)
        elif isinstance(instance, Registration) and _changed(instance, ("status",)):
            changed["registrations"].add(instance)


@event.listens_for(OrmSession, "before_commit")
def _reschedule_reminders(db_session: OrmSession) -> None:
    db_session.flush()  # the changes not flushed yet are noted too
    changed = db_session.info.pop(_CHANGED, None)
    if not changed or not (changed["sessions"] or changed["registrations"]):
        return
    # Each step deletes pending reminders with a statement, which flushes the reminders the
    # step before queued first: a registration and a session changed together never end up
    # with a reminder twice.
    for registration in changed["registrations"]:
        if registration in db_session and not _deleted(registration):
            reschedule_registration(db_session, registration)
    for session in changed["sessions"]:
        if session in db_session and not _deleted(session):
            reschedule_session(db_session, session)


def _deleted(instance) -> bool:
    state = attributes.instance_state(instance)
    return state.deleted or state.was_deleted


@event.listens_for(OrmSession, "after_rollback")
def _forget_changes(db_session: OrmSession) -> None:
    db_session.info.pop(_CHANGED, None)


# --- samples for the admin's preview ------------------------------------------------------


def mail_samples(_sender=None) -> list[Preview]:
    starts = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    event = Event(
        id=0,
        kind="event",
        title="Форум НКО",
        venue="Конгресс-центр",
        address="ул. Великая, 16",
        online_url="https://meet.example.org/forum",
        timezone="Europe/Moscow",
    )
    session = Session(starts_at=starts, ends_at=starts + timedelta(hours=2), room="Зал 1")
    registration = Registration(
        full_name="Анна Смирнова",
        email="anna@example.org",
        status=Status.CONFIRMED,
        ticket_secret="SAMPLE",  # noqa: S106  a preview, not a secret
    )
    common = {
        "registration": registration,
        "event": event,
        "ticket_url": "https://tropa.example/t/SAMPLE",
        "event_url": "https://tropa.example/events/1",
    }
    return [
        Preview("events/mail/ticket", "Your ticket: Форум НКО", {**common, "position": None}),
        Preview("events/mail/promoted", "A place is yours: Форум НКО", common),
        Preview("events/mail/cancelled", "Registration cancelled: Форум НКО", common),
        Preview(REMINDER, "Reminder: Форум НКО", {**common, "session": session}),
    ]
