"""The mail a registration's life sends: registered (with the ticket, its QR code and the
calendar attached), on the waiting list, promoted, cancelled, and the reminders before each
session.

The seat-taking unit only records what mail is owed (Registration.ticket_mail_due,
status_mail_due). The mail worker (`send_due_mail`, a worker_tick receiver) renders it
outside any lock and queues it in the outbox in a short unit of its own that checks the
flag is still set and clears it, then sends it in the same round: so each mail goes out
once, a failure never undoes the registration, and a request that takes a seat answers
without rendering anything (a QR code, a calendar file and a message cost more CPU than
the seat itself: a burst of 300 registrations was bound by it).

Reminders are outbox rows due 24 h and 1 h (TROPA_REMINDER_HOURS) before each session of
each confirmed registration. They follow the named signals sent inside the units that
change things (connected in events.init_app): a registration whose status changed, a
session created, moved, cancelled or restored.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, inspect, or_, select
from sqlalchemy.orm import Session as OrmSession

from events.models import Event, EventKind, Registration, RegistrationStatus, Session
from events.services import calendars, tickets
from webapp.extensions import db
from webapp.mail import Attachment, build_message, send_mail
from webapp.models import OutboxMessage, OutboxStatus
from webapp.outbox import Preview
from webapp.transactions import end_read, unit_of_work
from webapp.types import utcnow

log = logging.getLogger(__name__)

Status = RegistrationStatus
REMINDER = "events/mail/reminder"


def _locale(registration: Registration) -> str | None:
    """The language the person registered in, else their account's."""
    if registration.mail_locale:
        return registration.mail_locale
    return registration.user.locale if registration.user else None


def outbox_row(
    registration: Registration, subject, template: str, attachments=(), **context
) -> OutboxMessage:
    """A message for the registration's person, rendered now: queue it by adding it to
    the session in a unit (rendering goes before, outside any lock)."""
    message = build_message(
        registration.email,
        subject,
        template,
        _locale(registration),
        attachments,
        registration=registration,
        event=registration.event,
        **context,
    )
    return OutboxMessage(
        recipient=registration.email,
        subject=str(message["Subject"])[:300],
        template=template,
        content=bytes(message),
        due_at=utcnow(),
        registration_id=registration.id,
    )


def ticket_mail(registration: Registration) -> OutboxMessage:
    """The ticket mail: confirmed (the ticket's QR code and the calendar attached), on the
    waiting list (with the place in it), or awaiting approval."""
    url = tickets.ticket_url(registration.ticket_secret)
    attachments: tuple[Attachment, ...] = ()
    if registration.status == Status.CONFIRMED:
        attachments = (
            Attachment(tickets.qr_png(url), "image/png", "ticket.png"),
            Attachment(calendars.ticket_calendar(registration).body, "text/calendar", "event.ics"),
        )
    return outbox_row(
        registration,
        _l("Your ticket: %(title)s", title=registration.event.title),
        "events/mail/ticket",
        attachments,
        ticket_url=url,
        position=tickets.waitlist_position(registration),
    )


def status_mail(registration: Registration) -> OutboxMessage | None:
    """The news of the registration's status: a place from the waiting list, or the
    cancellation; None for a status that has no news."""
    title = registration.event.title
    if registration.status == Status.CONFIRMED:
        return outbox_row(
            registration,
            _l("A place is yours: %(title)s", title=title),
            "events/mail/promoted",
            ticket_url=tickets.ticket_url(registration.ticket_secret),
        )
    if registration.status == Status.CANCELLED:
        return outbox_row(
            registration,
            _l("Registration cancelled: %(title)s", title=title),
            "events/mail/cancelled",
            event_url=calendars.event_url(registration.event),
        )
    return None


# --- mail owed, sent after commit ----------------------------------------------------------


@dataclass
class _Rendered:
    """The mail owed to one registration, rendered as of the flags and status seen."""

    registration_id: int
    status: Status
    ticket_mail_due: bool
    status_mail_due: bool
    mail: list[OutboxMessage] = field(default_factory=list)


def _render(registration: Registration) -> _Rendered:
    rendered = _Rendered(
        registration.id,
        registration.status,
        registration.ticket_mail_due,
        registration.status_mail_due,
    )
    if registration.ticket_mail_due and registration.status != Status.CANCELLED:
        rendered.mail.append(ticket_mail(registration))  # it tells the status too
    elif registration.status_mail_due and (news := status_mail(registration)):
        rendered.mail.append(news)
    return rendered


def _send_due(registration_ids: Sequence[int]) -> int:
    """Render the mail owed to these registrations outside any lock, then queue it in one
    short unit, each registration's only if its flags and status are still those rendered
    (else another worker sent it, or it changed meanwhile and is rendered again later).
    Returns how many registrations were done."""
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.id.in_(registration_ids),
            or_(Registration.ticket_mail_due, Registration.status_mail_due),
        )
        .order_by(Registration.id)
        .execution_options(populate_existing=True)
    ).all()
    rendered = []
    for registration in registrations:
        try:
            rendered.append(_render(registration))
        except Exception:  # noqa: BLE001  one bad mail must not hold up the others
            log.exception("could not render the mail of registration %s", registration.id)
    if not rendered:
        return 0
    end_read()
    wanted = [item.registration_id for item in rendered]
    locked: list[int] = []

    def lock() -> None:
        # Rows a seat unit is changing are skipped (left for later), never waited for: so
        # this unit and that one cannot wait for each other.
        locked[:] = db.session.scalars(
            select(Registration.id)
            .where(Registration.id.in_(wanted))
            .order_by(Registration.id)
            .with_for_update(skip_locked=True)
        )

    done = 0
    with unit_of_work(lock=lock):
        current = {
            registration.id: registration
            for registration in db.session.scalars(
                select(Registration)
                .where(Registration.id.in_(locked))
                .execution_options(populate_existing=True)
            )
        }
        for item in rendered:
            registration = current.get(item.registration_id)
            seen = (item.status, item.ticket_mail_due, item.status_mail_due)
            if registration is None or seen != (
                registration.status,
                registration.ticket_mail_due,
                registration.status_mail_due,
            ):
                continue
            db.session.add_all(item.mail)
            registration.ticket_mail_due = registration.status_mail_due = False
            reschedule_registration(db.session, registration)  # owed with the mail
            done += 1
    return done


# A batch is queued in one unit (with the reminders): small batches keep check-ins waiting
# a moment at most.
DUE_BATCH = 25


def send_due_mail(_sender=None, limit: int = DUE_BATCH) -> int:
    """The mail worker's part (signals.worker_tick): the mail registrations are owed, a
    batch at a time; returns how many registrations were done, 0 when none is left (or
    none could be rendered)."""
    due = list(
        db.session.scalars(
            select(Registration.id)
            .where(or_(Registration.ticket_mail_due, Registration.status_mail_due))
            .order_by(Registration.id)
            .limit(limit)
        )
    )
    return _send_due(due) if due else 0


def count_mail_due(_sender=None) -> dict[str, int]:
    """Registrations whose ticket or status mail is still owed (for /healthz)."""
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(or_(Registration.ticket_mail_due, Registration.status_mail_due))
    )
    return {"registration_mail": waiting}


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
    if event.kind != EventKind.EVENT:  # a course
        return sessions
    first_of_day: dict[date, Session] = {}
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id or 0)):
        first_of_day.setdefault(session.starts_at.astimezone(event.tz).date(), session)
    return list(first_of_day.values())


def reschedule_session(db_session: OrmSession, session: Session) -> None:
    event = session.event
    if event.kind == EventKind.EVENT:
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


# --- the receivers (connected in events.init_app) -----------------------------------------


def reminders_follow_profile(user, changed: frozenset = frozenset()) -> None:
    """Receiver of signals.profile_changed: the pending reminders of a person who chose
    another language are written again in it (inside the profile's unit)."""
    if "locale" not in changed:
        return
    pending = select(OutboxMessage.registration_id).where(
        OutboxMessage.template == REMINDER, OutboxMessage.status == OutboxStatus.QUEUED
    )
    for registration in db.session.scalars(
        select(Registration).where(Registration.user_id == user.id, Registration.id.in_(pending))
    ):
        reschedule_registration(db.session, registration)


def reminders_follow_registration(registration: Registration, **_) -> None:
    """signals.registration_changed: its reminders follow its status. Mail owed brings the
    reminders with it (the worker's); until then the old ones are dropped, and a
    registration not written yet has none (one statement less under the seat lock)."""
    if registration.ticket_mail_due or registration.status_mail_due:
        if not inspect(registration).pending:
            _pending_reminders(db.session, registration_id=registration.id)
    else:
        reschedule_registration(db.session, registration)


def reminders_follow_session(session: Session, **_) -> None:
    """signals.session_changed: reminders at the session's new time, none once cancelled."""
    reschedule_session(db.session, session)


# --- samples for the admin's preview ------------------------------------------------------


def mail_samples(_sender=None) -> list[Preview]:
    starts = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    event = Event(
        id=0,
        kind=EventKind.EVENT,
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
