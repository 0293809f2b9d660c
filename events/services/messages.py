"""An organiser writes to the registrants of an event or a course: all of them, or those
with one status, checked in or not. The messages go through the outbox: rendered first,
outside any lock, then queued in one unit of work: all of them or none."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from events.models import Event, Registration, RegistrationStatus
from events.services import notifications, tickets
from events.services.registrants import RegistrantFilter, registrant_query
from webapp.extensions import db
from webapp.mail import build_message
from webapp.transactions import unit_of_work

TEMPLATE = "events/mail/announcement"


@dataclass(frozen=True)
class Announcement:
    subject: str
    body: str
    status: RegistrationStatus | None = None  # None: everyone not cancelled
    checked_in: bool | None = None
    registration_ids: tuple[int, ...] | None = None  # those picked on the list; None: any


def recipients_query(event: Event, announcement: Announcement) -> Select:
    query = registrant_query(
        event.id,
        RegistrantFilter(status=announcement.status, checked_in=announcement.checked_in),
    )
    if announcement.status is None:
        query = query.where(Registration.status != RegistrationStatus.CANCELLED)
    if announcement.registration_ids is not None:
        query = query.where(Registration.id.in_(announcement.registration_ids))
    return query


def recipient_count(event: Event, announcement: Announcement) -> int:
    subquery = recipients_query(event, announcement).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery))


def _mail_arguments(event: Event, announcement: Announcement, registration: Registration):
    locale = registration.user.locale if registration.user else None
    subject = _l("%(title)s: %(subject)s", title=event.title, subject=announcement.subject)
    context = {
        "registration": registration,
        "event": event,
        "body": announcement.body,
        "ticket_url": tickets.ticket_url(registration.ticket_secret),
    }
    return (registration.email, subject, TEMPLATE, locale), context


def preview(event: Event, announcement: Announcement):
    """The message as the first recipient will get it; None when nobody matches."""
    first = db.session.scalar(recipients_query(event, announcement).limit(1))
    if first is None:
        return None
    arguments, context = _mail_arguments(event, announcement, first)
    return build_message(*arguments, **context)


def send_announcement(event: Event, announcement: Announcement) -> int:
    """Queue the message for every matching registrant; how many."""
    registrations = db.session.scalars(recipients_query(event, announcement)).all()
    subject = _l("%(title)s: %(subject)s", title=event.title, subject=announcement.subject)
    rows = [
        notifications.outbox_row(
            registration,
            subject,
            TEMPLATE,
            body=announcement.body,
            ticket_url=tickets.ticket_url(registration.ticket_secret),
        )
        for registration in registrations
    ]
    with unit_of_work() as session:
        session.add_all(rows)
    return len(rows)
