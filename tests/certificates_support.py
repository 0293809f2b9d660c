"""Courses and events whose people may hold certificates, for the certificates tests.

Registrations and attendance are written directly (the seat-taking service and the door
have their own tests): 150 people are built in a blink."""

import io
import itertools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.jwk import KeySet, OKPKey
from pypdf import PdfReader
from sqlalchemy import insert, select
from sqlalchemy.event import listen, remove

from certificates.models import Certificate, CertificateBatch, EventCertificates
from events.models import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Event,
    Registration,
    RegistrationStatus,
    Session,
    Visibility,
)
from webapp.extensions import db
from webapp.models import User
from webapp.services import random_secret
from webapp.types import utcnow

_numbers = itertools.count(1)


def make_event(title: str = "Форум НКО", certificates: bool = True) -> Event:
    """A published outreach event with one session going on now; participation
    certificates enabled unless `certificates` is False."""
    starts = utcnow() - timedelta(minutes=30)
    event = Event(
        kind="event",
        title=title,
        visibility=Visibility.PUBLISHED,
        timezone="Europe/Moscow",
        search_text=title.lower(),
    )
    event.sessions.append(Session(starts_at=starts, ends_at=starts + timedelta(hours=2)))
    db.session.add(event)
    db.session.flush()
    if certificates:
        db.session.add(EventCertificates(event_id=event.id, enabled=True))
    db.session.commit()
    return event


def add_people(
    event: Event,
    count: int,
    *,
    attended: bool = False,
    user: User | None = None,
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
) -> list[int]:
    """`count` registrations (of `user` if given, else guests), present at the first
    session if `attended`; returns their ids."""
    ids = []
    for _ in range(count):
        number = next(_numbers)
        ids.append(
            db.session.scalar(
                insert(Registration)
                .values(
                    event_id=event.id,
                    user_id=user.id if user else None,
                    full_name=user.full_name if user else f"Участник Номер{number:04d}",
                    email=user.email if user else f"person{number}@example.org",
                    status=status,
                    queue_number=number,
                    ticket_secret=random_secret(),
                )
                .returning(Registration.id)
            )
        )
    if attended:
        session_id = event.sessions[0].id
        db.session.execute(
            insert(Attendance),
            [
                {
                    "registration_id": registration_id,
                    "session_id": session_id,
                    "status": AttendanceStatus.PRESENT,
                    "method": AttendanceMethod.MANUAL,
                }
                for registration_id in ids
            ],
        )
    db.session.commit()
    return ids


def certificates_of(event_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.event_id == event_id).order_by(Certificate.id)
        )
    )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def certificates_world(course, registration) -> dict:
    """For the route table: the enrolled participant's certificate (written directly, no
    template or mail needed) and an unfinished bulk issue of the course."""
    certificate = Certificate(
        registration_id=registration.id,
        event_id=course.id,
        user_id=registration.user_id,
        kind="course",
        year=2026,
        number=1,
        code=random_secret(),
        snapshot={
            "holder_name": registration.full_name,
            "title": course.title,
            "serial": "2026-000001",
        },
    )
    batch = CertificateBatch(event_id=course.id, registration_ids=[registration.id],
                             zip_storage_name=secrets.token_hex(16))  # fmt: skip
    db.session.add_all([certificate, batch])
    db.session.commit()
    return {
        "certificate_id": certificate.id,
        "batch_id": batch.id,
        "verification_code": certificate.code,
    }


@contextmanager
def writes_seen() -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements the database ran inside the block."""
    writes: list[str] = []

    def note(_connection, _cursor, statement, *_args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    listen(db.engine, "before_cursor_execute", note)
    try:
        yield writes
    finally:
        remove(db.engine, "before_cursor_execute", note)


def jwks_key_of(client, token: str) -> OKPKey:
    """The key a VC-JWT names, taken from the served JWKS as an offline verifier would:
    the header's kid is `<base>/.well-known/jwks.json#<thumbprint>`."""
    kid_url = urlsplit(jws.extract_compact(token.encode()).protected["kid"])
    keys = KeySet.import_key_set(client.get(kid_url.path).get_json())
    return keys.get_by_kid(kid_url.fragment)
