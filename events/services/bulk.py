"""Bulk actions on the registrant list: approve, confirm, move to the waiting list, cancel,
check in or write to the people an organiser picked.

A status change or check-in runs for everyone in ONE unit of work (each person through the
seat-taking and check-in services, which join it), so the list never shows half a batch;
a person the rules refuse is skipped and reported with the reason, the others go through.
A message goes to the picked people who are not cancelled, all of them or none.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from events.models import AttendanceStatus, Event, Registration, RegistrationStatus
from events.services import checkin, messages, seats
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.models import User
from webapp.transactions import unit_of_work

Status = RegistrationStatus

APPROVE, CONFIRM, WAITLIST, CANCEL, CHECK_IN, MESSAGE = (
    "approve",
    "confirm",
    "waitlist",
    "cancel",
    "check_in",
    "message",
)
ACTION_LABELS = {
    APPROVE: _l("Approve"),
    CONFIRM: _l("Confirm"),
    WAITLIST: _l("To the waiting list"),
    CANCEL: _l("Cancel"),
    CHECK_IN: _l("Check in"),
    MESSAGE: _l("Write a message"),
}
# The most one request may pick: three pages of the list.
MAX_PICKED = 500
# What a status action leaves a person in: someone already there is skipped.
TARGET_STATUS = {CONFIRM: Status.CONFIRMED, WAITLIST: Status.WAITLISTED, CANCEL: Status.CANCELLED}


class BulkError(ServiceError):
    MESSAGES = {
        "nobody": _l("Pick at least one person on the list."),
        "too_many": _l("Pick at most %(n)s people at once.", n=MAX_PICKED),
        "unknown_action": _l("Choose an action."),
        "no_message": _l("Write the subject and the text of the message."),
        "no_session": _l("The event has no session to check in to."),
    }


REFUSALS = {
    **seats.RegistrationRefused.MESSAGES,
    "unchanged": _l("The registration is in this state already."),
    "already_checked_in": _l("Already checked in."),
    "not_confirmed": _l("Only confirmed people are checked in."),
    "cancelled_registration": _l("The registration is cancelled."),
}


@dataclass
class BulkReport:
    action: str
    done: list[str] = field(default_factory=list)  # names
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, reason code)
    promoted: list[str] = field(default_factory=list)  # names taken off the waiting list

    def refusals(self) -> list[tuple[str, str]]:
        """(name, why) for people: the reasons in the reader's language."""
        return [(name, str(REFUSALS[reason])) for name, reason in self.refused]


def apply(
    event: Event,
    registration_ids: list[int],
    action: str,
    *,
    by_user: User | None = None,
    subject: str = "",
    body: str = "",
) -> BulkReport:
    """Run `action` for the event's registrations among `registration_ids`; ids of other
    events' registrations are ignored."""
    if action not in ACTION_LABELS:
        raise BulkError("unknown_action")
    ids = sorted(set(registration_ids))
    if not ids:
        raise BulkError("nobody")
    if len(ids) > MAX_PICKED:
        raise BulkError("too_many")
    if action == MESSAGE:
        return _message(event, ids, subject.strip(), body.strip())
    report = BulkReport(action)
    with unit_of_work():
        picked = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.id.in_(ids))
            .order_by(Registration.queue_number, Registration.id)  # order of arrival
        ).all()
        if action == CHECK_IN:
            _check_in(event, picked, by_user, report)
        else:
            for registration in picked:
                _change(registration, action, report)
    report.done.sort()
    report.refused.sort()
    return report


def _change(registration: Registration, action: str, report: BulkReport) -> None:
    name = registration.full_name
    if TARGET_STATUS.get(action) == registration.status:
        report.refused.append((name, "unchanged"))
        return
    try:
        if action == APPROVE:
            seats.approve(registration.id)
            promoted = []
        elif action == CANCEL:
            promoted = seats.cancel(registration.id)
        else:
            promoted = seats.change_status(registration.id, TARGET_STATUS[action])
    except seats.RegistrationRefused as refused:  # raised before anything changed
        report.refused.append((name, refused.reason))
        return
    report.done.append(name)
    report.promoted.extend(person.full_name for person in promoted)


def _check_in(event: Event, picked, by_user: User | None, report: BulkReport) -> None:
    """Present at the session the door is at now (checkin.current_session)."""
    session = checkin.current_session(event)
    if session is None:
        raise BulkError("no_session")
    for registration in picked:
        if registration.status != Status.CONFIRMED:
            report.refused.append((registration.full_name, "not_confirmed"))
            continue
        marked = checkin.mark(
            event_id=event.id,
            registration_id=registration.id,
            session_id=session.id,
            status=AttendanceStatus.PRESENT,
            by_user=by_user,
        )
        if marked:
            report.done.append(registration.full_name)
        else:
            report.refused.append((registration.full_name, "already_checked_in"))


def _message(event: Event, ids: list[int], subject: str, body: str) -> BulkReport:
    if not subject or not body:
        raise BulkError("no_message", field="subject")
    announcement = messages.Announcement(
        subject=subject[:200], body=body[:20000], registration_ids=tuple(ids)
    )
    recipients = {
        registration.id: registration.full_name
        for registration in db.session.scalars(messages.recipients_query(event, announcement))
    }
    report = BulkReport(MESSAGE, done=sorted(recipients.values()))
    cancelled = db.session.scalars(
        select(Registration.full_name).where(
            Registration.event_id == event.id,
            Registration.id.in_(ids),
            Registration.status == Status.CANCELLED,
        )
    )
    report.refused = sorted((name, "cancelled_registration") for name in cancelled)
    if recipients:
        messages.send_announcement(event, announcement)
    return report
