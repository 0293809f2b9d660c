"""Demo learning materials: every demo course gets two modules with each material kind
(small generated files), its participants part-way through, some of them complete."""

import io
import random
from datetime import timedelta

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from courses.models import (
    AnswerStatus,
    CompletionRule,
    Course,
    Material,
    MaterialKind,
    MaterialProgress,
    Module,
    TaskAnswer,
)
from courses.services import completion
from courses.services import materials as learning
from events.models import Registration, RegistrationStatus
from webapp import storage
from webapp.extensions import db
from webapp.transactions import unit_of_work
from webapp.types import utcnow

INTRO_PAGE = """Добро пожаловать на курс «{title}».

**Как учиться:** проходите материалы по порядку — у каждого написано, когда он
засчитывается. Тренер проверит ответ на задание и оставит комментарий.
"""
CHECKLIST_PAGE = """Перед следующей встречей проверьте:

- цель проекта сформулирована одним предложением;
- понятно, кто ваши благополучатели;
- есть список ресурсов и партнёров.
"""
TASK_TEXT = "Опишите ваш проект в трёх абзацах: проблема, решение, первые шаги."


def _pdf(title: str) -> bytes:
    """A one-page handout; the Latin-only built-in font is enough for a demo file."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("Helvetica-Bold", 18)
    page.drawString(72, 760, "Tropa: course handout")
    page.setFont("Helvetica", 12)
    page.drawString(72, 730, f"Course #{title}")
    page.save()
    return out.getvalue()


def _png() -> bytes:
    image = Image.new("RGB", (320, 180), "white")
    draw = ImageDraw.Draw(image)
    for step, colour in enumerate(("#2e7d32", "#66bb6a", "#a5d6a7")):
        draw.rectangle([20 + step * 100, 40, 100 + step * 100, 140], fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _material(module: Module, kind: MaterialKind, title: str, **fields) -> Material:
    material = Material(
        kind=kind, title=title, position=len(module.materials) + 1, required=True, **fields
    )
    module.materials.append(material)
    return material


def _with_file(material: Material, content: bytes, name: str) -> None:
    stored = storage.save_upload(io.BytesIO(content), name)
    material.file_storage_name = stored.storage_name
    material.file_name = stored.original_name
    material.file_content_type = stored.content_type
    material.file_size = stored.size


def add_demo_learning(rng: random.Random, course_ids: list[int]) -> int:
    """Modules and materials for each course, and progress for its participants; returns
    the number of materials created."""
    png = _png()
    with unit_of_work():
        created = 0
        for course in db.session.scalars(select(Course).where(Course.id.in_(course_ids))):
            intro = Module(course_id=course.id, position=1, title="1. Знакомство и аудит проекта")
            practice = Module(
                course_id=course.id, position=2, title="2. Практика", opens_after_previous=True
            )
            intro_page = INTRO_PAGE.format(title=course.title)
            _material(intro, MaterialKind.PAGE, "С чего начать", body=intro_page)
            _with_file(
                _material(intro, MaterialKind.FILE, "Программа курса (PDF)"),
                _pdf(str(course.id)),
                f"Программа — {course.title[:60]}.pdf",
            )
            _material(
                intro,
                MaterialKind.LINK,
                "Видео: как устроен социальный проект",
                url="https://video.tropa.demo/intro",
            )
            _with_file(
                _material(practice, MaterialKind.FILE, "Схема проекта"), png, "Схема проекта.png"
            )
            _material(
                practice,
                MaterialKind.PAGE,
                "Чек-лист к встрече",
                body=CHECKLIST_PAGE,
                completion=CompletionRule.MARKED_DONE,
            )
            _material(
                practice,
                MaterialKind.TASK,
                "Задание: паспорт проекта",
                body=TASK_TEXT,
                completion=CompletionRule.ACCEPTED,
                # 18:00 Moscow time in ten days: My learning lists it as due
                due_at=utcnow().replace(hour=15, minute=0, second=0, microsecond=0)
                + timedelta(days=10),
            )
            course.requires_materials = True
            course.requires_tasks = True
            db.session.add_all([intro, practice])
            created += len(intro.materials) + len(practice.materials)
        for course in db.session.scalars(select(Course).where(Course.id.in_(course_ids))):
            _add_progress(rng, course)
    for course_id in course_ids:
        completion.record_completions(db.session.get(Course, course_id))  # certificates due
    return created


def _add_progress(rng: random.Random, course: Course) -> None:
    """A third has not started, a third is part-way, a third has finished everything."""
    materials = [m for module in learning.modules_of(course) for m in module.materials]
    trainer_id = course.trainers[0].id if course.trainers else None
    registrations = db.session.scalars(
        select(Registration).where(
            Registration.event_id == course.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )
    now = utcnow()
    for registration in registrations:
        reached = rng.choice([0, rng.randint(1, len(materials) - 1), len(materials)])
        for material in materials[:reached]:
            db.session.add(
                MaterialProgress(
                    registration_id=registration.id,
                    material_id=material.id,
                    viewed_at=now,
                    done_at=now if material.completion == CompletionRule.MARKED_DONE else None,
                )
            )
            if material.kind == MaterialKind.TASK:
                db.session.add(
                    TaskAnswer(
                        registration_id=registration.id,
                        material_id=material.id,
                        text="Проблема: … Решение: … Первые шаги: …",
                        status=AnswerStatus.ACCEPTED,
                        trainer_comment="Хорошо, принято.",
                        reviewed_by_id=trainer_id,
                        reviewed_at=now,
                    )
                )
