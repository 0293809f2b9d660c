"""Demo audits and stories (signals.demo_data_loading, after the demo projects): every
project took the entry audit when it started, and again after each level move with better
answers; the three projects furthest along have published stories with a photo."""

import random
import struct
import zlib
from datetime import UTC, datetime, time, timedelta
from io import BytesIO

from flask_babel import gettext as _
from sqlalchemy import select

from projects.demo import load_demo_projects
from projects.models import Project
from projects.outcomes import audit, stories
from webapp.extensions import db
from webapp.services import find_user
from webapp.types import utcnow

ORGANISER = "organiser@tropa.demo"
STORIES = [
    (
        "Мы начинали с трёх человек за кухонным столом. Сегодня к нам приходят семьи из "
        "всего района.",
        "Людям не хватало места, где можно встретиться и получить поддержку рядом с домом.",
        "Прошли аудит и курсы центра, нашли партнёров в администрации, провели пилотные "
        "встречи и собрали отзывы.",
        "Больше сорока постоянных участников, два новых партнёра и первый грант.",
    ),
    (
        "Идея родилась на круглом столе центра, где мы познакомились с будущими партнёрами.",
        "Услуга была нужна, но её никто не предлагал в нашем муниципалитете.",
        "Сделали прототип, проверили его с первыми клиентами и переписали бизнес-план.",
        "Проект вышел на самоокупаемость, команда выросла до шести человек.",
    ),
    (
        "Мы долго думали, что маленькой организации не под силу такой проект.",
        "Жителям было трудно добраться до нужных услуг.",
        "Прошли все три уровня поддержки: от аудита до продвижения.",
        "Маршрут включён в туристический каталог региона.",
    ),
]


def load_demo_projects_and_outcomes(_sender=None) -> str:
    """The demo projects (projects.demo), then their audits and stories: one receiver, as
    the audits need the projects and blinker calls receivers in no set order."""
    return f"{load_demo_projects()}\n{load_demo_outcomes()}"


def load_demo_outcomes() -> str:
    rng = random.Random("tropa-demo-outcomes")
    projects = db.session.scalars(select(Project).order_by(Project.id)).all()
    now = utcnow()
    audits = 0
    for project in projects:
        leader = project.members[0].user if project.members else find_user(ORGANISER)
        start = datetime.combine(project.started_on + timedelta(days=3), time(9), UTC)
        moments = [(start, 1)] + [
            (decision.decided_at + timedelta(days=5), decision.to_level)
            for decision in project.level_decisions
        ]
        for step, (taken_at, level) in enumerate(moments):
            answers = {
                audit.field_name(area, number): str(min(3, rng.randint(0, 2) + step))
                for area in audit.AREAS
                for number in range(3)
            }
            audit.take_audit(project.id, answers, leader, history=(min(taken_at, now), level))
            audits += 1
    organiser = find_user(ORGANISER)
    furthest = sorted(projects, key=lambda p: (-p.level, p.id))[:3]
    for project, (story, problem, actions, results) in zip(furthest, STORIES, strict=False):
        saved = stories.save_story(
            project.id,
            stories.StoryData(
                title=project.title, story=story, problem=problem, actions=actions,
                results=results, publish_story=True, publish_problem=True,
                publish_actions=True, publish_results=True, publish_partners=True,
                publish_municipality=True,
            ),
        )  # fmt: skip
        stories.add_photo(project.id, BytesIO(_picture(rng)), "photo.png", project.title, True)
        stories.submit(project.id)
        stories.review(saved.id, True, "", organiser.id)
    return _("Demo outcomes: %(audits)d audits, %(stories)d published stories.",
             audits=audits, stories=len(furthest))  # fmt: skip


def _picture(rng: random.Random, width: int = 480, height: int = 270) -> bytes:
    """A soft two-colour gradient as a PNG (no imaging library needed)."""
    top = [rng.randint(40, 120) for _ in range(3)]
    bottom = [rng.randint(150, 230) for _ in range(3)]
    rows = b"".join(
        b"\x00" + bytes(
            round(top[c] + (bottom[c] - top[c]) * y / height) for c in range(3)
        ) * width
        for y in range(height)
    )  # fmt: skip

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))  # fmt: skip
