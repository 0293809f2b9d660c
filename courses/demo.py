"""`tropa demo-data`: a realistic training centre of the Novgorod region, for a first look.

People, organisations and INNs come from a seeded random generator, so they are the same on
every machine; dates are counted from today, so the courses are always ahead. Enrolments go
through the seat-taking service, so the places left and the waiting lists are real. A second
run changes nothing: the demo admin's account marks the data as loaded. The outreach events
(forums, seminars, a webinar) come from events/demo.py, with the same people.
"""

import enum
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from courses.demo_learning import add_demo_learning
from courses.models import Course, Direction, Format, Level, Programme
from courses.services import catalogue
from events.demo import DemoEventsSummary, DemoPerson, load_demo_events
from events.models import (
    AttendanceMethod,
    AttendanceStatus,
    Registration,
    RegistrationStatus,
    Session,
    Visibility,
)
from events.services import checkin, seats
from webapp import signals
from webapp.extensions import db
from webapp.models import MUNICIPALITIES, Organisation, OrganisationType, Role, User, UserRole
from webapp.services import find_user, hash_password, latin, search_key, with_check_digits
from webapp.transactions import unit_of_work
from webapp.types import utcnow

DEMO_PASSWORD = "tropa-demo"  # noqa: S105  printed for everyone: it guards only demo data
DEMO_TIMEZONE = "Europe/Moscow"  # the Novgorod region lives on Moscow time
SEED = 53  # the region's code: any fixed number keeps the data the same on every run

ADMIN = "admin@tropa.demo"
ORGANISER = "organiser@tropa.demo"
TRAINER_ORLOVA = "trainer@tropa.demo"
TRAINER_SOKOLOV = "d.sokolov@tropa.demo"
TRAINER_LEBEDEVA = "n.lebedeva@tropa.demo"
TRAINER_GRIGORIEV = "a.grigoriev@tropa.demo"
PARTICIPANT = "participant@tropa.demo"

# One login per role, printed by the command every time it runs.
DEMO_LOGINS = [
    (Role.ADMIN, ADMIN),
    (Role.ORGANISER, ORGANISER),
    (Role.TRAINER, TRAINER_ORLOVA),
    (Role.PARTICIPANT, PARTICIPANT),
]

PARTICIPANT_COUNT = 60


# --- staff -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    email: str
    full_name: str
    role: Role
    phone: str


STAFF = [
    StaffMember(ADMIN, "Никитин Павел Олегович", Role.ADMIN, "+7 (8162) 50-10-01"),
    StaffMember(ORGANISER, "Белова Ирина Сергеевна", Role.ORGANISER, "+7 (8162) 50-10-02"),
    StaffMember(TRAINER_ORLOVA, "Орлова Екатерина Андреевна", Role.TRAINER, "+7 (921) 200-14-37"),
    StaffMember(TRAINER_SOKOLOV, "Соколов Дмитрий Игоревич", Role.TRAINER, "+7 (911) 604-22-18"),
    StaffMember(
        TRAINER_LEBEDEVA, "Лебедева Наталья Викторовна", Role.TRAINER, "+7 (952) 481-09-66"
    ),
    StaffMember(TRAINER_GRIGORIEV, "Григорьев Артём Сергеевич", Role.TRAINER, "+7 (981) 735-40-12"),
]

# The participant login, with a complete profile in the first organisation below.
DEMO_PARTICIPANT_NAME = "Смирнова Анна Викторовна"
DEMO_PARTICIPANT_PHONE = "+7 (921) 730-25-48"


# --- participants' names -----------------------------------------------------------------

MALE_NAMES = [
    "Александр", "Алексей", "Андрей", "Артём", "Виктор", "Владимир", "Григорий", "Дмитрий",
    "Евгений", "Иван", "Игорь", "Илья", "Константин", "Максим", "Михаил", "Николай", "Олег",
    "Павел", "Роман", "Сергей", "Степан", "Юрий",
]  # fmt: skip
FEMALE_NAMES = [
    "Алёна", "Анастасия", "Анна", "Валентина", "Вера", "Галина", "Дарья", "Екатерина",
    "Елена", "Ирина", "Ксения", "Любовь", "Людмила", "Марина", "Мария", "Надежда",
    "Наталья", "Ольга", "Полина", "Светлана", "Татьяна", "Юлия",
]  # fmt: skip
# A father's name in the form that takes -ич for a son and -на for a daughter.
PATRONYMIC_STEMS = [
    "Александров", "Алексеев", "Анатольев", "Андреев", "Борисов", "Валерьев", "Васильев",
    "Викторов", "Владимиров", "Геннадьев", "Дмитриев", "Евгеньев", "Иванов", "Игорев",
    "Михайлов", "Николаев", "Олегов", "Павлов", "Петров", "Сергеев", "Степанов", "Юрьев",
]  # fmt: skip
# Male forms; _feminine() makes the female ones, and leaves -ко, -их, -ук unchanged. None
# is a staff member's, so no participant is named like one.
SURNAMES = [
    "Иванов", "Кузнецов", "Попов", "Васильев", "Петров", "Михайлов", "Новиков", "Фёдоров",
    "Морозов", "Волков", "Алексеев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов",
    "Николаев", "Андреев", "Макаров", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев",
    "Романов", "Воробьёв", "Кузьмин", "Фролов", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Богданов", "Осипов", "Матвеев", "Титов", "Миронов", "Крылов", "Куликов", "Карпов",
    "Власов", "Мельников", "Денисов", "Тихонов", "Калинин", "Голубев", "Воронин", "Шишкин",
    "Вишневский", "Островский", "Белицкий", "Шевченко", "Бондаренко", "Черных", "Седых",
    "Ковальчук",
]  # fmt: skip

MOBILE_CODES = ["911", "921", "950", "952", "960", "963", "981", "996"]


def _feminine(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ий"):
        return surname[:-2] + "ая"
    return surname


@dataclass(frozen=True)
class Person:
    full_name: str  # surname, name, patronymic: the order of Russian lists and reports
    email: str


def _random_people(rng: random.Random, count: int) -> list[Person]:
    """People with different surnames, so names and e-mail addresses never repeat."""
    people = []
    for surname in rng.sample(SURNAMES, count):
        female = rng.random() < 0.65  # most people in the region's NGOs are women
        first_name = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        stem = rng.choice(PATRONYMIC_STEMS)
        if female:
            surname, patronymic = _feminine(surname), stem + "на"
        else:
            patronymic = stem + "ич"
        domain = rng.choice(["example.org", "example.com", "example.net"])
        people.append(
            Person(
                full_name=f"{surname} {first_name} {patronymic}",
                email=f"{latin(first_name[0])}.{latin(surname)}@{domain}".lower(),
            )
        )
    return people


def _random_phone(rng: random.Random) -> str:
    code = rng.choice(MOBILE_CODES)
    return f"+7 ({code}) {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"


def _random_municipality(rng: random.Random) -> str:
    # Four people in ten come from the regional capital, the others from the districts.
    return MUNICIPALITIES[0] if rng.random() < 0.4 else rng.choice(MUNICIPALITIES[1:])


def _new_inn(rng: random.Random, used: set[str], *, person: bool) -> str:
    """A valid INN with the region's code 53: 12 digits for a person, 10 for an organisation."""
    while True:
        tax_office = f"{rng.randint(1, 22):02d}"
        serial = "".join(str(rng.randint(0, 9)) for _ in range(6 if person else 5))
        inn = with_check_digits(f"53{tax_office}{serial}")
        if inn not in used:
            used.add(inn)
            return inn


# --- organisations -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationSpec:
    name: str
    type: OrganisationType
    municipality: str


SONKO, SMSP = OrganisationType.SONKO, OrganisationType.SMSP
GROUP = OrganisationType.INITIATIVE_GROUP
NOVGOROD = "Великий Новгород"

# The demo participant works in the first one. People with their own organisation
# (self-employed, sole traders, individuals) are made from the random names instead.
ORGANISATIONS = [
    OrganisationSpec('АНО "Центр семейной поддержки «Вместе»"', SONKO, NOVGOROD),
    OrganisationSpec('НРОО "Многодетные семьи Приильменья"', SONKO, NOVGOROD),
    OrganisationSpec('АНО "Ресурсный центр «Серебряные нити»"', SONKO, NOVGOROD),
    OrganisationSpec('Благотворительный фонд "Открытые сердца"', SONKO, NOVGOROD),
    OrganisationSpec('АНО "Инклюзивный театр «Открытая сцена»"', SONKO, NOVGOROD),
    OrganisationSpec('АНО "Центр социальной помощи «Забота»"', SONKO, "Боровичский район"),
    OrganisationSpec(
        'Местная общественная организация "Совет ветеранов Валдайского района"',
        SONKO,
        "Валдайский район",
    ),
    OrganisationSpec('АНО ДПО "Школа социального лидерства"', SONKO, NOVGOROD),
    OrganisationSpec('АНО "Клуб активного долголетия «Бодрость»"', SONKO, "Старорусский район"),
    OrganisationSpec(
        'Общественная организация "Общество инвалидов Окуловского района"',
        SONKO,
        "Окуловский район",
    ),
    OrganisationSpec('АНО "Центр народных ремёсел «Берестяная грамота»"', SONKO, NOVGOROD),
    OrganisationSpec('АНО "Добровольческий центр «Новгородские волонтёры»"', SONKO, NOVGOROD),
    OrganisationSpec('Благотворительный фонд "Рука помощи"', SONKO, "Чудовский район"),
    OrganisationSpec('АНО "Туристско-краеведческий центр «Ильмень»"', SONKO, "Шимский район"),
    OrganisationSpec('АНО "Центр реабилитации «Шаг навстречу»"', SONKO, "Новгородский район"),
    OrganisationSpec('АНО "Детский экологический клуб «Росток»"', SONKO, "Пестовский округ"),
    OrganisationSpec('Ассоциация "Родители особых детей Новгородчины"', SONKO, NOVGOROD),
    OrganisationSpec('ООО "Семейный центр «Непоседы»"', SMSP, NOVGOROD),
    OrganisationSpec('ООО "Гостевой дом «Рюриково городище»"', SMSP, "Новгородский район"),
    OrganisationSpec('ООО "Пансионат для пожилых «Тихая гавань»"', SMSP, "Новгородский район"),
    OrganisationSpec('ООО "Мастерская «Новгородская керамика»"', SMSP, NOVGOROD),
    OrganisationSpec('ООО "Центр сиделок «Опора»"', SMSP, "Боровичский район"),
    OrganisationSpec('ООО "Эко-ферма «Валдайские луга»"', SMSP, "Валдайский район"),
    OrganisationSpec('Инициативная группа "Доступный двор на Западной"', GROUP, NOVGOROD),
    OrganisationSpec('Инициативная группа "Соседский центр в Сольцах"', GROUP, "Солецкий округ"),
    OrganisationSpec('Клуб скандинавской ходьбы "Волхов"', GROUP, NOVGOROD),
    OrganisationSpec('Родительский клуб "Мамы Парфино"', GROUP, "Парфинский район"),
    OrganisationSpec('Инициативная группа "Сохраним усадьбу в Марёво"', GROUP, "Марёвский округ"),
]

# How many participants are their own organisation, named after them, by type.
ONE_PERSON_ORGANISATIONS = {
    OrganisationType.SELF_EMPLOYED: 6,
    OrganisationType.SMSP: 2,  # sole traders: «ИП Фамилия Имя Отчество», a person's INN
    OrganisationType.INDIVIDUAL: 5,
}


# --- programmes and courses --------------------------------------------------------------

ACCELERATOR = "Акселератор социальных проектов 2026"
NGO_SCHOOL = "Школа НКО"
SILVER_AGE = "Серебряный возраст: практики активного долголетия"

PROGRAMMES = {
    ACCELERATOR: (
        "Годовая программа поддержки социальных проектов Новгородской области: от аудита "
        "идеи до выхода на рынок. Три уровня поддержки: **вход**, **проектирование** и "
        "**продвижение**."
    ),
    NGO_SCHOOL: (
        "Базовые знания для сотрудников и руководителей некоммерческих организаций: "
        "документы, гранты, команда и финансы."
    ),
    SILVER_AGE: (
        "Для организаций и волонтёров, которые работают с людьми старшего возраста: клубы, "
        "цифровая грамотность, уход и сопровождение."
    ),
}

CENTRE = (
    "Центр поддержки социальных инициатив, ул. Большая Санкт-Петербургская, д. 39, Великий Новгород"  # noqa: E501
)
COWORKING = "Коворкинг «Детинец», ул. Людогоща, д. 10, Великий Новгород"
DIALOG = "Культурный центр «Диалог», ул. Великая, д. 8, Великий Новгород"
LONGEVITY_HOUSE = "Дом активного долголетия, ул. Германа, д. 29а, Великий Новгород"

MORNING = (time(10, 0), time(13, 0))
AFTERNOON = (time(14, 0), time(17, 0))
EVENING = (time(18, 0), time(20, 0))


class Fill(enum.Enum):
    """What a newcomer should find on a course: each state the catalogue can show."""

    DRAFT = "draft"  # not published, no enrolments
    OPENS_LATER = "opens_later"  # published, registration opens in a few weeks
    PLACES_LEFT = "places_left"  # a third to two thirds of the places taken
    NEARLY_FULL = "nearly_full"  # one or two places left
    WAITLIST = "waitlist"  # full, with a waiting list


@dataclass(frozen=True)
class CourseSpec:
    title: str
    programme: str
    level: Level
    direction: Direction
    format: Format
    academic_hours: int
    capacity: int
    trainers: tuple[str, ...]
    description: str
    # The first session is on `weekday` (0 is Monday) at least `starts_in_days` from today,
    # the next ones every `every_days`, all in the `slot` of local time.
    starts_in_days: int
    weekday: int
    sessions: int
    slot: tuple[time, time]
    every_days: int = 7
    venue: str | None = None
    room: str | None = None
    online_url: str | None = None
    fill: Fill = Fill.PLACES_LEFT
    with_demo_participant: bool = False


COURSES = [
    # --- level 1: entry ---
    CourseSpec(
        title="Аудит социального проекта: с чего начать",
        programme=ACCELERATOR,
        level=Level.ENTRY,
        direction=Direction.OTHER,
        format=Format.OFFLINE,
        academic_hours=12,
        capacity=24,
        trainers=(TRAINER_ORLOVA,),
        description="""\
Три вечерние встречи, после которых вы посмотрите на свой проект глазами эксперта и
грантодателя.

### Что разберём

- кому и какую проблему решает проект и как это доказать;
- ресурсы команды: что уже есть и чего не хватает;
- риски и «слабые места», которые видит экспертный совет;
- с каким уровнем поддержки центра двигаться дальше.

### Результат

Заполненная карта аудита проекта и консультация тренера по индивидуальной траектории.
""",
        starts_in_days=-10,  # running: its past sessions carry attendance
        weekday=1,
        sessions=3,
        slot=EVENING,
        venue=CENTRE,
        room="Большой зал",
        with_demo_participant=True,
    ),
    CourseSpec(
        title="Индивидуальная траектория: диагностика и план развития организации",
        programme=NGO_SCHOOL,
        level=Level.ENTRY,
        direction=Direction.ADDITIONAL_EDUCATION,
        format=Format.MIXED,
        academic_hours=8,
        capacity=12,
        trainers=(TRAINER_ORLOVA, TRAINER_LEBEDEVA),
        description="""\
Для руководителей СОНКО и социальных предпринимателей, которые хотят выстроить план
развития на год.

### Как проходит

1. Диагностика организации по чек-листу центра (очно).
2. Разбор результатов в малых группах и выбор приоритетов.
3. Индивидуальная консультация онлайн между встречами.

Группа небольшая — не больше 12 человек, чтобы каждому хватило внимания тренеров.
""",
        starts_in_days=10,
        weekday=3,
        sessions=2,
        every_days=14,
        slot=MORNING,
        venue=CENTRE,
        room="Переговорная «Волхов»",
        online_url="https://meet.tropa.demo/trajectory",
        fill=Fill.NEARLY_FULL,
    ),
    CourseSpec(
        title="Школа родительских инициатив: первые шаги",
        programme=ACCELERATOR,
        level=Level.ENTRY,
        direction=Direction.PARENTS_CHILDREN,
        format=Format.OFFLINE,
        academic_hours=12,
        capacity=20,
        trainers=(TRAINER_GRIGORIEV,),
        description="""\
Для родителей и инициативных групп, которые хотят сделать что-то полезное для детей своего
района: кружок, семейный клуб, праздник двора.

### Программа

- от идеи к первому событию: как найти единомышленников;
- нужно ли регистрировать НКО и какие есть другие пути;
- безопасность мероприятий с детьми;
- первые партнёры: школа, библиотека, дом культуры.
""",
        starts_in_days=12,
        weekday=2,
        sessions=4,
        slot=EVENING,
        venue=COWORKING,
        room="Зал «Ильмень»",
    ),
    CourseSpec(
        title="Цифровая грамотность 60+: как вести занятия для старшего поколения",
        programme=SILVER_AGE,
        level=Level.ENTRY,
        direction=Direction.OLDER_PEOPLE,
        format=Format.OFFLINE,
        academic_hours=16,
        capacity=15,
        trainers=(TRAINER_LEBEDEVA,),
        description="""\
Курс для волонтёров, сотрудников центров социального обслуживания и НКО, которые учат людей
старшего возраста пользоваться смартфоном, Госуслугами и онлайн-записью к врачу.

### Вы научитесь

- объяснять просто и без спешки;
- строить занятие из коротких практических шагов;
- защищать слушателей от телефонного и интернет-мошенничества.

> Занятия проходят в компьютерном классе, ноутбук приносить не нужно.
""",
        starts_in_days=6,
        weekday=0,
        sessions=4,
        slot=MORNING,
        venue=LONGEVITY_HOUSE,
        room="Компьютерный класс",
        fill=Fill.WAITLIST,
        with_demo_participant=True,
    ),
    CourseSpec(
        title="Основы работы поставщика социальных услуг",
        programme=NGO_SCHOOL,
        level=Level.ENTRY,
        direction=Direction.MEDICAL_SOCIAL,
        format=Format.ONLINE,
        academic_hours=12,
        capacity=40,
        trainers=(TRAINER_LEBEDEVA,),
        description="""\
Онлайн-курс о том, как устроена система социального обслуживания в Новгородской области и
где в ней место НКО.

### Темы

- 442-ФЗ простыми словами: формы обслуживания и стандарты услуг;
- индивидуальная программа получателя социальных услуг;
- документы, которые понадобятся с первого дня;
- опыт новгородских организаций, которые уже работают в реестре.
""",
        starts_in_days=8,
        weekday=1,
        sessions=3,
        slot=AFTERNOON,
        online_url="https://meet.tropa.demo/provider-basics",
    ),
    # --- level 2: design and prototyping ---
    CourseSpec(
        title="Проектирование социальной услуги: от идеи до прототипа",
        programme=ACCELERATOR,
        level=Level.DESIGN,
        direction=Direction.MEDICAL_SOCIAL,
        format=Format.OFFLINE,
        academic_hours=36,
        capacity=20,
        trainers=(TRAINER_ORLOVA, TRAINER_LEBEDEVA),
        description="""\
Шесть практических встреч: команды проходят путь от проблемы получателя до прототипа услуги,
который можно проверить уже в этом сезоне.

### Программа

1. Исследование: интервью с получателями услуги.
2. Карта пути клиента и точки боли.
3. Поиск решений и выбор гипотезы.
4. Прототип: сценарий, ресурсы, смета.
5. Тестирование на реальных людях.
6. Защита прототипа перед экспертами.

Приходите командой из 2–3 человек.
""",
        starts_in_days=14,
        weekday=4,
        sessions=6,
        slot=AFTERNOON,
        venue=COWORKING,
        room="Зал «Ильмень»",
        fill=Fill.NEARLY_FULL,
    ),
    CourseSpec(
        title="Грантовая заявка: логика проекта, бюджет и показатели",
        programme=NGO_SCHOOL,
        level=Level.DESIGN,
        direction=Direction.ADDITIONAL_EDUCATION,
        format=Format.ONLINE,
        academic_hours=20,
        capacity=30,
        trainers=(TRAINER_GRIGORIEV,),
        description="""\
Разбираем заявку на конкурсы Фонда президентских грантов и областные субсидии для СОНКО —
раздел за разделом.

### Что будет

- проблема, цель и задачи без «воды»;
- календарный план и измеримые результаты;
- бюджет, который выдерживает экспертизу;
- типичные ошибки из настоящих заявок.

Каждый участник получает письменный разбор своей заявки.
""",
        starts_in_days=9,
        weekday=2,
        sessions=5,
        slot=EVENING,
        online_url="https://meet.tropa.demo/grant-application",
        fill=Fill.WAITLIST,
    ),
    CourseSpec(
        title="Клуб активного долголетия: как запустить и удержать участников",
        programme=SILVER_AGE,
        level=Level.DESIGN,
        direction=Direction.OLDER_PEOPLE,
        format=Format.OFFLINE,
        academic_hours=16,
        capacity=18,
        trainers=(TRAINER_LEBEDEVA,),
        description="""\
Для тех, кто создаёт или развивает клубы для людей старшего возраста в городе и на селе.

### Темы

- чего на самом деле хотят участники 60+: изучаем запросы;
- расписание и форматы: от скандинавской ходьбы до краеведения;
- как удержать интерес через полгода;
- волонтёры «серебряного» возраста в команде клуба.
""",
        starts_in_days=20,
        weekday=3,
        sessions=4,
        slot=MORNING,
        venue=LONGEVITY_HOUSE,
        room="Зал для занятий",
    ),
    CourseSpec(
        title="Событийный туризм малых городов Новгородчины",
        programme=ACCELERATOR,
        level=Level.DESIGN,
        direction=Direction.CULTURE_TOURISM,
        format=Format.MIXED,
        academic_hours=24,
        capacity=20,
        trainers=(TRAINER_GRIGORIEV,),
        description="""\
Как превратить местную историю, ремесло или праздник в событие, ради которого едут в
Старую Руссу, Валдай или Боровичи.

### Программа

- ресурсы территории: что у вас уже есть;
- замысел события и его гости;
- партнёры: музеи, гостевые дома, администрации;
- смета, безопасность и продвижение.

Часть занятий проходит очно, часть — онлайн.
""",
        starts_in_days=25,
        weekday=4,
        sessions=5,
        slot=AFTERNOON,
        venue=DIALOG,
        room="Аудитория 204",
        online_url="https://meet.tropa.demo/event-tourism",
    ),
    CourseSpec(
        title="Семейный клуб выходного дня: проектирование программы",
        programme=ACCELERATOR,
        level=Level.DESIGN,
        direction=Direction.PARENTS_CHILDREN,
        format=Format.OFFLINE,
        academic_hours=12,
        capacity=16,
        trainers=(TRAINER_ORLOVA,),
        description="""\
Проектируем программу семейного клуба: занятия, которые интересны и детям, и родителям.

### Вы сделаете

- программу клуба на сезон, три-четыре месяца;
- сценарий первой встречи;
- простую анкету обратной связи для родителей.

Запись откроется за три недели до начала.
""",
        starts_in_days=60,
        weekday=5,
        sessions=3,
        slot=MORNING,
        venue=DIALOG,
        room="Семейная гостиная",
        fill=Fill.OPENS_LATER,
    ),
    CourseSpec(
        title="Уход на дому: стандарты и модели сопровождения пожилых людей",
        programme=SILVER_AGE,
        level=Level.DESIGN,
        direction=Direction.MEDICAL_SOCIAL,
        format=Format.OFFLINE,
        academic_hours=24,
        capacity=16,
        trainers=(TRAINER_LEBEDEVA,),
        description="""\
Модели ухода на дому для пожилых людей и людей с инвалидностью.

### Темы (черновик)

- система долговременного ухода: роли семьи, НКО и государства;
- школа ухода для родственников;
- подбор и обучение помощников по уходу;
- качество услуги и обратная связь.
""",
        starts_in_days=45,
        weekday=0,
        sessions=6,
        slot=MORNING,
        venue=LONGEVITY_HOUSE,
        room="Зал для занятий",
        fill=Fill.DRAFT,
    ),
    # --- level 3: promotion, marketing and management ---
    CourseSpec(
        title="Маркетинг социальных услуг: соцсети, сайт и сарафанное радио",
        programme=ACCELERATOR,
        level=Level.PROMOTION,
        direction=Direction.ADDITIONAL_EDUCATION,
        format=Format.ONLINE,
        academic_hours=16,
        capacity=35,
        trainers=(TRAINER_SOKOLOV,),
        description="""\
Как рассказать о своей услуге так, чтобы о ней узнали те, кому она нужна, и те, кто готов
её поддержать.

### Темы

- позиционирование и язык вашей аудитории;
- ВКонтакте и Telegram: контент-план на месяц;
- простой сайт-визитка и карточка организации на картах;
- истории благополучателей: этика и согласие.
""",
        starts_in_days=30,
        weekday=1,
        sessions=4,
        slot=EVENING,
        online_url="https://meet.tropa.demo/marketing",
    ),
    CourseSpec(
        title="Управление командой и волонтёрами в НКО",
        programme=NGO_SCHOOL,
        level=Level.PROMOTION,
        direction=Direction.OTHER,
        format=Format.OFFLINE,
        academic_hours=12,
        capacity=20,
        trainers=(TRAINER_SOKOLOV, TRAINER_ORLOVA),
        description="""\
Для руководителей и координаторов, у которых команда растёт быстрее, чем порядок в ней.

### Разберём

- роли и зоны ответственности в небольшой организации;
- как привлечь и удержать волонтёров;
- регулярный менеджмент: планёрки, задачи, отчёты;
- профилактика выгорания.
""",
        starts_in_days=35,
        weekday=3,
        sessions=3,
        slot=MORNING,
        venue=CENTRE,
        room="Большой зал",
    ),
    CourseSpec(
        title="Выход в реестр поставщиков социальных услуг и работа с госзаказом",
        programme=ACCELERATOR,
        level=Level.PROMOTION,
        direction=Direction.MEDICAL_SOCIAL,
        format=Format.MIXED,
        academic_hours=18,
        capacity=25,
        trainers=(TRAINER_SOKOLOV,),
        description="""\
Пошаговый маршрут в региональный реестр поставщиков социальных услуг и к участию в
социальном заказе.

### Программа

1. Требования к поставщику и пакет документов.
2. Стандарты и тарифы услуг в Новгородской области.
3. Социальный сертификат и конкурсы на оказание услуг.
4. Отчётность и проверки: как подготовиться.
""",
        starts_in_days=40,
        weekday=2,
        sessions=4,
        slot=AFTERNOON,
        venue=CENTRE,
        room="Аудитория 3",
        online_url="https://meet.tropa.demo/provider-registry",
    ),
    CourseSpec(
        title="Продвижение проектов активного долголетия и партнёрство с бизнесом",
        programme=SILVER_AGE,
        level=Level.PROMOTION,
        direction=Direction.OLDER_PEOPLE,
        format=Format.OFFLINE,
        academic_hours=8,
        capacity=20,
        trainers=(TRAINER_SOKOLOV, TRAINER_LEBEDEVA),
        description="""\
Как найти партнёров и спонсоров для проектов старшего поколения и рассказать о результатах.

### Темы

- ценность проекта для бизнеса и муниципалитета;
- партнёрское предложение на одной странице;
- отчёт, который хочется читать.
""",
        starts_in_days=50,
        weekday=4,
        sessions=2,
        slot=MORNING,
        venue=LONGEVITY_HOUSE,
        room="Зал для занятий",
    ),
    CourseSpec(
        title="Туристический продукт: упаковка, цена и продажи",
        programme=ACCELERATOR,
        level=Level.PROMOTION,
        direction=Direction.CULTURE_TOURISM,
        format=Format.OFFLINE,
        academic_hours=36,
        capacity=18,
        trainers=(TRAINER_GRIGORIEV, TRAINER_SOKOLOV),
        description="""\
Интенсив для гостевых домов, музеев и мастерских, которые хотят продавать экскурсии и
мастер-классы.

### Программа

- маршрут и сценарий впечатления;
- себестоимость и цена;
- агрегаторы, туроператоры и прямые продажи;
- отзывы и повторные гости.
""",
        starts_in_days=70,
        weekday=0,
        sessions=8,
        slot=AFTERNOON,
        venue=DIALOG,
        room="Аудитория 204",
        fill=Fill.DRAFT,
    ),
    CourseSpec(
        title="Финансовая устойчивость семейных и детских проектов",
        programme=NGO_SCHOOL,
        level=Level.PROMOTION,
        direction=Direction.PARENTS_CHILDREN,
        format=Format.ONLINE,
        academic_hours=10,
        capacity=30,
        trainers=(TRAINER_SOKOLOV,),
        description="""\
Откуда брать деньги, когда грант закончился: платные услуги, пожертвования, социальный
сертификат, партнёрства.

### Темы

- структура доходов организации и её риски;
- платные услуги без потери миссии;
- регулярные пожертвования и работа с сообществом;
- финансовый план на год.
""",
        starts_in_days=55,
        weekday=1,
        sessions=3,
        slot=EVENING,
        online_url="https://meet.tropa.demo/sustainability",
    ),
]


# --- loading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo_data` did; all zero when the demo data was already there."""

    created: bool
    programmes: int = 0
    courses: int = 0
    users: int = 0
    organisations: int = 0
    enrolments: int = 0
    events: int = 0
    event_registrations: int = 0
    # one line per later package's demo (certificates, projects), for the command to print
    extra: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Enrollee:
    """A participant as the seat-taking service needs them, read once before enrolling."""

    user_id: int
    full_name: str
    email: str


def load_demo_data() -> DemoSummary:
    """Create the demo centre, unless its admin account shows it was created before."""
    if find_user(ADMIN) is not None:
        return DemoSummary(created=False)
    rng = random.Random(SEED)
    password_hash = hash_password(DEMO_PASSWORD)  # scrypt is slow: hash once, share it
    with unit_of_work():
        staff = {
            member.email: _new_user(
                member.email, member.full_name, member.phone, member.role, password_hash
            )
            for member in STAFF
        }
        participants, organisations = _add_participants(rng, password_hash)
        programmes = {
            title: Programme(title=title, description=description)
            for title, description in PROGRAMMES.items()
        }
        db.session.add_all(programmes.values())
        today = datetime.now(ZoneInfo(DEMO_TIMEZONE)).date()
        courses = [_add_course(spec, programmes, staff, today) for spec in COURSES]
        catalogue.changed()
        db.session.flush()
        # Read what enrolment needs now: the unit's commit expires every loaded object.
        enrollees = [Enrollee(user.id, user.full_name, user.email) for user in participants]
        course_ids = [course.id for course in courses]
        event_users = [
            DemoPerson(user.full_name, user.email, user.phone, user.id, user.organisation_id)
            for user in participants
        ]
        door_staff_id = staff[TRAINER_ORLOVA].id
    enrolments = _enrol(rng, course_ids, enrollees)
    _add_attendance(rng, course_ids)
    events = _add_events(event_users, door_staff_id, today)
    add_demo_learning(rng, course_ids)
    _spread_registration_dates(random.Random(f"{SEED}-dates"))
    # Later packages (certificates, projects) add theirs (courses cannot import them).
    extra = signals.collect(signals.demo_data_loading)
    return DemoSummary(
        created=True,
        programmes=len(programmes),
        courses=len(courses),
        users=len(staff) + len(participants),
        organisations=organisations,
        enrolments=enrolments,
        events=events.events,
        event_registrations=events.registrations,
        extra=extra,
    )


def _spread_registration_dates(rng: random.Random) -> None:
    """People register over the weeks before an event, not all at the moment the demo is
    loaded: the reports' "registrations per month" then looks like a real centre's."""
    first_starts = dict(
        db.session.execute(
            select(Session.event_id, func.min(Session.starts_at)).group_by(Session.event_id)
        ).all()
    )
    now = utcnow()
    dates = [
        {
            "id": registration_id,
            "created_at": min(now, first_starts[event_id]) - timedelta(days=rng.uniform(1, 90)),
        }
        for registration_id, event_id in db.session.execute(
            select(Registration.id, Registration.event_id)
        )
        if event_id in first_starts
    ]
    if dates:
        with unit_of_work():
            db.session.execute(update(Registration), dates)


def _add_events(users: list[DemoPerson], door_staff_id: int, today: date) -> DemoEventsSummary:
    """The centre's forums, seminars and webinars, with people who have no account too.

    A random generator of their own: adding events leaves the courses' data as it was.
    """
    rng = random.Random(f"{SEED}-events")
    guests = [
        # Another domain: a guest never shares an address with an account.
        DemoPerson(
            person.full_name, person.email.split("@")[0] + "@inbox.example", _random_phone(rng)
        )
        for person in _random_people(rng, 25)
    ]
    return load_demo_events(
        rng,
        users=users,
        guests=guests,
        staff_ids=[door_staff_id],
        door_staff_id=door_staff_id,
        today=today,
    )


def _new_user(email: str, full_name: str, phone: str, role: Role, password_hash: str) -> User:
    user = User(
        email=email,
        full_name=full_name,
        phone=phone,
        password_hash=password_hash,
        consent_at=utcnow(),
        consent_policy_version=current_app.config["TROPA_POLICY_VERSION"],
    )
    user.role_rows.append(UserRole(role=role))
    db.session.add(user)
    return user


def _add_participants(rng: random.Random, password_hash: str) -> tuple[list[User], int]:
    """The demo participant first, then random people; returns them and the organisations made.

    Everyone has a complete profile. People with a one-person organisation give it their
    name; the others fill the named organisations, at least one person each.
    """
    used_inns: set[str] = set()
    named = [_new_organisation(rng, spec, used_inns) for spec in ORGANISATIONS]
    demo = _new_user(
        PARTICIPANT, DEMO_PARTICIPANT_NAME, DEMO_PARTICIPANT_PHONE, Role.PARTICIPANT, password_hash
    )
    demo.organisation, demo.municipality = named[0], named[0].municipality
    participants = [demo]

    people = _random_people(rng, PARTICIPANT_COUNT - 1)
    one_person_kinds = [
        kind for kind, count in ONE_PERSON_ORGANISATIONS.items() for _ in range(count)
    ]
    for kind, person in zip(one_person_kinds, people, strict=False):
        user = _new_user(
            person.email, person.full_name, _random_phone(rng), Role.PARTICIPANT, password_hash
        )
        user.municipality = _random_municipality(rng)
        user.organisation = _one_person_organisation(rng, kind, user, used_inns)
        participants.append(user)
    for number, person in enumerate(people[len(one_person_kinds) :], start=1):
        user = _new_user(
            person.email, person.full_name, _random_phone(rng), Role.PARTICIPANT, password_hash
        )
        # named[0] has the demo participant: one person for each of the others, then at random.
        organisation = named[number] if number < len(named) else rng.choice(named)
        user.organisation, user.municipality = organisation, organisation.municipality
        participants.append(user)
    return participants, len(named) + len(one_person_kinds)


def _new_organisation(
    rng: random.Random, spec: OrganisationSpec, used_inns: set[str]
) -> Organisation:
    # Registered organisations have a 10-digit INN; an initiative group has none.
    inn = None if spec.type == GROUP else _new_inn(rng, used_inns, person=False)
    organisation = Organisation(
        name=spec.name, type=spec.type, inn=inn, municipality=spec.municipality
    )
    db.session.add(organisation)
    return organisation


def _one_person_organisation(
    rng: random.Random, kind: OrganisationType, user: User, used_inns: set[str]
) -> Organisation:
    # A sole trader and a self-employed person report under their own 12-digit INN; a
    # private individual gives none.
    name = f"ИП {user.full_name}" if kind == OrganisationType.SMSP else user.full_name
    inn = None if kind == OrganisationType.INDIVIDUAL else _new_inn(rng, used_inns, person=True)
    organisation = Organisation(name=name, type=kind, inn=inn, municipality=user.municipality)
    db.session.add(organisation)
    return organisation


def _local(day: date, at: time) -> datetime:
    """A wall-clock time in the centre's zone, as the UTC the database keeps."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(DEMO_TIMEZONE)).astimezone(UTC)


def _add_course(
    spec: CourseSpec, programmes: dict[str, Programme], staff: dict[str, User], today: date
) -> Course:
    course = Course(
        title=spec.title,
        description=spec.description,
        programme=programmes[spec.programme],
        level=spec.level,
        direction=spec.direction,
        format=spec.format,
        academic_hours=spec.academic_hours,
        capacity=spec.capacity,
        venue=spec.venue,
        online_url=spec.online_url,
        timezone=DEMO_TIMEZONE,
        visibility=Visibility.DRAFT if spec.fill == Fill.DRAFT else Visibility.PUBLISHED,
        search_text=search_key(f"{spec.title} {spec.description}"),
        trainers=[staff[email] for email in spec.trainers],
    )
    first_day = today + timedelta(days=spec.starts_in_days)
    first_day += timedelta(days=(spec.weekday - first_day.weekday()) % 7)
    starts, ends = spec.slot
    for number in range(spec.sessions):
        day = first_day + timedelta(days=number * spec.every_days)
        course.sessions.append(
            Session(starts_at=_local(day, starts), ends_at=_local(day, ends), room=spec.room)
        )
    first_start = course.sessions[0].starts_at
    if spec.fill == Fill.OPENS_LATER:
        course.registration_opens_at = first_start - timedelta(weeks=3)
    else:
        course.registration_opens_at = _local(today - timedelta(days=12), time(9, 0))
    course.registration_closes_at = first_start - timedelta(days=1)
    db.session.add(course)
    return course


def _enrol(rng: random.Random, course_ids: list[int], enrollees: list[Enrollee]) -> int:
    """Enrol people through the seat-taking service, as they would enrol themselves."""
    demo_participant, others = enrollees[0], enrollees[1:]
    created = 0
    for spec, course_id in zip(COURSES, course_ids, strict=True):
        wanted = _enrolment_count(rng, spec)
        if not wanted:
            continue
        people = rng.sample(others, wanted)
        if spec.with_demo_participant:
            # Second on the waiting list of a full course; last, with a place, on the others.
            people.insert(min(spec.capacity + 1, len(people)), demo_participant)
        if seats.registration_state(db.session.get(Course, course_id)) == "closed":
            created += _enrol_before_it_began(course_id, people)
            continue
        for person in people:
            result = seats.register(
                course_id, full_name=person.full_name, email=person.email, user_id=person.user_id
            )
            created += result.created
    return created


def _enrol_before_it_began(course_id: int, people: list[Enrollee]) -> int:
    """A running course's registration has closed: its people are enrolled as the
    organiser's import does it (places in order, then the waiting list)."""
    with seats.event_lock(course_id) as course:
        result = seats.register_batch(
            course, [seats.Newcomer(person.full_name, person.email) for person in people]
        )
    return result.confirmed + result.waitlisted


def _add_attendance(rng: random.Random, course_ids: list[int]) -> None:
    """Past sessions get attendance as a trainer would take it, by all three ways: people
    scan the rotating code, the trainer scans the others' QR codes, marks a few by hand,
    and the rest absent. All through the one check-in service."""
    now = utcnow()
    for course_id in course_ids:
        course = db.session.get(Course, course_id)
        trainer = course.trainers[0]
        confirmed = list(
            db.session.scalars(
                select(Registration)
                .options(joinedload(Registration.user))
                .where(
                    Registration.event_id == course_id,
                    Registration.status == RegistrationStatus.CONFIRMED,
                )
                .order_by(Registration.id)
            )
        )
        for session in [s for s in course.sessions if s.ends_at <= now]:
            for registration in confirmed:
                arrived = session.starts_at + timedelta(minutes=rng.randint(-10, 20))
                way = rng.random()
                if way < 0.5 and registration.user:
                    checkin.check_in(
                        event_id=course_id,
                        registration_id=registration.id,
                        session_id=session.id,
                        by_user=registration.user,
                        method=AttendanceMethod.SELF_SCAN,
                        scanned_at=arrived,
                    )
                elif way < 0.8:
                    checkin.check_in(
                        event_id=course_id,
                        scanned=registration.ticket_secret,
                        session_id=session.id,
                        by_user=trainer,
                        method=AttendanceMethod.TRAINER_SCAN,
                        scanned_at=arrived,
                    )
                elif way < 0.88:
                    status = rng.choice([AttendanceStatus.LATE, AttendanceStatus.EXCUSED])
                    checkin.mark(
                        event_id=course_id,
                        registration_id=registration.id,
                        session_id=session.id,
                        status=status,
                        by_user=trainer,
                        now=session.ends_at,
                    )
            checkin.mark_rest_absent(
                event_id=course_id, session_id=session.id, by_user=trainer, now=session.ends_at
            )


def _enrolment_count(rng: random.Random, spec: CourseSpec) -> int:
    match spec.fill:
        case Fill.PLACES_LEFT:
            return round(spec.capacity * rng.uniform(0.35, 0.65))
        case Fill.NEARLY_FULL:
            return spec.capacity - rng.randint(1, 2)
        case Fill.WAITLIST:
            return spec.capacity + rng.randint(3, 5)
    return 0  # drafts and courses whose registration has not opened yet
