"""Issuing certificates: exactly once per registration, each in a unit of work.

A course enrolment is eligible once its completion is recorded (courses.services.completion
records the date the rules were first all met); an event registration once it is confirmed,
was present (or late) at a session at least, and the event enables participation
certificates. Both are issued automatically: the receivers at the bottom of this module
record the intent (a CertificateDue row, one statement) in the unit that records the
completion or the check-in, and the certificate (snapshot, mail) is issued after that unit
commits, or by the worker when that step failed or its process died. So the door's lock
never waits for a certificate, and none is lost.

Exactly once: the certificate's registration_id is unique. Two transactions issuing for one
registration at once both try the INSERT inside a SAVEPOINT; the loser's fails, is rolled
back to the savepoint (its serial number with it) and returns the winner's certificate.

Serial numbers come from one counter row per year, taken with an atomic
`UPDATE … SET last_number = last_number + 1 RETURNING`, so no two certificates share one.
"""

import time
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from certificates.errors import CertificatesRefusal
from certificates.models import (
    Certificate,
    CertificateDue,
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
from certificates.services.templates import default_design, default_template
from courses.models import Course, CourseCompletion
from courses.services import completion
from events.models import (
    PRESENT_OR_LATE,
    Attendance,
    Event,
    EventKind,
    Registration,
    RegistrationStatus,
)
from events.services.tickets import ticket_url
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import Role, User
from webapp.outbox import Preview
from webapp.services import random_secret
from webapp.transactions import after_commit, in_unit_of_work, unit_of_work
from webapp.types import utcnow
from webapp.urls import absolute_url

MAIL_TEMPLATE = "certificates/mail/issued"


class NotEligible(CertificatesRefusal):
    """A certificate that is not issued, re-issued or revoked: the message says why (shown
    to the organiser as is)."""

    MESSAGES = {
        "not_enabled": _l("Certificates are not enabled for this event."),
        "not_completed": _l("%(name)s has not completed the course."),  # with the name
        "not_present": _l("%(name)s is not a confirmed participant who was present."),
        "nobody_eligible": _l("Nobody is eligible for a certificate yet."),
        "revoked": _l("A revoked certificate cannot be re-issued."),
        "no_reason": _l("Give the reason for revoking the certificate."),
        "already_revoked": _l("This certificate is already revoked."),
    }


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
    of its kind)."""
    event_id = event.id
    with unit_of_work():
        settings = db.session.get(EventCertificates, event_id)
        if settings is None:
            settings = EventCertificates(event_id=event_id)
            db.session.add(settings)
        settings.enabled = enabled
        settings.template_id = template_id
    _participation.pop(event_id, None)  # this process sees it at once, the others soon


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
            Attendance.status.in_(PRESENT_OR_LATE),
        )
        query = select(Registration.id).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            attended,
        )
    if registration_ids is not None:
        query = query.where(Registration.id.in_(list(registration_ids)))
    return set(db.session.scalars(query))


def eligible_now(event: Event, registrations: list[Registration]) -> set[int]:
    """eligible_ids for a page of registrations, reading only: a course's completions
    reached and not recorded yet count (they are recorded when the certificate is issued)."""
    if not isinstance(event, Course):
        return eligible_ids(event, [registration.id for registration in registrations])
    states = completion.completion_states(event, registrations)
    return {registration_id for registration_id, state in states.items() if state.complete}


def refresh_completions(event: Event) -> None:
    """Record the completions a course's participants have reached (in the caller's unit or
    its own). Nothing to do for an event."""
    if isinstance(event, Course):
        completion.record_completions(event)


def _refusal(registration: Registration) -> NotEligible | None:
    event = registration.event
    if not issues_certificates(event):
        return NotEligible("not_enabled")
    if isinstance(event, Course):
        completion.record_completions(event, [registration])
    if registration.id in eligible_ids(event, [registration.id]):
        return None
    reason = "not_completed" if isinstance(event, Course) else "not_present"
    return NotEligible(reason, name=registration.full_name)


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


def _dialect_insert():
    """INSERT with ON CONFLICT DO NOTHING, which both databases speak."""
    return postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert


def next_serial_number(year: int, count: int = 1) -> int:
    """The last of `count` numbers taken for the year: the row is created once, then
    incremented atomically (the UPDATE holds the row until commit, so concurrent issues
    queue here)."""
    db.session.execute(
        _dialect_insert()(CertificateSerial)
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
    holder told by mail). In the caller's unit or its own; raises NotEligible."""
    with unit_of_work():
        existing = certificate_of(registration.id)
        if existing is not None:
            return existing
        if (refusal := _refusal(registration)) is not None:
            raise refusal
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
    at once; a bulk issue takes a chunk at a time); returns the new ones. In the caller's
    unit or its own."""
    with unit_of_work():
        return _issue_many(event, registrations, by_user)


def _issue_many(
    event: Event, registrations: list[Registration], by_user: User | None
) -> list[Certificate]:
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
    """issue() by the registration's id: for the views and the CLI."""
    with unit_of_work():
        return issue(db.session.get(Registration, registration_id), by_user)


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
            db.session.execute(
                delete(CertificateDue).where(
                    CertificateDue.registration_id.in_([r.id for r in registrations])
                )
            )
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


def reissue(certificate_id: int, by_user: User | None) -> Certificate:
    """A new version with a fresh snapshot (a corrected name, the current template); the
    serial, the code and the issue date stay."""
    with unit_of_work():
        certificate = _locked_certificate(certificate_id)
        if certificate.revoked:
            raise NotEligible("revoked")
        _reissue(certificate)
    return certificate


def _locked_certificate(certificate_id: int) -> Certificate:
    """The certificate's row, FOR UPDATE on PostgreSQL: two clicks re-issue one after the
    other, each its own version."""
    return db.session.scalars(
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _reissue(certificate: Certificate) -> None:
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


def revoke(certificate_id: int, reason: str, by_user: User | None) -> Certificate:
    """Revoked for good (there is no un-revoke): the verify page says so, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise NotEligible("no_reason")
    with unit_of_work():
        certificate = _locked_certificate(certificate_id)
        if certificate.revoked:
            raise NotEligible("already_revoked")
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
    were kept), or the default design if the template was deleted since (reading only).
    Certificates with the same design get the same object, so a caller can group them."""
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
            kept[key] = certificate.template or default_design(certificate.kind)
        designs.append(kept[key])
    return designs


# --- automatic issue: the intent in the sender's unit, the certificate after commit ------

DUE_PER_TICK = 200  # due certificates the worker issues per round
# issued at once after the unit that made them due; more (a bulk issue's completions, say)
# are left to the worker and the batch's steps, so no request renders a hundred certificates
AFTER_COMMIT_AT_MOST = 25
PARTICIPATION_CACHE_SECONDS = 5.0
# event id → (issues participation certificates, until when this process trusts it): the
# door's check-ins of an event without certificates cost no query at all
_participation: dict[int, tuple[bool, float]] = {}


def issue_for_completions(_sender, completions: list[CourseCompletion]) -> None:
    """course_completed, inside the unit recording the completions: the certificates are
    due (one statement per course that issues them), issued after commit."""
    ids = [record.registration_id for record in completions]
    wanted = list(
        db.session.execute(
            select(Registration.id, Registration.event_id).where(Registration.id.in_(ids))
        )
    )
    by_course: dict[int, list[int]] = {}
    for registration_id, course_id in wanted:
        by_course.setdefault(course_id, []).append(registration_id)
    due = []
    for course_id, registration_ids in by_course.items():
        if issues_certificates(db.session.get(Event, course_id)):
            due += registration_ids
    if due:
        _record_due(due)


def issue_for_attendance(_sender, registration_id: int, event_id: int) -> None:
    """attendance_marked, inside the door's check-in unit (its hot path): for an event that
    issues participation certificates, one INSERT records the certificate due (unless the
    person holds one); nothing at all for an event without (the setting is cached)."""
    if _issues_participation(event_id):
        _record_due([registration_id])


def _issues_participation(event_id: int) -> bool:
    now = time.monotonic()
    cached = _participation.get(event_id)
    if cached is not None and cached[1] > now:
        return cached[0]
    issues = bool(
        db.session.scalar(
            select(EventCertificates.enabled)
            .join(Event, Event.id == EventCertificates.event_id)
            .where(EventCertificates.event_id == event_id, Event.kind == EventKind.EVENT)
        )
    )
    _participation[event_id] = (issues, now + PARTICIPATION_CACHE_SECONDS)
    return issues


def _record_due(registration_ids: list[int]) -> None:
    """One INSERT … SELECT of the registrations holding no certificate and not due yet;
    their issue is tried after the unit commits (and by the worker, should that fail)."""
    holds = exists().where(Certificate.registration_id == Registration.id)
    recorded = db.session.execute(
        _dialect_insert()(CertificateDue)
        .from_select(
            ["registration_id", "due_at"],
            select(Registration.id, literal(utcnow(), CertificateDue.due_at.type)).where(
                Registration.id.in_(registration_ids), ~holds
            ),
        )
        .on_conflict_do_nothing(index_elements=["registration_id"])
        .returning(CertificateDue.registration_id)  # rowcount of INSERT … SELECT is unreliable
    )
    # nothing new (a holder, or due already: its after-commit step is on its way) costs
    # nothing more; a sender outside any unit leaves them to the worker
    if recorded.first() is not None and in_unit_of_work():
        after_commit(lambda: issue_due_after_commit(registration_ids))


def issue_due_after_commit(registration_ids: list[int]) -> None:
    """The after-commit step: issue these registrations' due certificates now. A failure
    is logged and left to the worker (the row stays due): the check-in or the completion
    that earned it is committed already and must not fail."""
    try:
        issue_due(registration_ids[:AFTER_COMMIT_AT_MOST])
    except Exception:  # noqa: BLE001  logged; the worker issues it later
        current_app.logger.exception("certificates due %s: left to the worker", registration_ids)


def issue_due(registration_ids: list[int] | None = None, limit: int = DUE_PER_TICK) -> int:
    """Issue due certificates (these registrations', or the oldest `limit`), one unit per
    event; a registration no longer eligible is dropped from the due list. Returns how
    many were issued. Safe to run twice at once: a certificate is unique per registration,
    so the second issue finds the first one's and mails nothing."""
    query = select(CertificateDue.registration_id).order_by(CertificateDue.due_at)
    if registration_ids is not None:
        query = query.where(CertificateDue.registration_id.in_(registration_ids))
    due = list(db.session.scalars(query.limit(limit)))
    if not due:
        return 0  # the common case after commit: nothing was due, no unit taken
    by_event: dict[int, list[int]] = {}
    for registration_id, event_id in db.session.execute(
        select(Registration.id, Registration.event_id).where(Registration.id.in_(due))
    ):
        by_event.setdefault(event_id, []).append(registration_id)
    issued = 0
    for event_id, ids in by_event.items():
        with unit_of_work():
            registrations = list(
                db.session.scalars(select(Registration).where(Registration.id.in_(ids)))
            )
            issued += len(issue_many(db.session.get(Event, event_id), registrations))
            # what was not issued now (held already, no longer eligible) is due no more
            db.session.execute(
                delete(CertificateDue).where(CertificateDue.registration_id.in_(ids))
            )
    return issued


def issue_due_certificates(_sender=None) -> int:
    """worker_tick: the due certificates whose after-commit step failed or never ran."""
    return issue_due()


def count_due_certificates(_sender=None) -> dict[str, int]:
    """Certificates earned and not issued yet (for /healthz)."""
    waiting = db.session.scalar(select(func.count()).select_from(CertificateDue))
    return {"certificates_due": waiting}
