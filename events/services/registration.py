"""Registration for an outreach event from its public form: the answers, the organisation,
the consent, and the ticket mail (events.services.notifications). Places are taken by
`seats.register`, the one seat-taking service of events and courses."""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from events.models import Event, Question, QuestionKind, Registration, RegistrationStatus
from events.services import notifications, seats
from events.services.listing import closed_reason
from webapp.extensions import db
from webapp.locking import write_transaction
from webapp.models import User
from webapp.services import normalise_email, organisation_for

# What people type as a phone number: digits with spaces, brackets, dashes, dots, a leading +.
PHONE = re.compile(r"^\+?[\d\s()\-.]{5,30}$")

YES, NO = "yes", "no"
YES_NO_LABELS = {YES: _l("Yes"), NO: _l("No")}


# Plain notation only: an exponent ("1e400000") would be a valid, and enormous, Decimal.
_NUMBER = re.compile(r"[+-]?\d{1,20}(?:\.\d{1,8})?")


def parse_number(text: str) -> Decimal | None:
    """A number as people type it: "12", "-3", "2,5" or "2.5" (spaces between thousands
    allowed); None when it is not one."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        return None
    return Decimal(cleaned)


def stored_answer(question: Question, value) -> str:
    """The text kept for an answer the form checked: several choices one a line, a number
    in its plain form, yes or no as "yes"/"no"."""
    if question.kind == QuestionKind.MULTIPLE:
        return "\n".join(value or [])
    if question.kind == QuestionKind.NUMBER and value:
        number = parse_number(value)
        return format(number.normalize(), "f") if number is not None else ""
    return (value or "").strip()


def answer_text(question: Question, value: str) -> str:
    """An answer for people to read (the registrant list, exports): yes/no in their
    language, several choices joined by commas."""
    if question.kind == QuestionKind.YESNO and value in YES_NO_LABELS:
        return str(YES_NO_LABELS[value])
    if question.kind == QuestionKind.MULTIPLE:
        return ", ".join(value.splitlines())
    return value


@dataclass
class RegistrationData:
    full_name: str
    email: str
    phone: str | None = None
    organisation_type: str | None = None
    organisation_name: str | None = None
    inn: str | None = None
    answers: dict[int, object] = field(default_factory=dict)  # the form's data by question id
    consent: bool = False
    locale: str | None = None  # the language of the ticket mail


def existing_registration(event: Event, email: str, user: User | None) -> Registration | None:
    """This person's live registration for the event: by e-mail, or by account."""
    same_person = Registration.email == normalise_email(email)
    if user is not None:
        same_person |= Registration.user_id == user.id
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id,
            same_person,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )


def my_registration(
    event: Event, user: User | None, remembered_ids: list[int]
) -> Registration | None:
    """The live registration of the person looking at the event page: the account's, or
    one made in this browser (never found by e-mail alone: anyone can type an address)."""
    mine = Registration.id.in_(remembered_ids or [-1])
    if user is not None:
        mine |= Registration.user_id == user.id
    return db.session.scalar(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
            mine,
        )
        .limit(1)
    )


def register(event: Event, data: RegistrationData, user: User | None) -> seats.RegisterResult:
    """Register a person (a guest, or the signed-in user) and mail the ticket.

    Raises seats.RegistrationRefused when registration is not open or consent is missing.
    A person already registered gets their registration back (created=False), untouched.
    """
    if not data.consent:
        raise seats.RegistrationRefused("no_consent")
    ends_at = max((session.ends_at for session in event.sessions), default=None)
    if reason := closed_reason(event, ends_at):
        raise seats.RegistrationRefused(reason)
    if existing := existing_registration(event, data.email, user):
        return seats.RegisterResult(existing, created=False)
    answers = {
        question.id: stored_answer(question, data.answers.get(question.id))
        for question in event.questions
    }
    organisation_id = _organisation_id(data, user) if event.asks_organisation else None
    result = seats.register(
        event.id,
        full_name=data.full_name.strip(),
        email=data.email,
        user_id=user.id if user else None,
        phone=(data.phone or "").strip() or None,
        organisation_id=organisation_id,
        answers={question_id: text for question_id, text in answers.items() if text},
        consent_policy_version=current_app.config["TROPA_POLICY_VERSION"],
        notify=lambda registration: notifications.tell_registered(registration, data.locale),
    )
    return result


def _organisation_id(data: RegistrationData, user: User | None) -> int | None:
    """The named organisation, found by INN or created."""
    try:
        return _save_organisation(data, user)
    except IntegrityError:
        # Someone gave the same new INN at the same moment (PostgreSQL): a second try finds
        # their organisation.
        return _save_organisation(data, user)


def _save_organisation(data: RegistrationData, user: User | None) -> int | None:
    # A write transaction of its own: on SQLite a read transaction that turns writer fails
    # at once when someone else wrote in between.
    with write_transaction():
        organisation = organisation_for(
            data.organisation_type,
            data.organisation_name,
            data.inn,
            person_name=data.full_name,
            municipality=user.municipality if user else None,
        )
        db.session.flush()
        organisation_id = organisation.id if organisation else None
    return organisation_id


def send_ticket(registration: Registration, locale: str | None = None) -> None:
    """Mail the ticket link again, when someone asks with the e-mail."""
    notifications.tell_registered(registration, locale)
    db.session.commit()
