"""Demo outreach events for `tropa demo-data` (called by courses.demo.load_demo_data):
forums, seminars, a round table with approval and a webinar, past and upcoming.

Registrations go through the seat-taking service, so places, waiting lists and pending
approvals are real; the past events have people checked in at the door.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from events.models import (
    Attendance,
    AttendanceChange,
    AttendanceMethod,
    AttendanceStatus,
    Event,
    EventKind,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Session,
    Visibility,
)
from events.services import seats
from webapp.extensions import db
from webapp.models import User, search_key
from webapp.transactions import unit_of_work
from webapp.types import utcnow

TIMEZONE = "Europe/Moscow"
FORUM_VENUE = "Конгресс-центр «Садко»"
FORUM_ADDRESS = "ул. Великая, д. 16, Великий Новгород"
CENTRE_VENUE = "Центр поддержки СОНКО, конференц-зал"
CENTRE_ADDRESS = "ул. Большая Московская, д. 24, Великий Новгород"


@dataclass(frozen=True)
class DemoPerson:
    """Someone who registers: a demo user (with user_id) or a guest without an account."""

    full_name: str
    email: str
    phone: str | None = None
    user_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class QuestionSpec:
    label: str
    kind: QuestionKind
    required: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventSpec:
    title: str
    description: str
    # Sessions as (days from today, start, end, topic and room), in local time.
    sessions: tuple[tuple[int, time, time, str | None], ...]
    capacity: int | None
    users: int  # demo users who register
    guests: int  # people without an account who register
    venue: str | None = None
    address: str | None = None
    online_url: str | None = None
    requires_approval: bool = False
    asks_organisation: bool = True
    approved: int = 0  # of the pending registrations, how many an organiser approved
    checked_in_share: float = 0.0  # of the confirmed, the share that came (past events)
    questions: tuple[QuestionSpec, ...] = field(default_factory=tuple)
    with_demo_participant: bool = False


FORUM_QUESTIONS = (
    QuestionSpec(
        "Какая секция форума вам интересна?",
        QuestionKind.CHOICE,
        required=True,
        options=(
            "НКО и власть: партнёрство",
            "Социальное предпринимательство",
            "Активное долголетие",
            "Семья и дети",
        ),
    ),
    QuestionSpec(
        "Какие форматы поддержки вам нужны?",
        QuestionKind.MULTIPLE,
        options=("Консультации", "Обучение", "Гранты", "Помещение", "Продвижение"),
    ),
    QuestionSpec("Нужна ли вам парковка?", QuestionKind.YESNO, required=True),
    QuestionSpec("Сколько человек из вашей организации придёт?", QuestionKind.NUMBER),
    QuestionSpec("Ваш вопрос спикерам", QuestionKind.TEXT),
)

EVENTS = [
    EventSpec(
        title="Форум социальных проектов Новгородской области — 2026",
        description=(
            "Главная встреча года для НКО, социальных предпринимателей и инициативных групп "
            "региона.\n\n"
            "- пленарная сессия с министерством и фондами;\n"
            "- четыре тематические секции;\n"
            "- ярмарка социальных проектов и консультации экспертов центра.\n\n"
            "Участие бесплатное, нужна регистрация."
        ),
        sessions=(
            (24, time(10, 0), time(11, 30), "Пленарная сессия, большой зал"),
            (24, time(12, 0), time(13, 30), "Тематические секции, залы 1–4"),
            (24, time(14, 30), time(16, 0), "Мастер-классы и консультации"),
            (24, time(16, 30), time(17, 30), "Ярмарка проектов и итоги"),
        ),
        capacity=200,
        users=40,
        guests=20,
        venue=FORUM_VENUE,
        address=FORUM_ADDRESS,
        questions=FORUM_QUESTIONS,
        with_demo_participant=True,
    ),
    EventSpec(
        title="Форум социальных проектов Новгородской области — 2025",
        description="Прошлогодний форум: 150 участников, 4 секции, 12 проектов-победителей.",
        sessions=((-340, time(10, 0), time(17, 0), None),),
        capacity=150,
        users=30,
        guests=16,
        venue=FORUM_VENUE,
        address=FORUM_ADDRESS,
        checked_in_share=0.8,
    ),
    EventSpec(
        title="Семинар «Отчётность СОНКО в 2026 году: что изменилось»",
        description=(
            "Разбираем новые формы отчётности в Минюст и налоговую, типичные ошибки и сроки. "
            "Ведёт эксперт центра, приносите свои вопросы."
        ),
        sessions=((10, time(14, 0), time(17, 0), None),),
        capacity=40,
        users=18,
        guests=8,
        venue=CENTRE_VENUE,
        address=CENTRE_ADDRESS,
        questions=(
            QuestionSpec(
                "Какая у вашей организации система налогообложения?",
                QuestionKind.CHOICE,
                required=True,
                options=("ОСН", "УСН «доходы»", "УСН «доходы минус расходы»", "Не знаю"),
            ),
            QuestionSpec("Какие вопросы разобрать на семинаре?", QuestionKind.TEXT),
        ),
    ),
    EventSpec(
        title="Круглый стол «НКО и муниципалитеты: как договориться»",
        description=(
            "Разговор представителей НКО и администраций районов о совместных проектах. "
            "Число мест ограничено: организаторы подтверждают каждую заявку."
        ),
        sessions=((17, time(11, 0), time(13, 0), None),),
        capacity=25,
        users=9,
        guests=4,
        venue=CENTRE_VENUE,
        address=CENTRE_ADDRESS,
        requires_approval=True,
        approved=8,
        questions=(
            QuestionSpec(
                "Кого вы представляете?",
                QuestionKind.CHOICE,
                required=True,
                options=("НКО", "Администрацию", "Бизнес", "Другое"),
            ),
        ),
    ),
    EventSpec(
        title="Вебинар «Заявка на президентский грант: разбор ошибок»",
        description="Онлайн-встреча с экспертом грантового конкурса. Ссылка придёт в билете.",
        sessions=((5, time(18, 0), time(19, 30), None),),
        capacity=None,
        users=20,
        guests=12,
        online_url="https://meet.tropa.demo/grant-webinar",
        asks_organisation=False,
    ),
    EventSpec(
        title="Семинар «Волонтёры в НКО: как найти и удержать»",
        description="Практический семинар о работе с добровольцами.",
        sessions=((-40, time(15, 0), time(18, 0), None),),
        capacity=40,
        users=22,
        guests=8,
        venue=CENTRE_VENUE,
        address=CENTRE_ADDRESS,
        checked_in_share=0.75,
    ),
]


@dataclass(frozen=True)
class DemoEventsSummary:
    events: int
    registrations: int


def load_demo_events(
    rng: random.Random,
    *,
    users: list[DemoPerson],
    guests: list[DemoPerson],
    staff_ids: list[int],
    door_staff_id: int,
    today: date,
) -> DemoEventsSummary:
    """Create the demo events and register people; `users[0]` is the demo participant."""
    with unit_of_work():
        staff = list(db.session.scalars(db.select(User).where(User.id.in_(staff_ids))))
        created = [(spec, _add_event(spec, staff, today)) for spec in EVENTS]
    registrations = 0
    for spec, event in created:
        people = rng.sample(users[1:], spec.users) + rng.sample(guests, spec.guests)
        rng.shuffle(people)
        if spec.with_demo_participant:
            people.insert(0, users[0])
        registrations += _register(rng, spec, event.id, people)
        if spec.checked_in_share:
            _check_in(rng, spec, event.id, door_staff_id)
    return DemoEventsSummary(events=len(created), registrations=registrations)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


def _add_event(spec: EventSpec, staff: list[User], today: date) -> Event:
    event = Event(
        kind=EventKind.EVENT,
        title=spec.title,
        description=spec.description,
        venue=spec.venue,
        address=spec.address,
        online_url=spec.online_url,
        timezone=TIMEZONE,
        capacity=spec.capacity,
        visibility=Visibility.PUBLISHED,
        requires_approval=spec.requires_approval,
        asks_organisation=spec.asks_organisation,
        search_text=search_key(f"{spec.title} {spec.description}"),
        staff=staff,
        # Open while the demo registers people; closed below for the past events.
        registration_opens_at=_local(today - timedelta(days=14), time(9, 0)),
    )
    for days, starts, ends, topic in spec.sessions:
        day = today + timedelta(days=days)
        event.sessions.append(
            Session(starts_at=_local(day, starts), ends_at=_local(day, ends), room=topic)
        )
    for position, question in enumerate(spec.questions):
        event.questions.append(
            Question(
                position=position,
                label=question.label,
                kind=question.kind,
                required=question.required,
                options="\n".join(question.options),
            )
        )
    first_start = event.sessions[0].starts_at
    if first_start < event.registration_opens_at:  # a past event: opened a month before it
        event.registration_opens_at = first_start - timedelta(days=30)
    db.session.add(event)
    return event


def _answer(rng: random.Random, question: Question) -> str | None:
    match question.kind:
        case QuestionKind.CHOICE:
            return rng.choice(question.choices)
        case QuestionKind.MULTIPLE:
            return "\n".join(rng.sample(question.choices, rng.randint(1, 3)))
        case QuestionKind.YESNO:
            return rng.choice(["yes", "no", "no"])
        case QuestionKind.NUMBER:
            return str(rng.randint(1, 4)) if rng.random() < 0.7 else None
    if rng.random() < 0.3:
        return rng.choice(
            [
                "Как найти партнёров среди бизнеса?",
                "Какие гранты открыты для начинающих НКО?",
                "Как посчитать социальный эффект проекта?",
            ]
        )
    return None


def _register(rng: random.Random, spec: EventSpec, event_id: int, people: list[DemoPerson]):
    event = db.session.get(Event, event_id)
    questions = list(event.questions)
    policy = current_app.config["TROPA_POLICY_VERSION"]
    pending = []
    for person in people:
        answers = {q.id: text for q in questions if (text := _answer(rng, q))}
        result = seats.register(
            event_id,
            full_name=person.full_name,
            email=person.email,
            user_id=person.user_id,
            phone=person.phone,
            organisation_id=person.organisation_id if spec.asks_organisation else None,
            answers=answers,
            consent_policy_version=policy,
        )
        if result.registration.status == RegistrationStatus.PENDING:
            pending.append(result.registration.id)
    for registration_id in pending[: spec.approved]:
        seats.approve(registration_id)
    with unit_of_work():
        event = db.session.get(Event, event_id)
        if event.sessions[-1].ends_at < utcnow():
            event.registration_closes_at = event.sessions[0].starts_at - timedelta(days=1)
    return len(people)


def _check_in(rng: random.Random, spec: EventSpec, event_id: int, door_staff_id: int) -> None:
    """People at the door of a past event: most on time, a few late."""
    event = db.session.get(Event, event_id)
    session = event.sessions[0]
    confirmed = [
        registration_id
        for (registration_id,) in db.session.execute(
            db.select(Registration.id).where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
    ]
    came = rng.sample(confirmed, round(len(confirmed) * spec.checked_in_share))
    with unit_of_work():
        _mark_came(rng, session, came, door_staff_id)


def _mark_came(rng: random.Random, session: Session, came: list[int], door_staff_id: int) -> None:
    for registration_id in came:
        late = rng.random() < 0.1
        minutes = rng.randint(5, 40) if late else -rng.randint(0, 30)
        at = session.starts_at + timedelta(minutes=minutes)
        status = AttendanceStatus.LATE if late else AttendanceStatus.PRESENT
        db.session.add(
            Attendance(
                registration_id=registration_id,
                session_id=session.id,
                status=status,
                method=AttendanceMethod.DOOR,
                marked_by_id=door_staff_id,
                marked_at=at,
            )
        )
        db.session.add(
            AttendanceChange(
                registration_id=registration_id,
                session_id=session.id,
                new_status=status,
                method=AttendanceMethod.DOOR,
                changed_by_id=door_staff_id,
                changed_at=at,
            )
        )
