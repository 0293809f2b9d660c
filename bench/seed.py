"""Benchmark data: many people and courses, inserted in bulk (call inside an app context)."""

import random
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from courses.models import Course, Direction, Format, Programme
from events.models import Event, Registration, RegistrationStatus, Session, Visibility
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.services import random_secret, search_key
from webapp.types import utcnow

PASSWORD = "bench-password-42"
# A deliberately cheap hash: signing hundreds of people in is set-up, not what is measured.
CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

TOPICS = (
    "Аудит социального проекта",
    "Маркетинг для НКО",
    "Фандрайзинг и гранты",
    "Управление командой",
    "Проектирование социальной услуги",
    "Социальное предпринимательство",
    "Финансы и отчётность",
    "Работа с волонтёрами",
    "Продвижение в социальных сетях",
    "Юридические основы НКО",
)


def add_people(count: int) -> list[str]:
    """Participants who can sign in with PASSWORD; returns their e-mails."""
    emails = [f"bench{number:05d}@example.org" for number in range(count)]
    for number, email in enumerate(emails):
        person = User(
            email=email,
            full_name=f"Участник {number:05d}",
            password_hash=CHEAP_HASH,
            consent_at=utcnow(),
            consent_policy_version="2026-01",
        )
        person.role_rows.append(UserRole(role=Role.PARTICIPANT))
        db.session.add(person)
    db.session.commit()
    return emails


def add_courses(count: int, *, capacity: int | None = None, seed: int = 2026) -> list[int]:
    """Published courses of every level, direction and format; most have 1–4 sessions over
    the coming year, some have no dates yet. Returns their ids."""
    chance = random.Random(seed)
    programmes = [Programme(title=f"Программа {year}") for year in (2025, 2026, 2027)]
    directions, formats = list(Direction), list(Format)
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    courses = []
    for number in range(count):
        title = f"{TOPICS[number % len(TOPICS)]} — поток {number + 1}"
        description = f"Практический курс: {TOPICS[(number * 7) % len(TOPICS)].lower()}."
        course = Course(
            title=title,
            description=description,
            search_text=search_key(f"{title} {description}"),
            programme=programmes[number % len(programmes)],
            level=1 + number % 3,
            direction=directions[number % len(directions)],
            format=formats[number % len(formats)],
            capacity=capacity or chance.randint(15, 40),
            visibility=Visibility.PUBLISHED,
            timezone="Europe/Moscow",
            academic_hours=8,
        )
        first = start + timedelta(days=chance.randint(0, 365), hours=chance.randint(0, 8))
        for week in range(chance.choice((0, 1, 2, 3, 4))):
            begins = first + timedelta(weeks=week)
            course.sessions.append(
                Session(starts_at=begins, ends_at=begins + timedelta(hours=2), room="Зал 1")
            )
        courses.append(course)
    db.session.add_all(courses)
    db.session.flush()
    ids = [course.id for course in courses]
    db.session.commit()
    return ids


def add_enrolments(*, seed: int = 2026) -> int:
    """Enrol random people in every third course, past its capacity for some (a waiting
    list). Written directly, in arrival order, as the seat-taking service would."""
    chance = random.Random(seed)
    people = db.session.execute(select(User.id, User.full_name, User.email)).all()
    courses = db.session.execute(select(Course.id, Course.capacity).order_by(Course.id)).all()
    added = 0
    for course in courses[::3]:
        enrolled = chance.sample(people, chance.randint(5, min(len(people), course.capacity + 10)))
        for queue_number, person in enumerate(enrolled, start=1):
            full = queue_number > course.capacity
            db.session.add(
                Registration(
                    event_id=course.id,
                    user_id=person.id,
                    full_name=person.full_name,
                    email=person.email,
                    status=RegistrationStatus.WAITLISTED if full else RegistrationStatus.CONFIRMED,
                    queue_number=queue_number,
                    ticket_secret=random_secret(),
                )
            )
        added += len(enrolled)
    db.session.commit()
    return added


def add_events(count: int, *, seed: int = 2026) -> int:
    """Published outreach events of one session each, from three months ago to a year
    ahead, a third online, with up to 40 guests registered; returns the registrations."""
    chance = random.Random(seed)
    start = utcnow().replace(minute=0, second=0, microsecond=0)
    events = []
    for number in range(count):
        title = f"Форум «{TOPICS[number % len(TOPICS)]}» — встреча {number + 1}"
        online = number % 3 == 0
        event = Event(
            kind="event",
            title=title,
            description="Встреча НКО региона.",
            search_text=search_key(title),
            venue=None if online else "Конгресс-центр",
            online_url="https://meet.example.org/forum" if online else None,
            capacity=chance.randint(30, 120),
            visibility=Visibility.PUBLISHED,
            timezone="Europe/Moscow",
        )
        begins = start + timedelta(days=chance.randint(-90, 365), hours=chance.randint(0, 8))
        event.sessions.append(Session(starts_at=begins, ends_at=begins + timedelta(hours=4)))
        events.append(event)
    db.session.add_all(events)
    db.session.flush()
    added = 0
    for event in events:
        for number in range(chance.randint(0, 40)):
            db.session.add(
                Registration(
                    event_id=event.id,
                    full_name=f"Гость {number:03d}",
                    email=f"guest{event.id}-{number}@example.org",
                    status=RegistrationStatus.CONFIRMED,
                    queue_number=number + 1,
                    ticket_secret=random_secret(),
                )
            )
            added += 1
    db.session.commit()
    return added
