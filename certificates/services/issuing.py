"""Issuing certificates: exactly once per registration, in the caller's transaction.

A course enrolment is eligible once its completion is recorded (courses.services.completion
records the date the rules were first all met); an event registration once it is confirmed,
was present (or late) at a session at least, and the event enables participation
certificates. Both are issued automatically by the listeners at the bottom of this module,
in the transaction that records the completion or the check-in, so the certificate and the
change that earned it commit together.

Exactly once: the certificate's registration_id is unique. Two transactions issuing for one
registration at once both try the INSERT inside a SAVEPOINT; the loser's fails, is rolled
back to the savepoint (its serial number with it) and returns the winner's certificate.

Serial numbers come from one counter row per year, taken with an atomic
`UPDATE … SET last_number = last_number + 1 RETURNING`, so no two certificates share one.
"""

from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from certificates.models import (
    Certificate,
    CertificateSerial,
    CertificateTemplate,
    CertificateTemplateVersion,
    EventCertificates,
    TemplateKind,
)
from certificates.rendering import (
    SAMPLE_SNAPSHOT,
    SAMPLE_VERIFY_URL,
    Design,
    render_certificate,
)
from certificates.services.credentials import verify_url
from certificates.services.templates import default_template
from courses.models import Course, CourseCompletion
from courses.services import completion
from events.models import (
    Attendance,
    Event,
    Registration,
    RegistrationStatus,
)
from events.services.tickets import ticket_url
from webapp.extensions import db
from webapp.locking import write_transaction
from webapp.mail import send_mail
from webapp.models import Role, User
from webapp.outbox import Preview
from webapp.services import random_secret
from webapp.types import utcnow
from webapp.urls import absolute_url

MAIL_TEMPLATE = "certificates/mail/issued"


class NotEligible(Exception):
    """Refused: the message says why (shown to the organiser as is)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


# --- who manages, who is eligible ---------------------------------------------------------


def kind_of(event: Event) -> TemplateKind:
    return TemplateKind.COURSE if isinstance(event, Course) else TemplateKind.EVENT


def can_manage(user: User | None, event: Event) -> bool:
    """Organisers, and a course's own trainers (they sign its participants off)."""
    if not (user and user.is_authenticated):
        return False
    if user.has_role(Role.ORGANISER):
        return True
    return isinstance(event, Course) and any(t.id == user.id for t in event.trainers)


def settings_of(event: Event) -> EventCertificates | None:
    return db.session.get(EventCertificates, event.id)


def issues_certificates(event: Event, settings: EventCertificates | None = None) -> bool:
    """With no settings row a course issues (on completion), an event does not."""
    settings = settings if settings is not None else settings_of(event)
    if settings is None:
        return isinstance(event, Course)
    return settings.enabled


def save_settings(event: Event, enabled: bool, template_id: int | None) -> None:
    """Turn the event's certificates on or off and choose its template (None: the default
    of its kind); committed."""
    settings = settings_of(event)
    if settings is None:
        settings = EventCertificates(event_id=event.id)
        db.session.add(settings)
    settings.enabled = enabled
    settings.template_id = template_id
    db.session.commit()


def template_for(event: Event) -> CertificateTemplate:
    settings = settings_of(event)
    if settings is not None and settings.template is not None:
        return settings.template
    return default_template(kind_of(event))


def eligible_ids(event: Event, registration_ids: Iterable[int] | None = None) -> set[int]:
    """The ids of the event's registrations that may hold a certificate (of the given ones,
    default all), in one query. A course's completions must be recorded first (see
    refresh_completions)."""
    if isinstance(event, Course):
        query = (
            select(Registration.id)
            .join(CourseCompletion, CourseCompletion.registration_id == Registration.id)
            .where(Registration.event_id == event.id, CourseCompletion.completed_at.is_not(None))
        )
    else:
        attended = exists().where(
            Attendance.registration_id == Registration.id,
            Attendance.status.in_(completion.ATTENDED),
        )
        query = select(Registration.id).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            attended,
        )
    if registration_ids is not None:
        query = query.where(Registration.id.in_(list(registration_ids)))
    return set(db.session.scalars(query))


def refresh_completions(event: Event) -> None:
    """Record the completions a course's participants have reached (which issues their
    certificates through the listener below, and commits). Nothing to do for an event."""
    if isinstance(event, Course):
        completion.completion_states(event)


def _refusal(registration: Registration) -> str | None:
    event = registration.event
    if not issues_certificates(event):
        return str(_l("Certificates are not enabled for this event."))
    if registration.id in eligible_ids(event, [registration.id]):
        return None
    if isinstance(event, Course):
        return str(_l("%(name)s has not completed the course.", name=registration.full_name))
    return str(
        _l("%(name)s is not a confirmed participant who was present.", name=registration.full_name)
    )


# --- the snapshot and the serial --------------------------------------------------------------


def snapshot_for(
    registration: Registration,
    *,
    serial: str,
    version: int,
    issued_at: datetime,
    template: CertificateTemplate,
) -> dict:
    """What the certificate certifies, frozen: later edits of the course or the person do
    not change it (a re-issue takes a fresh one)."""
    event = registration.event
    tz = event.tz
    held = [s for s in event.sessions if s.cancelled_at is None]
    is_course = isinstance(event, Course)
    holder = registration.user
    return {
        "holder_name": holder.full_name if holder is not None else registration.full_name,
        "title": event.title,
        "kind": kind_of(event).value,
        "programme": event.programme.title if is_course else None,
        "hours": event.academic_hours if is_course and event.academic_hours else None,
        "starts_on": held[0].starts_at.astimezone(tz).date().isoformat() if held else None,
        "ends_on": held[-1].ends_at.astimezone(tz).date().isoformat() if held else None,
        "issued_on": issued_at.astimezone(tz).date().isoformat(),
        "serial": serial,
        "issuer": current_app.config["TROPA_CENTRE_NAME"],
        "trainers": [t.full_name for t in event.trainers] if is_course else [],
        "template_version": template.version,
        "version": version,
    }


def next_serial_number(year: int, count: int = 1) -> int:
    """The last of `count` numbers taken for the year: the row is created once, then
    incremented atomically (the UPDATE holds the row until commit, so concurrent issues
    queue here)."""
    dialect_insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        dialect_insert(CertificateSerial)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    return db.session.scalar(
        update(CertificateSerial)
        .where(CertificateSerial.year == year)
        .values(last_number=CertificateSerial.last_number + count)
        .returning(CertificateSerial.last_number)
    )


# --- issue, re-issue, revoke -------------------------------------------------------------------


def certificate_list_query(event: Event) -> Select:
    """The people on an event's certificates page: the confirmed, and whoever holds a
    certificate (cancelled since, say), by name."""
    return (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            or_(
                Registration.status == RegistrationStatus.CONFIRMED,
                exists().where(Certificate.registration_id == Registration.id),
            ),
        )
        .order_by(Registration.full_name, Registration.id)
    )


def certificates_by_registration(registration_ids: list[int]) -> dict[int, Certificate]:
    """The certificates of these registrations, keyed by registration, in one query."""
    return {
        certificate.registration_id: certificate
        for certificate in db.session.scalars(
            select(Certificate).where(Certificate.registration_id.in_(registration_ids))
        )
    }


def certificates_of_user(user: User) -> list[Certificate]:
    """What "My certificates" lists: the newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def certificate_of(registration_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(Certificate.registration_id == registration_id)
    )


def issue(registration: Registration, by_user: User | None = None) -> Certificate:
    """The registration's certificate: the existing one, or a new one issued now (and the
    holder told by mail). In the caller's transaction; raises NotEligible."""
    existing = certificate_of(registration.id)
    if existing is not None:
        return existing
    if (reason := _refusal(registration)) is not None:
        raise NotEligible(reason)
    new = _insert_certificates(registration.event, [registration], by_user)
    if new is None:  # a concurrent issue won: its certificate is the certificate
        return certificate_of(registration.id)
    tell_issued(new[0])
    return new[0]


def issue_many(
    event: Event, registrations: list[Registration], by_user: User | None = None
) -> list[Certificate]:
    """Certificates for those of the event's registrations that are eligible and hold none,
    in a constant number of queries (a course's progress grid may complete thirty people
    at once; a bulk issue takes a chunk at a time); returns the new ones."""
    ids = [registration.id for registration in registrations]
    if not ids or not issues_certificates(event):
        return []
    held = set(
        db.session.scalars(
            select(Certificate.registration_id).where(Certificate.registration_id.in_(ids))
        )
    )
    eligible = eligible_ids(event, ids) - held
    wanted = [registration for registration in registrations if registration.id in eligible]
    if not wanted:
        return []
    _load_holders(wanted)
    new = _insert_certificates(event, wanted, by_user)
    if new is None:  # a concurrent issue took one of them: one at a time, each finds its own
        return [issue(registration, by_user) for registration in wanted]
    for certificate in new:
        tell_issued(certificate)
    return new


def _load_holders(registrations: list[Registration]) -> None:
    """The registrations' users in one query, not one each (snapshot and mail read them)."""
    ids = {registration.user_id for registration in registrations if registration.user_id}
    holders = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
    for registration in registrations:
        set_committed_value(registration, "user", holders.get(registration.user_id))


def issue_now(registration_id: int, by_user: User | None = None) -> Certificate:
    """issue() in a write transaction of its own, committed: for the views and the CLI.
    (On SQLite the transaction must take the write lock first; see webapp.locking.)"""
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        certificate = issue(registration, by_user)
    return certificate


def _insert_certificates(
    event: Event, registrations: list[Registration], by_user: User | None
) -> list[Certificate] | None:
    """Insert the registrations' certificates with consecutive serials, inside a savepoint,
    in one statement (an executemany: the ORM would insert row by row on SQLite); None when
    a concurrent transaction issued one of them first (all rolled back)."""
    template = template_for(event)
    now = utcnow()
    year = now.astimezone(event.tz).year
    try:
        with db.session.begin_nested():
            first = next_serial_number(year, len(registrations)) - len(registrations) + 1
            rows = [
                {
                    "registration_id": registration.id,
                    "event_id": event.id,
                    "user_id": registration.user_id,
                    "kind": kind_of(event),
                    "template_id": template.id,
                    "year": year,
                    "number": number,
                    "code": random_secret(),
                    "version": 1,
                    "issued_at": now,
                    "issued_by_id": by_user.id if by_user else None,
                    "snapshot": snapshot_for(
                        registration,
                        serial=f"{year}-{number:06d}",
                        version=1,
                        issued_at=now,
                        template=template,
                    ),
                }
                for number, registration in enumerate(registrations, start=first)
            ]
            db.session.execute(insert(Certificate), rows)
    except IntegrityError:
        if all(certificate_of(r.id) is None for r in registrations):  # not the race we expect
            raise
        return None
    by_registration = {r.id: r for r in registrations}
    certificates = list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.registration_id.in_(by_registration))
            .order_by(Certificate.number)
        )
    )
    for certificate in certificates:
        set_committed_value(
            certificate, "registration", by_registration[certificate.registration_id]
        )
    return certificates


def reissue(certificate: Certificate, by_user: User | None) -> Certificate:
    """A new version with a fresh snapshot (a corrected name, the current template); the
    serial, the code and the issue date stay."""
    if certificate.revoked:
        raise NotEligible(_l("A revoked certificate cannot be re-issued."))
    template = template_for(certificate.event)
    certificate.version += 1
    certificate.template_id = template.id
    certificate.reissued_at = utcnow()
    certificate.snapshot = snapshot_for(
        certificate.registration,
        serial=certificate.serial,
        version=certificate.version,
        issued_at=certificate.issued_at,
        template=template,
    )
    tell_issued(certificate, reissued=True)
    return certificate


def revoke(certificate: Certificate, reason: str, by_user: User | None) -> Certificate:
    """Revoked for good (there is no un-revoke): the verify page says so, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise NotEligible(_l("Give the reason for revoking the certificate."))
    if certificate.revoked:
        raise NotEligible(_l("This certificate is already revoked."))
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    certificate.revoked_by_id = by_user.id if by_user else None
    return certificate


def tell_issued(certificate: Certificate, reissued: bool = False) -> None:
    registration = certificate.registration
    send_mail(
        registration.user.email if registration.user else registration.email,
        _l("Your certificate: %(title)s", title=certificate.snapshot["title"]),
        MAIL_TEMPLATE,
        locale=registration.user.locale if registration.user else None,
        registration_id=registration.id,
        certificate=certificate,
        snapshot=certificate.snapshot,
        reissued=reissued,
        # a user finds it under My certificates; a guest (no account) by the ticket's secret
        my_certificates_url=absolute_url("/my/certificates") if registration.user else None,
        pdf_url=None
        if registration.user
        else f"{ticket_url(registration.ticket_secret)}/certificate.pdf",
        verify_url=verify_url(certificate.code),
    )


def mail_samples(_sender=None) -> list[Preview]:
    """The issued mail on the admin's outbox page, with sample data."""
    snapshot = SAMPLE_SNAPSHOT
    certificate = Certificate(year=2026, number=123, version=1, snapshot=snapshot)
    return [
        Preview(
            MAIL_TEMPLATE,
            f"Your certificate: {snapshot['title']}",
            {
                "certificate": certificate,
                "snapshot": snapshot,
                "reissued": False,
                "my_certificates_url": "https://tropa.example/my/certificates",
                "pdf_url": None,
                "verify_url": SAMPLE_VERIFY_URL,
            },
        )
    ]


# --- the PDF ------------------------------------------------------------------------------


def pdf_of(certificate: Certificate) -> bytes:
    """Rendered on request from the snapshot and the design it recorded: nothing stored
    but the snapshot itself, and the same PDF however the template changed since."""
    (design,) = designs_of([certificate])
    return render_certificate(design, certificate.snapshot, verify_url(certificate.code))


def designs_of(certificates: list[Certificate]) -> list[Design]:
    """Each certificate's design: its template's version it recorded, in one query; the
    template as it is now if that version is missing (a template created before versions
    were kept), or the default one if the template was deleted since. Certificates with
    the same design get the same object, so a caller can group them by it."""
    keys = [(c.template_id, c.snapshot.get("template_version")) for c in certificates]
    wanted = [key for key in set(keys) if all(key)]
    kept: dict[tuple, Design] = {}
    if wanted:
        versions = db.session.scalars(
            select(CertificateTemplateVersion).where(
                tuple_(
                    CertificateTemplateVersion.template_id, CertificateTemplateVersion.version
                ).in_(wanted)
            )
        )
        kept = {(v.template_id, v.version): v for v in versions}
    designs = []
    for certificate, key in zip(certificates, keys, strict=True):
        if key not in kept:
            kept[key] = certificate.template or default_template(certificate.kind)
        designs.append(kept[key])
    return designs


# --- automatic issue --------------------------------------------------------------------------


def issue_for_completions(_sender, completions: list[CourseCompletion]) -> None:
    """courses.services.completion.on_completed: certificates for course completions (the
    registrations are in the session already: completion_states loaded them)."""
    by_course: dict[int, list[Registration]] = {}
    for record in completions:
        registration = db.session.get(Registration, record.registration_id)
        by_course.setdefault(registration.event_id, []).append(registration)
    for registrations in by_course.values():
        issue_many(registrations[0].event, registrations)


def issue_for_attendance(_sender, registration_id: int, event_id: int) -> None:
    """events.services.checkin.on_attended: the door's hot path, so one query decides
    whether to do anything (an event that issues, a person without one yet)."""
    has_one = exists().where(Certificate.registration_id == registration_id)
    wanted = db.session.scalar(
        select(func.count())
        .select_from(EventCertificates)
        .join(Event, Event.id == EventCertificates.event_id)
        .where(
            EventCertificates.event_id == event_id,
            EventCertificates.enabled.is_(True),
            Event.kind == "event",
            ~has_one,
        )
    )
    if wanted:
        # never refuse the check-in itself: someone not eligible simply gets no certificate
        with suppress(NotEligible):
            issue(db.session.get(Registration, registration_id))
