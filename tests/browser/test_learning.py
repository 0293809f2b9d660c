"""A participant studies on a phone: opens a page, marks a checklist done, answers a task;
the progress bar moves, and moves again once the trainer accepts the answer."""

import pytest
from playwright.sync_api import Page, expect

from courses.models import AnswerStatus, CompletionRule, MaterialKind, TaskAnswer
from courses.services import materials as learning
from tests.browser.support import PHONE, page_width, sign_in
from tests.materials_support import add_material, add_module, enrol
from webapp.extensions import db

pytestmark = pytest.mark.browser


def progress_of(page: Page) -> str:
    return page.locator("main .progress").first.get_attribute("data-percent")


def test_a_participant_works_through_a_module_on_a_phone(open_page, course, users, shots_dir):
    module = add_module(course, title="1. Аудит проекта")
    add_material(module, title="Что такое аудит", body="Проверьте **цель** проекта.")
    add_material(
        module, title="Чек-лист", body="- цель\n- ресурсы", completion=CompletionRule.MARKED_DONE
    )
    add_material(module, MaterialKind.TASK, title="Паспорт проекта", body="Опишите проект.")
    enrol(course, users["participant"])
    page = open_page(**PHONE)
    sign_in(page, users["participant"])

    page.goto(f"/courses/{course.id}")
    page.locator(f"a[href='/courses/{course.id}/materials']").first.click()
    assert progress_of(page) == "0"

    page.get_by_role("link", name="Что такое аудит").click()
    expect(page.locator(".material-body strong")).to_have_text("цель")
    expect(page.locator("#completion-rule")).to_contain_text("Засчитывается, когда вы его открыли")
    expect(page.locator("#material-next")).to_contain_text("Дальше: Чек-лист")
    expect(page.locator("#material-prev")).to_have_count(0)  # the first material
    assert "<" not in page.title(), page.title()  # no markup in <title>
    page.go_back()
    page.reload()
    assert progress_of(page) == "33"

    page.get_by_role("link", name="Чек-лист").click()
    expect(page.locator("#completion-rule")).to_contain_text("«Отметить как выполненное»")
    expect(page.locator("#material-prev")).to_contain_text("Назад: Что такое аудит")
    page.click("#mark-done")
    page.goto(f"/courses/{course.id}/materials")
    assert progress_of(page) == "67"

    expect(page.locator("#completion-rule")).to_contain_text("У каждого написано")
    page.get_by_role("link", name="Паспорт проекта").click()
    expect(page.locator("#completion-rule")).to_contain_text("тренер принял ваш ответ")
    page.fill("#text", "Проблема, решение, первые шаги.")
    page.click("#send-answer")
    expect(page.locator("#answer-status")).to_be_visible()
    expect(page.locator("#send-answer")).to_have_count(0)  # no second answer while pending
    assert page_width(page) <= 360
    page.screenshot(path=str(shots_dir / "learning-task-360.png"), full_page=True)

    db.session.commit()  # end the test's read snapshot: see what the server wrote
    answer = db.session.query(TaskAnswer).one()
    learning.review_answer(answer, users["trainer"], AnswerStatus.ACCEPTED, "Принято")
    db.session.commit()
    page.goto(f"/courses/{course.id}/materials")
    assert progress_of(page) == "100"
    page.goto(f"/courses/{course.id}")
    assert progress_of(page) == "100"
