"""Demo projects for `tropa demo-data`: a dozen social projects of the demo organisations on
all three levels, some of them joint, with mentors, ticked steps, consultations, a roadmap
(some milestones overdue) and the organisers' level decisions.

Loaded after the courses' and events' demo (courses.demo.DEMO_EXTENSIONS), through the
projects' services, so the data obeys the same rules as the pages. Dates are counted from
today, so the roadmap always has something due and something overdue.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from courses import demo as courses_demo
from courses.models import Course, Direction, Programme
from projects import services
from projects.models import LEVELS, MilestoneStatus, ProgrammeStep, Project
from projects.services import editing, mentoring, roadmap
from webapp.extensions import db
from webapp.models import Organisation, User
from webapp.services import find_user
from webapp.transactions import unit_of_work

D = Direction


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    organisation: str  # the lead organisation: its first participant leads the project
    level: int
    direction: Direction
    target_group: str
    programme: str = courses_demo.ACCELERATOR
    partners: tuple[str, ...] = ()  # a joint project's partner organisations
    leader_email: str | None = None


PROJECTS = [
    ProjectSpec("Семейная гостиная в Боровичах", 'АНО "Центр социальной помощи «Забота»"', 1,
                D.PARENTS_CHILDREN, "Молодые семьи с детьми до 7 лет"),
    ProjectSpec("Скандинавская ходьба для всех", 'Клуб скандинавской ходьбы "Волхов"', 1,
                D.OLDER_PEOPLE, "Жители старше 55 лет", courses_demo.SILVER_AGE),
    ProjectSpec("Соседский центр в Сольцах", 'Инициативная группа "Соседский центр в Сольцах"',
                1, D.OTHER, "Жители Сольцов"),
    ProjectSpec("Экологическая тропа «Росток»", 'АНО "Детский экологический клуб «Росток»"', 1,
                D.ADDITIONAL_EDUCATION, "Школьники 8–14 лет"),
    ProjectSpec("Доступный двор", 'Инициативная группа "Доступный двор на Западной"', 1,
                D.MEDICAL_SOCIAL, "Люди на колясках и родители с колясками",
                courses_demo.NGO_SCHOOL),
    ProjectSpec("Семейный клуб выходного дня", 'АНО "Центр семейной поддержки «Вместе»"', 2,
                D.PARENTS_CHILDREN, "Многодетные и приёмные семьи",
                partners=('НРОО "Многодетные семьи Приильменья"',
                          'ООО "Семейный центр «Непоседы»"'),
                leader_email=courses_demo.PARTICIPANT),
    ProjectSpec("Цифровая грамотность 60+", 'АНО "Ресурсный центр «Серебряные нити»"', 2,
                D.OLDER_PEOPLE, "Пенсионеры Новгородской области", courses_demo.SILVER_AGE,
                partners=('АНО "Клуб активного долголетия «Бодрость»"',)),
    ProjectSpec("Керамика для особых детей", 'ООО "Мастерская «Новгородская керамика»"', 2,
                D.ADDITIONAL_EDUCATION, "Дети с ОВЗ и их родители",
                partners=('Ассоциация "Родители особых детей Новгородчины"',)),
    ProjectSpec("Сиделка рядом", 'ООО "Центр сиделок «Опора»"', 2, D.MEDICAL_SOCIAL,
                "Маломобильные пожилые люди и их родственники"),
    ProjectSpec("Инклюзивный спектакль на гастролях", 'АНО "Инклюзивный театр «Открытая сцена»"',
                3, D.CULTURE_TOURISM, "Зрители районов области",
                partners=('АНО "Добровольческий центр «Новгородские волонтёры»"',)),
    ProjectSpec("Маршрут «Рюриково городище»", 'ООО "Гостевой дом «Рюриково городище»"', 3,
                D.CULTURE_TOURISM, "Семьи и школьные группы",
                partners=('АНО "Туристско-краеведческий центр «Ильмень»"',)),
    ProjectSpec("Дневной пансион «Тихая гавань»", 'ООО "Пансионат для пожилых «Тихая гавань»"', 3,
                D.OLDER_PEOPLE, "Одинокие пожилые люди", courses_demo.SILVER_AGE),
]  # fmt: skip

# The accelerator's own steps (the other programmes use the built-in ones): level 1's last
# step is ticked by completing the programme's first level-1 course.
ACCELERATOR_STEPS = {
    1: ["Аудит проекта проведён", "Индивидуальная траектория описана", "Первое обучение пройдено"],
    2: ["Продукт спроектирован", "Технология выбрана", "Партнёры и кооперация согласованы",
        "Прототип испытан"],
    3: ["Маркетинговый план", "План управления", "Продвижение начато"],
}  # fmt: skip

MILESTONES = {
    1: ["Паспорт проекта", "Карта заинтересованных сторон"],
    2: ["Описание продукта и технологии", "Соглашение с партнёрами", "Пилотный запуск прототипа"],
    3: ["Маркетинговый план утверждён", "Первые платные услуги"],
}
CONSULTATION_TOPICS = {
    1: ["Аудит идеи и ресурсов", "Индивидуальная траектория"],
    2: ["Проектирование услуги", "Экономика прототипа", "Договор с партнёрами"],
    3: ["Продвижение в соцсетях", "Управление командой и финансами"],
}
MENTORS = [
    courses_demo.TRAINER_ORLOVA,
    courses_demo.TRAINER_SOKOLOV,
    courses_demo.TRAINER_LEBEDEVA,
    courses_demo.TRAINER_GRIGORIEV,
]


def load_demo_projects(_sender=None) -> str:
    rng = random.Random(f"{courses_demo.SEED}-projects")
    today = services.today()
    programmes = {p.title: p for p in db.session.scalars(select(Programme))}
    _add_accelerator_steps(programmes[courses_demo.ACCELERATOR])
    organiser = find_user(courses_demo.ORGANISER)
    mentors = [find_user(email) for email in MENTORS]
    counts = {"milestones": 0, "consultations": 0}
    for number, spec in enumerate(PROJECTS):
        leader, colleague = _team(spec)
        started = today - timedelta(days=45 + 75 * (spec.level - 1) + rng.randrange(30))
        partners = [_organisation(name) for name in spec.partners]
        project = editing.create_project(
            editing.ProjectData(
                title=spec.title,
                programme_id=programmes[spec.programme].id,
                direction=spec.direction.value,
                started_on=started,
                target_group=spec.target_group,
                municipality=leader.organisation.municipality,
                description=f"{spec.title}: {spec.target_group.lower()}.",
                is_joint=bool(partners),
                member_emails=[colleague.email] if colleague else [],
                partners=[p.inn or p.name for p in partners],
            ),
            leader,
        )
        mentor = mentors[number % len(mentors)]
        mentoring.set_mentor(project, mentor.id)
        _climb(project, spec.level, organiser, started, today)
        _tick_steps(rng, project, leader, started, today)
        overdue = number % 3 == 0  # a third of the projects are late on their level
        counts["milestones"] += _add_milestones(rng, project, started, today, overdue)
        counts["consultations"] += _add_consultations(rng, project, mentor, started, today)
    joint = sum(bool(spec.partners) for spec in PROJECTS)
    return _(
        "Demo projects: %(projects)d (%(joint)d joint), %(milestones)d milestones, "
        "%(consultations)d consultations.",
        projects=len(PROJECTS),
        joint=joint,
        **counts,
    )


def _add_accelerator_steps(programme: Programme) -> None:
    first_course = db.session.scalar(
        select(Course)
        .where(Course.programme_id == programme.id, Course.level == 1)
        .order_by(Course.id)
        .limit(1)
    )
    with unit_of_work():
        for level, titles in ACCELERATOR_STEPS.items():
            for position, title in enumerate(titles):
                last_of_first_level = level == 1 and position == len(titles) - 1
                course_id = first_course.id if last_of_first_level and first_course else None
                db.session.add(
                    ProgrammeStep(
                        programme_id=programme.id,
                        level=level,
                        position=position,
                        title=title,
                        course_id=course_id,
                    )
                )


def _organisation(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def _team(spec: ProjectSpec) -> tuple[User, User | None]:
    """The leader (the organisation's first participant, or the one named) and a colleague."""
    organisation = _organisation(spec.organisation)
    people = list(
        db.session.scalars(
            select(User).where(User.organisation_id == organisation.id).order_by(User.id)
        )
    )
    leader = find_user(spec.leader_email) if spec.leader_email else people[0]
    others = [person for person in people if person.id != leader.id]
    return leader, (others[0] if others else None)


def _at(day) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _climb(project: Project, level: int, organiser: User, started, today) -> None:
    """The organisers' decisions that brought the project to its level, dated in the past."""
    comments = {
        2: "Аудит и траектория готовы, первое обучение пройдено: переходим к проектированию.",
        3: "Прототип испытан с партнёрами, отзывы получателей хорошие: переходим к продвижению.",
    }
    for to_level in LEVELS[1:level]:
        decision = editing.change_level(project, to_level, comments[to_level], organiser)
        with unit_of_work():
            decision.decided_at = _at(started + timedelta(days=60 * (to_level - 1) + 10))


def _tick_steps(rng, project: Project, leader: User, started, today) -> None:
    """Every step below the project's level done; on its level, some of them."""
    with unit_of_work():
        for step in project.steps:
            below = step.level < project.level
            if below or (step.level == project.level and rng.random() < 0.5):
                day = min(today, started + timedelta(days=20 * step.level + step.position * 5))
                step.done_at, step.done_by_id = _at(day), leader.id


def _add_milestones(rng, project: Project, started, today, overdue: bool) -> int:
    added = 0
    for level in LEVELS:
        for index, title in enumerate(MILESTONES[level]):
            if level < project.level:
                due = started + timedelta(days=25 * level + 10 * index)
                status, done_on = MilestoneStatus.DONE, due - timedelta(days=rng.randrange(5))
            elif level == project.level:
                due = today + timedelta(days=14 + 21 * index)
                status, done_on = MilestoneStatus.IN_PROGRESS, None
                if overdue and index == 0:  # one overdue item on the current level
                    due = max(started, today - timedelta(days=7 + rng.randrange(10)))
                    status = MilestoneStatus.PLANNED
            else:
                due = today + timedelta(days=60 * (level - project.level) + 15 * index)
                status, done_on = MilestoneStatus.PLANNED, None
            data = roadmap.MilestoneData(
                title=title, level=level, due_on=due, status=status.value, done_on=done_on
            )
            roadmap.save_milestone(project, None, data)
            added += 1
    return added


def _add_consultations(rng, project: Project, mentor: User, started, today) -> int:
    added = 0
    for level in LEVELS[: project.level]:
        for index, topic in enumerate(CONSULTATION_TOPICS[level][: 1 + rng.randrange(2)]):
            held = min(today, started + timedelta(days=30 * (level - 1) + 12 * index + 3))
            mentoring.add_consultation(
                project,
                mentoring.ConsultationData(
                    held_on=held,
                    topic=topic,
                    level=level,
                    expert_id=mentor.id,
                    notes="Разобрали текущее состояние проекта и риски.",
                    next_steps="Подготовить материалы к следующей встрече.",
                ),
            )
            added += 1
    return added
