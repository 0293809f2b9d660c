"""Registration for an outreach event from its public form: the answers, the organisation,
the consent, and the ticket mail (events.services.notifications). Places are taken by
`seats.register`, the one seat-taking service of events and courses."""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from events.models import Event, Question, QuestionKind, Registration, RegistrationStatus
from events.services import seats
from events.services.listing import registration_closed_reason
from webapp.extensions import db
from webapp.models import User
from webapp.services import organisation_for
from webapp.transactions import unit_of_work
from webapp.types import utcnow

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


def my_registration(
    event: Event, user: User | None, remembered_ids: list[int]
) -> Registration | None:
    """The live registration of the person looking at the event page: the account's, or
    one made in this browser (never found by e-mail alone: anyone can type an address)."""
    if user is None and not remembered_ids:  # a guest's first visit: nothing to look for
        return None
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
    """Register a person (a guest, or the signed-in user) and owe them the ticket mail: one
    unit under the event's lock, the organisation named included, so a refused seat leaves
    nothing behind. The mail worker renders and queues the mail.

    Raises seats.RegistrationRefused when registration is not open or consent is missing.
    A person already registered gets their registration back (created=False), untouched.
    """
    if not data.consent:
        raise seats.RegistrationRefused("no_consent")
    if reason := registration_closed_reason(event):
        raise seats.RegistrationRefused(reason)
    answers = {
        question.id: stored_answer(question, data.answers.get(question.id))
        for question in event.questions
    }
    try:
        return _register(event, data, user, answers)
    except IntegrityError:
        # Someone gave the same new INN at the same moment (PostgreSQL; another event's
        # lock): the unit was rolled back whole, and a second try finds their organisation.
        return _register(event, data, user, answers)


def _register(
    event: Event, data: RegistrationData, user: User | None, answers: dict[int, str]
) -> seats.RegisterResult:
    def write_organisation() -> int | None:
        organisation = organisation_for(
            data.organisation_type,
            data.organisation_name,
            data.inn,
            person_name=data.full_name,
            municipality=user.municipality if user else None,
        )
        db.session.flush()
        return organisation.id if organisation else None

    return seats.register(
        event.id,
        full_name=data.full_name.strip(),
        email=data.email,
        user_id=user.id if user else None,
        phone=(data.phone or "").strip() or None,
        write_organisation=write_organisation if event.asks_organisation else None,
        answers={question_id: text for question_id, text in answers.items() if text},
        consent_policy_version=current_app.config["TROPA_POLICY_VERSION"],
        mail_ticket=True,
        locale=data.locale,
    )


# Someone typing a registered address again gets the ticket mailed again, at most this often:
# anyone can type any address, and must not flood its mailbox.
RESEND_EVERY = timedelta(hours=1)


def send_ticket(registration_id: int, locale: str | None = None) -> bool:
    """Mail the ticket again, when someone asks with the registration's e-mail; False when
    it was mailed again less than RESEND_EVERY ago (nothing sent)."""
    now = utcnow()

    def lock() -> None:
        db.session.execute(
            select(Registration.id).where(Registration.id == registration_id).with_for_update()
        ).all()

    with unit_of_work(lock=lock):
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration is None:
            raise seats.RegistrationRefused("not_found")
        resent = registration.ticket_resent_at
        if resent is not None and now - resent < RESEND_EVERY:
            return False
        registration.ticket_resent_at = now
        registration.mail_locale = locale or registration.mail_locale
        registration.ticket_mail_due = True  # the mail worker sends it
    return True
