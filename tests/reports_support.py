"""A varied world for the reports' tests: people in several municipalities, programmes and
periods, guests (one writing their e-mail in two cases), individuals and self-employed
people, revoked certificates, cancelled registrations, past and future sessions, joint and
single projects at every level; and the dashboard's figures recomputed from its rows in
plain Python, independently of the aggregate queries under test."""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from certificates.models import Certificate, TemplateKind
from courses.models import Course, CourseCompletion, Direction, Programme
from events.models import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Event,
    Registration,
    RegistrationStatus,
    Session,
)
from projects.models import LevelDecision, Project, ProjectMember
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, User
from webapp.services import random_secret

ZONE = ZoneInfo("Europe/Moscow")
MUNICIPALITIES = ["Великий Новгород", "Боровичский район", "Валдайский район"]
WORLD_START = datetime(2026, 1, 1, tzinfo=UTC)
WORLD_DAYS = 360  # up to late December 2026: some sessions are still to come


def moment(chance: random.Random) -> datetime:
    return WORLD_START + timedelta(minutes=chance.randrange(WORLD_DAYS * 24 * 60))


def build_world(people: int = 24, seed: int = 8) -> dict:
    """Build the world; `people` scales every kind of row. Returns the programmes' ids."""
    chance = random.Random(seed)
    programmes = [Programme(title="Акселератор"), Programme(title="Школа НКО")]
    db.session.add_all(programmes)
    organisations = [
        Organisation(
            name=f"Организация {number}",
            type=list(OrganisationType)[number % len(OrganisationType)],
            municipality=chance.choice([*MUNICIPALITIES, None]),
        )
        for number in range(max(5, people // 3))
    ]
    db.session.add_all(organisations)
    users = []
    for number in range(people):
        user = User(
            email=f"person{seed}-{number}@example.org",
            full_name=f"Участник {number:03d}",
            password_hash="x",
            municipality=chance.choice([*MUNICIPALITIES, None, None]),
            organisation=chance.choice([*organisations, None]),
        )
        users.append(user)
    db.session.add_all(users)
    db.session.flush()

    events = []
    for number in range(max(4, people // 4)):
        is_course = number % 2 == 0
        if is_course:
            event = Course(
                programme=programmes[number % 4 // 2],
                level=1,
                direction=Direction.OTHER,
                title=f"Курс {number}",
            )
        else:
            event = Event(kind="event", title=f"Форум {number}")
        for _ in range(chance.randint(1, 3)):
            begins = moment(chance)
            cancelled = begins if chance.random() < 0.1 else None
            event.sessions.append(
                Session(
                    starts_at=begins, ends_at=begins + timedelta(hours=2), cancelled_at=cancelled
                )
            )
        events.append(event)
    db.session.add_all(events)
    db.session.flush()

    registrations = []
    for event in events:
        attendees = chance.sample(users, k=min(len(users), chance.randint(3, 8)))
        guests = [
            (f"Гость {n}", f"Guest{seed}-{n}@Example.org") for n in range(chance.randint(0, 3))
        ]
        for user in attendees:
            registrations.append((event, user, user.full_name, user.email, None))
        for name, email in guests:
            # the same guest writes the e-mail in another case at another event
            shown_email = email if chance.random() < 0.5 else email.lower()
            registrations.append((event, None, name, shown_email, chance.choice(organisations)))
    rows = []
    for queue, (event, user, name, email, organisation) in enumerate(registrations, start=1):
        status = chance.choice(
            [RegistrationStatus.CONFIRMED] * 5
            + [RegistrationStatus.CANCELLED, RegistrationStatus.WAITLISTED]
        )
        registration = Registration(
            event_id=event.id,
            user_id=user.id if user else None,
            full_name=name,
            email=email,
            organisation_id=organisation.id if organisation else None,
            status=status,
            queue_number=queue,
            ticket_secret=random_secret(),
            created_at=moment(chance),
        )
        rows.append((event, registration))
    db.session.add_all(registration for _, registration in rows)
    db.session.flush()

    for event, registration in rows:
        for session in event.sessions:
            if chance.random() < 0.7:
                db.session.add(
                    Attendance(
                        registration_id=registration.id,
                        session_id=session.id,
                        status=chance.choice(list(AttendanceStatus)),
                        method=AttendanceMethod.MANUAL,
                    )
                )
        if event.kind == "course" and chance.random() < 0.6:
            completed = moment(chance) if chance.random() < 0.85 else None
            db.session.add(
                CourseCompletion(registration_id=registration.id, completed_at=completed)
            )
        if chance.random() < 0.3:
            issued = moment(chance)
            db.session.add(
                Certificate(
                    registration_id=registration.id,
                    event_id=event.id,
                    user_id=registration.user_id,
                    kind=TemplateKind.COURSE if event.kind == "course" else TemplateKind.EVENT,
                    year=issued.year,
                    number=registration.id,
                    code=random_secret(),
                    snapshot={},
                    issued_at=issued,
                    revoked_at=issued + timedelta(days=3) if chance.random() < 0.25 else None,
                )
            )

    for number in range(max(4, people // 4)):
        level = chance.choice([1, 2, 2, 3])
        lead = chance.choice([*organisations, None])
        project = Project(
            programme_id=programmes[number % 2].id,
            title=f"Проект {number:03d}",
            direction=Direction.OTHER,
            municipality=chance.choice([*MUNICIPALITIES, None]),
            organisation_id=lead.id if lead else None,
            is_joint=chance.random() < 0.6,
            level=level,
            started_on=date(2026, 1, 1),
        )
        project.partners = chance.sample(organisations, k=chance.randint(0, 2))
        for user in chance.sample(users, k=chance.randint(1, 3)):
            project.members.append(ProjectMember(user_id=user.id))
        # the decisions that brought it to its level; now and then registered at level 2
        first_level = 2 if level >= 2 and chance.random() < 0.2 else 1
        decided = moment(chance)
        for to_level in range(first_level + 1, level + 1):
            project.level_decisions.append(
                LevelDecision(from_level=to_level - 1, to_level=to_level, decided_at=decided)
            )
            decided += timedelta(days=chance.randint(1, 60))
        db.session.add(project)
    db.session.commit()
    return {"programme_ids": [p.id for p in programmes]}


# --- the figures, recomputed from the rows in plain Python -------------------------------


@dataclass
class Period:
    date_from: date | None = None
    date_to: date | None = None

    def __contains__(self, moment_: datetime | None) -> bool:
        if moment_ is None:
            return False
        if self.date_from and moment_ < datetime.combine(self.date_from, time(), ZONE):
            return False
        end = self.date_to and datetime.combine(self.date_to + timedelta(days=1), time(), ZONE)
        return not (end and moment_ >= end)


def person_of(registration: Registration) -> tuple[str, Organisation | None, str | None]:
    """(key, organisation, municipality) of the person behind a registration."""
    user = registration.user
    organisation = (user.organisation if user else None) or registration.organisation
    key = f"u{user.id}" if user else "g" + registration.email.lower()
    municipality = (user.municipality if user else None) or (
        organisation.municipality if organisation else None
    )
    return key, organisation, municipality


def member_person(user: User) -> tuple[str, Organisation | None, str | None]:
    organisation = user.organisation
    municipality = user.municipality or (organisation.municipality if organisation else None)
    return f"u{user.id}", organisation, municipality


def expected_figures(
    period: Period, programme_id: int | None, municipality: str | None, now: datetime
) -> dict:
    """Every figure of the dashboard, from the rows, by the dashboard's definitions."""

    def in_place(place):
        return municipality is None or place == municipality

    def programme_of(event):
        return event.programme_id if isinstance(event, Course) else None

    def of_programme(event):
        return programme_id is None or programme_of(event) == programme_id

    registrations = db.session.query(Registration).all()
    completions = {c.registration_id: c for c in db.session.query(CourseCompletion).all()}
    attendance = db.session.query(Attendance).all()
    certificates = db.session.query(Certificate).all()
    projects = db.session.query(Project).all()

    trained, trained_orgs, self_employed = set(), set(), set()
    for registration in registrations:
        completion = completions.get(registration.id)
        if completion is None or completion.completed_at not in period:
            continue
        key, organisation, place = person_of(registration)
        if not of_programme(registration.event) or not in_place(place):
            continue
        trained.add(key)
        if organisation and organisation.type != OrganisationType.INDIVIDUAL:
            trained_orgs.add(organisation.id)
        if organisation and organisation.type == OrganisationType.SELF_EMPLOYED:
            self_employed.add(key)

    supported = [
        project
        for project in projects
        if any(d.decided_at in period for d in project.level_decisions)
        and (programme_id is None or project.programme_id == programme_id)
    ]
    organisations = set(trained_orgs)
    for project in supported:
        if not in_place(project.municipality):
            continue
        for organisation in [project.organisation, *project.partners]:
            if organisation and organisation.type != OrganisationType.INDIVIDUAL:
                organisations.add(organisation.id)
    for project in supported:
        for member in project.members:
            key, organisation, place = member_person(member.user)
            if in_place(place) and organisation and organisation.type == "self_employed":
                self_employed.add(key)

    joint = 0
    for project in projects:
        if not (project.is_joint and project.level >= 2):
            continue
        if programme_id is not None and project.programme_id != programme_id:
            continue
        if not in_place(project.municipality):
            continue
        brought = [d for d in project.level_decisions if d.from_level < 2 <= d.to_level]
        no_period = period.date_from is None and period.date_to is None
        if no_period or any(d.decided_at in period for d in brought):
            joint += 1

    reached = set()
    for mark in attendance:
        session, registration = mark.session, mark.registration
        if session.event.kind != "event" or mark.status not in ("present", "late"):
            continue
        key, _organisation, place = person_of(registration)
        if session.starts_at in period and in_place(place):
            reached.add(key)

    issued = 0
    for certificate in certificates:
        _key, _organisation, place = person_of(certificate.registration)
        if (
            certificate.revoked_at is None
            and certificate.issued_at in period
            and of_programme(certificate.event)
            and in_place(place)
        ):
            issued += 1

    expected_places = attended_places = 0
    expected_people = set()
    marks = {(m.registration_id, m.session_id): m.status for m in attendance}
    for registration in registrations:
        event = registration.event
        key, _organisation, place = person_of(registration)
        if (
            event.kind != "course"
            or registration.status != "confirmed"
            or not of_programme(event)
            or not in_place(place)
        ):
            continue
        for session in event.sessions:
            if session.cancelled_at or session.starts_at >= now or session.starts_at not in period:
                continue
            expected_places += 1
            expected_people.add(key)
            attended_places += marks.get((registration.id, session.id)) in ("present", "late")

    months: dict[str, list[int]] = {}
    for registration in registrations:
        _key, _organisation, place = person_of(registration)
        if (
            registration.status == "cancelled"
            or registration.created_at not in period
            or not of_programme(registration.event)
            or not in_place(place)
        ):
            continue
        month = registration.created_at.astimezone(ZONE).strftime("%Y-%m")
        months.setdefault(month, [0, 0])[registration.event.kind != "course"] += 1

    return {
        "trained": len(trained),
        "organisations": len(organisations),
        "self_employed": len(self_employed),
        "joint_prototypes": joint,
        "reached": len(reached),
        "certificates": issued,
        "attendance": len(expected_people),
        "expected_places": expected_places,
        "attended_places": attended_places,
        "months": months,
    }
