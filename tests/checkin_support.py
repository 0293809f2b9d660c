"""Events and registrations for the check-in tests, built with the models and the
seat-taking service as the app builds them."""

import itertools
from datetime import UTC, datetime, timedelta

from events.models import Event, Registration, RegistrationStatus, Session, Visibility
from events.services import seats
from webapp.extensions import db
from webapp.models import User
from webapp.services import create_api_token
from webapp.types import utcnow

_numbers = itertools.count(1)

# 10:00 in Moscow: the tests of the rules freeze the clock here.
NOW = datetime(2026, 5, 14, 7, 0, tzinfo=UTC)


def make_event(
    title: str = "Форум НКО",
    *,
    starts_at: datetime | None = None,
    sessions: int = 1,
    hours_apart: int = 3,
    staff: tuple[User, ...] = (),
) -> Event:
    """A published outreach event whose first session started 30 minutes before
    `starts_at` (default: now); later sessions follow `hours_apart` hours after each other.
    Each lasts two hours."""
    first = (starts_at or utcnow()) - timedelta(minutes=30)
    event = Event(
        kind="event",
        title=title,
        description="",
        visibility=Visibility.PUBLISHED,
        timezone="Europe/Moscow",
        search_text=title.lower(),
    )
    for number in range(sessions):
        begins = first + timedelta(hours=hours_apart * number)
        event.sessions.append(
            Session(starts_at=begins, ends_at=begins + timedelta(hours=2), room=f"Зал {number + 1}")
        )
    event.staff.extend(staff)
    db.session.add(event)
    db.session.commit()
    return event


def register(
    event: Event, name: str, status: RegistrationStatus | None = None, email: str | None = None
) -> Registration:
    """A registration through the seat-taking service; then forced into `status`."""
    email = email or f"guest{next(_numbers)}@example.org"
    registration = seats.register(event.id, full_name=name, email=email).registration
    if status is not None:
        registration.status = status
        db.session.commit()
    return registration


def token_for(user: User) -> str:
    return create_api_token(user, "Сканер у входа")[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
