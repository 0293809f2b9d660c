"""Learning materials: staff build a course, participants work through it, outsiders are
refused, bad input gets a clear message and leaves nothing behind."""

import io
import random
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

from certificates.models import EventCertificates
from courses.models import (
    AnswerStatus,
    CompletionRule,
    Material,
    MaterialKind,
    MaterialProgress,
    Module,
    TaskAnswer,
)
from courses.services import materials as learning
from events.models import RegistrationStatus
from events.services import seats
from tests.conftest import make_user
from tests.materials_support import (
    EXE_BYTES,
    add_material,
    add_module,
    enrol,
    pdf_bytes,
    sign_in,
    zip_bomb_docx,
)
from webapp.extensions import db
from webapp.models import Role
from webapp.types import utcnow


def stored_files(app) -> set[Path]:
    return set(Path(app.config["TROPA_FILES_DIR"]).glob("*"))


@pytest.fixture
def taught(course, users):
    course.trainers.append(users["trainer"])
    db.session.commit()
    return course


@pytest.fixture
def enrolled(taught, users):
    return enrol(taught, users["participant"])


def test_a_trainer_builds_a_module_with_every_kind_of_material(app, client, taught, users):
    sign_in(client, users["trainer"])
    response = client.post(
        f"/manage/courses/{taught.id}/modules/new", data={"title": "1. Аудит проекта"}
    )
    assert response.status_code == 302
    module = db.session.query(Module).one()
    base = f"/manage/modules/{module.id}/materials/new"
    forms = [
        {"kind": "page", "title": "Что такое аудит", "body": "**Жирно** <script>x()</script>"},
        {"kind": "link", "title": "Видео", "url": "https://example.org/video"},
        {
            "kind": "task",
            "title": "Опишите проект",
            "body": "Три абзаца.",
            "completion": "accepted",
        },
    ]
    for form in forms:
        data = {"completion": "viewed", "required": "y", **form}
        assert client.post(base, data=data).status_code == 302, form
    data = {
        "kind": "file", "title": "Программа", "completion": "viewed", "required": "y",
        "file": (io.BytesIO(pdf_bytes()), "Программа курса.pdf"),
    }  # fmt: skip
    response = client.post(base, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    kinds = [m.kind for m in db.session.query(Material).order_by(Material.position)]
    assert kinds == ["page", "link", "task", "file"]

    page = client.get(f"/courses/{taught.id}/materials").get_data(as_text=True)
    assert "Что такое аудит" in page and "Программа" in page
    material = db.session.query(Material).filter_by(kind=MaterialKind.PAGE).one()
    shown = client.get(f"/courses/{taught.id}/materials/{material.id}").get_data(as_text=True)
    assert "<strong>Жирно</strong>" in shown
    assert "<script>x()" not in shown  # script in Markdown never reaches the page


def test_reorder_hide_and_delete(client, taught, users, app):
    module = add_module(taught)
    first, second = add_material(module, title="Первый"), add_material(module, title="Второй")
    sign_in(client, users["trainer"])
    client.post(f"/manage/materials/{second.id}/move/up")
    db.session.expire_all()
    assert [m.title for m in module.materials] == ["Второй", "Первый"]
    client.post(f"/manage/materials/{first.id}/visibility")
    db.session.expire_all()
    assert db.session.get(Material, first.id).hidden
    other = add_module(taught, title="2. Модуль")
    client.post(f"/manage/modules/{other.id}/move/up")
    db.session.expire_all()
    assert [m.title for m in learning.modules_of(taught)] == ["2. Модуль", "1. Аудит проекта"]
    second_id = second.id
    client.post(f"/manage/materials/{second_id}/delete")
    db.session.expire_all()
    assert db.session.get(Material, second_id) is None


def test_a_hidden_material_is_not_shown_to_participants(client, taught, users, enrolled):
    module = add_module(taught)
    hidden = add_material(module, title="Черновик", hidden=True)
    sign_in(client, users["participant"])
    assert "Черновик" not in client.get(f"/courses/{taught.id}/materials").get_data(as_text=True)
    assert client.get(f"/courses/{taught.id}/materials/{hidden.id}").status_code == 404


def test_uploads_refused_by_the_material_form_store_nothing(app, client, taught, users):
    module = add_module(taught)
    sign_in(client, users["trainer"])
    before = stored_files(app)
    for content, name in [(EXE_BYTES, "lecture.pdf"), (zip_bomb_docx(), "шаблон.docx")]:
        data = {
            "kind": "file", "title": "Лекция", "completion": "viewed",
            "file": (io.BytesIO(content), name),
        }  # fmt: skip
        response = client.post(
            f"/manage/modules/{module.id}/materials/new",
            data=data,
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.query(Material).count() == 0
    assert stored_files(app) == before


@pytest.mark.parametrize("status", [None, "waitlisted", "cancelled"])
def test_materials_of_a_course_one_is_not_in_are_refused(client, taught, users, status):
    module = add_module(taught)
    page = add_material(module)
    stranger = make_user("stranger@example.org")
    if status:
        registration = enrol(taught, stranger)
        registration.status = RegistrationStatus(status)
        db.session.commit()
    sign_in(client, stranger)
    for url in (
        f"/courses/{taught.id}/materials",
        f"/courses/{taught.id}/materials/{page.id}",
        f"/courses/{taught.id}/materials/{page.id}/file",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/courses/{taught.id}/materials/{page.id}/done").status_code == 403


def test_a_participant_works_through_the_materials(app, client, taught, users, enrolled):
    module = add_module(taught)
    page = add_material(module, title="Страница", body="Текст")
    done = add_material(module, title="Чек-лист", completion=CompletionRule.MARKED_DONE)
    sign_in(client, users["trainer"])
    data = {
        "kind": "file", "title": "Программа", "completion": "viewed",
        "file": (io.BytesIO(pdf_bytes()), "Программа курса.pdf"),
    }  # fmt: skip
    client.post(
        f"/manage/modules/{module.id}/materials/new", data=data, content_type="multipart/form-data"
    )
    file_material = db.session.query(Material).filter_by(kind=MaterialKind.FILE).one()

    sign_in(client, users["participant"])
    assert 'data-percent="0"' in client.get(f"/courses/{taught.id}/materials").get_data(
        as_text=True
    )
    client.get(f"/courses/{taught.id}/materials/{page.id}")
    client.post(f"/courses/{taught.id}/materials/{done.id}/done")
    download = client.get(f"/courses/{taught.id}/materials/{file_material.id}/file")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''%D0%9F" in download.headers["Content-Disposition"]
    assert download.get_data().startswith(b"%PDF-")
    page_html = client.get(f"/courses/{taught.id}/materials").get_data(as_text=True)
    assert 'data-percent="100"' in page_html
    outline = learning.outline(taught, enrolled)
    assert (outline.done, outline.total) == (3, 3)


def test_staff_previewing_leave_no_progress(client, taught, users):
    page = add_material(add_module(taught))
    sign_in(client, users["trainer"])
    assert client.get(f"/courses/{taught.id}/materials/{page.id}").status_code == 200
    assert db.session.query(MaterialProgress).count() == 0


def test_opening_rules_date_and_after_the_previous(client, taught, users, enrolled):
    module = add_module(taught)
    first = add_material(module, title="Первый", completion=CompletionRule.MARKED_DONE)
    second = add_material(module, title="Второй", opens_after_previous=True)
    later = add_material(module, title="Позже", opens_at=utcnow() + timedelta(days=3))
    sign_in(client, users["participant"])
    assert client.get(f"/courses/{taught.id}/materials/{second.id}").status_code == 302
    assert client.get(f"/courses/{taught.id}/materials/{later.id}").status_code == 302
    client.post(f"/courses/{taught.id}/materials/{first.id}/done")
    assert client.get(f"/courses/{taught.id}/materials/{second.id}").status_code == 200
    assert client.get(f"/courses/{taught.id}/materials/{later.id}").status_code == 302
    next_module = add_module(taught, title="2. Далее", opens_after_previous=True)
    gated = add_material(next_module, title="Следующий модуль")
    assert client.get(f"/courses/{taught.id}/materials/{gated.id}").status_code == 302
    client.get(f"/courses/{taught.id}/materials/{second.id}")  # viewed: module 1 complete
    db.session.query(Material).filter_by(id=later.id).update({"opens_at": None})
    client.get(f"/courses/{taught.id}/materials/{later.id}")
    assert client.get(f"/courses/{taught.id}/materials/{gated.id}").status_code == 200


def test_a_task_answered_twice_while_pending_is_refused(client, taught, users, enrolled):
    task = add_material(add_module(taught), MaterialKind.TASK, title="Опишите проект")
    url = f"/courses/{taught.id}/materials/{task.id}/answer"
    sign_in(client, users["participant"])
    assert client.post(url, data={"text": "Мой проект"}).status_code == 302
    with force_locale("en"), pytest.raises(learning.LearningRefused, match="awaiting the trainer"):
        learning.submit_answer(enrolled, task, "Ещё раз")
    client.post(url, data={"text": "Ещё раз"})
    answer = db.session.query(TaskAnswer).one()
    assert answer.text == "Мой проект" and answer.status == AnswerStatus.SUBMITTED

    sign_in(client, users["trainer"])
    assert "Мой проект" in client.get(f"/manage/courses/{taught.id}/answers").get_data(as_text=True)
    client.post(
        f"/manage/answers/{answer.id}/review",
        data={"decision": "needs_rework", "comment": "Добавьте цифры"},
    )
    db.session.refresh(answer)
    assert answer.status == AnswerStatus.NEEDS_REWORK and answer.trainer_comment == "Добавьте цифры"

    sign_in(client, users["participant"])
    client.post(url, data={"text": "С цифрами"})
    db.session.refresh(answer)
    assert answer.text == "С цифрами" and answer.status == AnswerStatus.SUBMITTED
    learning.review_answer(answer, users["trainer"], AnswerStatus.ACCEPTED, "")
    assert learning.outline(taught, enrolled).percent == 100


def test_an_empty_or_disguised_answer_is_refused(app, client, taught, users, enrolled):
    task = add_material(add_module(taught), MaterialKind.TASK)
    url = f"/courses/{taught.id}/materials/{task.id}/answer"
    sign_in(client, users["participant"])
    before = stored_files(app)
    client.post(url, data={"text": "  "})
    data = {"text": "", "file": (io.BytesIO(EXE_BYTES), "answer.pdf")}
    client.post(url, data=data, content_type="multipart/form-data")
    assert db.session.query(TaskAnswer).count() == 0
    assert stored_files(app) == before


def test_an_answer_file_is_only_for_its_author_and_the_staff(client, taught, users, enrolled):
    task = add_material(add_module(taught), MaterialKind.TASK)
    learning.submit_answer(enrolled, task, "", (io.BytesIO(pdf_bytes()), "ответ.pdf"))
    answer = db.session.query(TaskAnswer).one()
    url = f"/courses/{taught.id}/answers/{answer.id}/file"
    classmate = make_user("classmate@example.org")
    enrol(taught, classmate)
    sign_in(client, classmate)
    assert client.get(url).status_code == 403
    sign_in(client, users["participant"])
    assert client.get(url).status_code == 200
    sign_in(client, users["trainer"])
    assert client.get(url).status_code == 200


def build_grid(course, participants: int, materials: int) -> None:
    """Participants part-way through: the n-th has completed its first n materials."""
    module = add_module(course)
    items = [
        add_material(module, MaterialKind.TASK if n % 4 == 3 else MaterialKind.PAGE)
        for n in range(materials)
    ]
    for number in range(participants):
        user = make_user(f"grid{course.id}-{number}@example.org")
        registration = enrol(course, user)
        for material in items[: number % (materials + 1)]:
            if material.kind == MaterialKind.TASK:
                db.session.add(
                    TaskAnswer(
                        registration_id=registration.id,
                        material_id=material.id,
                        text="ok",
                        status=AnswerStatus.ACCEPTED,
                    )
                )
            else:
                db.session.add(
                    MaterialProgress(
                        registration_id=registration.id, material_id=material.id, viewed_at=utcnow()
                    )
                )
    db.session.commit()


def test_the_progress_grid_runs_a_constant_number_of_queries(
    client, make_course, users, count_queries
):
    small, large = (
        make_course(title="Малый", capacity=None),
        make_course(title="Большой", capacity=None),
    )
    build_grid(small, 5, 4)
    build_grid(large, 30, 20)
    # The first visit records the completions reached, and each is told of its certificate
    # by a mail: a row per person, the outbox's cost, not the grid's.
    for each in (small, large):
        db.session.add(EventCertificates(event_id=each.id, enabled=False))
    db.session.commit()
    sign_in(client, users["organiser"])
    counts = []
    for course in (small, large):
        for url in (
            f"/manage/courses/{course.id}/progress",
            f"/manage/courses/{course.id}/progress.xlsx",
        ):
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts.append(counter.count)
    assert counts[:2] == counts[2:], counts


def test_the_progress_export_lists_every_participant(client, taught, users):
    build_grid(taught, 3, 4)
    sign_in(client, users["trainer"])
    response = client.get(f"/manage/courses/{taught.id}/progress.csv")
    rows = response.get_data(as_text=True).strip().splitlines()
    assert len(rows) == 4
    assert f"grid{taught.id}-2@example.org" in response.get_data(as_text=True)


def test_seats_cancel_closes_the_materials(client, taught, users, enrolled):
    page = add_material(add_module(taught))
    sign_in(client, users["participant"])
    assert client.get(f"/courses/{taught.id}/materials/{page.id}").status_code == 200
    seats.cancel(enrolled.id)
    assert client.get(f"/courses/{taught.id}/materials/{page.id}").status_code == 403


def test_only_the_courses_own_trainer_edits_its_materials(client, taught, users):
    module = add_module(taught)
    other = make_user("trainer2@example.org", Role.TRAINER)
    sign_in(client, other)
    assert client.get(f"/manage/modules/{module.id}").status_code == 403
    assert client.get(f"/manage/courses/{taught.id}/progress").status_code == 403
    assert client.get(f"/courses/{taught.id}/materials").status_code == 403


def test_the_course_page_and_my_learning_show_the_progress_bar(client, taught, users, enrolled):
    module = add_module(taught)
    page = add_material(module)
    add_material(module)
    learning.record_view(enrolled, page)
    sign_in(client, users["participant"])
    for url in (f"/courses/{taught.id}", "/my/learning"):
        assert 'data-percent="50"' in client.get(url).get_data(as_text=True), url


def test_demo_courses_get_every_kind_and_participants_part_way(make_course, users):
    from courses.demo_learning import add_demo_learning
    from courses.models import CourseCompletion

    course = make_course(capacity=None)
    people = [make_user(f"demo{n}@example.org") for n in range(9)]
    for person in people:
        enrol(course, person)
    add_demo_learning(random.Random(7), [course.id])
    kinds = {m.kind for module in learning.modules_of(course) for m in module.materials}
    assert kinds == set(MaterialKind)
    files = [m for m in db.session.query(Material) if m.has_file]
    assert {m.file_content_type for m in files} == {"application/pdf", "image/png"}
    grid = learning.progress_grid(course)
    percents = {grid.percent(r) for r in grid.registrations}
    assert 0 in percents and 100 in percents and len(percents) >= 3
    assert (
        db.session.query(CourseCompletion)
        .filter(CourseCompletion.completed_at.is_not(None))
        .count()
    )


def test_an_oversized_upload_gets_a_clear_message(app, client, taught, users):
    module = add_module(taught)
    sign_in(client, users["trainer"])
    before = stored_files(app)
    app.config["TROPA_MAX_UPLOAD_MB"] = 1
    data = {
        "kind": "file", "title": "Большой", "completion": "viewed",
        "file": (io.BytesIO(b"%PDF-" + b"0" * (2 * 1024 * 1024)), "big.pdf"),
    }  # fmt: skip
    try:
        response = client.post(
            f"/manage/modules/{module.id}/materials/new",
            data=data,
            content_type="multipart/form-data",
        )
    finally:
        app.config["TROPA_MAX_UPLOAD_MB"] = 50
    with force_locale("ru"):  # the users' language
        message = gettext("The file is larger than %(limit)s MB.", limit=1)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.query(Material).count() == 0
    assert stored_files(app) == before


def test_my_learning_lists_the_tasks_due_until_answered(client, taught, enrolled, users):
    """A task's deadline shows on My learning (overdue marked) and on the task, in the
    course's zone; an answer sent takes it off the list, a rework puts it back. The trainer
    sets it on the material's form."""
    module = add_module(taught)
    overdue = add_material(module, MaterialKind.TASK, title="Паспорт проекта")
    upcoming = add_material(module, MaterialKind.TASK, title="Бюджет проекта")
    add_material(module, MaterialKind.TASK, title="Без срока")
    sign_in(client, users["trainer"])
    for task, due in ((overdue, "2020-03-01T18:00"), (upcoming, "2099-03-01T18:00")):
        response = client.post(
            f"/manage/materials/{task.id}",
            data={"kind": "task", "title": task.title, "completion": "accepted", "due_at": due},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert upcoming.due_at.isoformat() == "2099-03-01T15:00:00+00:00"  # Moscow is UTC+3
    sign_in(client, users["participant"])
    page = client.get("/my/learning").get_data(as_text=True)
    assert "Задания к сроку" in page and "Без срока" not in page
    assert page.index("Паспорт проекта") < page.index("Бюджет проекта")  # soonest first
    assert "сдать до 1 марта, 18:00" in page and page.count("Просрочено") == 1
    task_page = client.get(f"/courses/{taught.id}/materials/{upcoming.id}").get_data(as_text=True)
    assert "Сдать до 1 марта, 18:00" in task_page
    answer = learning.submit_answer(enrolled, overdue, "Проблема, решение, шаги.", None)
    db.session.commit()
    assert "Паспорт проекта" not in client.get("/my/learning").get_data(as_text=True)
    learning.review_answer(answer, users["trainer"], AnswerStatus.NEEDS_REWORK, "Дополните")
    db.session.commit()
    assert "Паспорт проекта" in client.get("/my/learning").get_data(as_text=True)
