"""An organiser walks a project from level 1 to level 2 in Chromium: ticks the level's
steps, is refused a jump over level 2 without confirming it, records the move with a
comment, and sees the project in the board's level-2 column."""

import pytest
from playwright.sync_api import expect

from projects.models import Project
from tests.browser.support import PHONE, page_width, sign_in
from tests.projects_support import add_overdue_milestone, give_organisation, make_project
from webapp.extensions import db

pytestmark = pytest.mark.browser


def test_an_organiser_moves_a_project_from_level_1_to_level_2(open_page, users, course, shots_dir):
    give_organisation(users["participant"])
    project = make_project(users["participant"], course.programme, title="Семейная гостиная")
    add_overdue_milestone(project)
    project_id = project.id
    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, users["organiser"])

    page.goto("/projects/board")
    expect(page.locator(f"#level-1 [data-project='{project_id}']")).to_be_visible()
    expect(page.locator(f"#level-1 [data-project='{project_id}'] .text-danger")).to_be_visible()
    page.locator(f"[data-project='{project_id}']").click()

    level_one = page.locator(".level-card[data-level='1']")
    expect(level_one).to_have_attribute("aria-current", "step")
    expect(page.locator(".milestone-overdue")).to_have_count(1)
    for _number in range(3):  # each tick reloads the page: tick the first step still open
        level_one.locator(".step[data-done='0'] button.tick").first.click()
        page.wait_for_load_state()
    expect(level_one).to_have_attribute("data-done", "3")
    expect(level_one.locator(".progress-bar")).to_have_attribute("style", "width: 100%")

    page.click("#change-level")
    page.select_option("#to_level", "3")
    page.fill("#comment", "Сильная команда")
    page.click("#save-level")
    expect(page.locator("#confirm_skip ~ .invalid-feedback")).to_be_visible()

    page.select_option("#to_level", "2")
    page.fill("#comment", "Аудит и траектория готовы, первое обучение пройдено.")
    page.click("#save-level")
    page.wait_for_url(f"**/projects/{project_id}")
    expect(page.locator(".level-card[data-level='2']")).to_have_attribute("aria-current", "step")
    expect(page.locator("#decisions + ul")).to_contain_text("Аудит и траектория готовы")
    page.screenshot(path=str(shots_dir / "project-level-2.png"), full_page=True)

    page.goto("/projects/board")
    expect(page.locator(f"#level-2 [data-project='{project_id}']")).to_be_visible()
    expect(page.locator(f"#level-1 [data-project='{project_id}']")).to_have_count(0)
    db.session.commit()  # end the test's read snapshot: see what the server wrote
    assert db.session.get(Project, project_id).level == 2

    # The same pages on a phone: nothing wider than the screen.
    phone = open_page(**PHONE)
    sign_in(phone, users["organiser"])
    for url in (f"/projects/{project_id}", "/projects/board"):
        phone.goto(url)
        assert page_width(phone) <= 360, url
    phone.goto(f"/projects/{project_id}")
    phone.screenshot(path=str(shots_dir / "project-360.png"), full_page=True)
