"""Demo certificates, loaded after the courses' and events' demo data (courses.demo
DEMO_EXTENSIONS): everyone who completed a demo course holds a certificate of completion
(one of them revoked, with the reason), and the past outreach event with the most people at
the door issues certificates of participation to them."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from certificates.models import Certificate, TemplateKind
from certificates.services import issuing
from courses import demo as courses_demo
from courses.models import Course
from events.models import Attendance, Event, EventKind, Registration, Session
from webapp.extensions import db
from webapp.transactions import unit_of_work
from webapp.types import utcnow

REVOKED_REASON = "Выдан по ошибке: итоговое задание не было принято."


def load_demo_certificates(_sender=None) -> str:
    for course in db.session.scalars(select(Course).order_by(Course.id)):
        _issue_to_everyone_eligible(course)  # the listener issued most at completion already
    forum = _past_event_with_most_attendees()
    if forum is not None:
        issuing.save_settings(forum, enabled=True, template_id=None)
        _issue_to_everyone_eligible(forum)
    revoked = _revoke_one()
    counts = dict(
        db.session.execute(select(Certificate.kind, func.count()).group_by(Certificate.kind)).all()
    )
    return _(
        "Demo certificates: %(courses)d of completion (%(revoked)d revoked), "
        "%(events)d of participation.",
        courses=counts.get(TemplateKind.COURSE, 0),
        revoked=int(revoked),
        events=counts.get(TemplateKind.EVENT, 0),
    )


def _issue_to_everyone_eligible(event: Event) -> None:
    """In one unit: the issue of each is tried after commit, not one by one."""
    with unit_of_work():
        held = select(Certificate.registration_id).where(Certificate.event_id == event.id)
        registrations = db.session.scalars(
            select(Registration)
            .where(Registration.id.in_(issuing.eligible_ids(event)), Registration.id.not_in(held))
            .order_by(Registration.id)
        )
        issuing.issue_many(event, list(registrations))


def _past_event_with_most_attendees() -> Event | None:
    ended = (
        select(Session.event_id)
        .group_by(Session.event_id)
        .having(func.max(Session.ends_at) < utcnow())
    )
    return db.session.scalar(
        select(Event)
        .join(Session, Session.event_id == Event.id)
        .join(Attendance, Attendance.session_id == Session.id)
        .where(Event.kind == EventKind.EVENT, Event.id.in_(ended))
        .group_by(Event.id)
        .order_by(func.count(Attendance.id).desc(), Event.id)
        .limit(1)
    )


def _revoke_one() -> bool:
    """The first course certificate of someone other than the demo participant (whose
    certificates stay valid to show)."""
    certificate = db.session.scalar(
        select(Certificate)
        .join(Registration, Registration.id == Certificate.registration_id)
        .where(
            Certificate.kind == TemplateKind.COURSE, Registration.email != courses_demo.PARTICIPANT
        )
        .order_by(Certificate.id)
        .limit(1)
    )
    if certificate is None:
        return False
    issuing.revoke(certificate.id, REVOKED_REASON, by_user=None)
    return True
