"""A newcomer's first visit in Chromium: sign up, fill the profile, find a course, enrol.

Elements are found by id, name, role or link target, not by wording; where wording is the
point (an error message, a confirmation), the expected text is the Russian translation of
the message, taken from the app's catalogue, so the test also proves it is translated.
"""

import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.support import page_width
from webapp.extensions import db
from webapp.models import User
from webapp.services import with_check_digits

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def russian(msgid: str) -> str:
    """The message as a Russian reader sees it, from the app's catalogue."""
    with force_locale("ru"):
        text = _(msgid)
    assert CYRILLIC.search(text), f"not translated into Russian yet: {msgid!r}"
    return text


def sign_up(page: Page, full_name: str, email: str) -> None:
    page.goto("/signup")
    page.fill("#full_name", full_name)
    page.fill("#email", email)
    page.fill("#password", "tropinka-2026")
    page.fill("#password_repeat", "tropinka-2026")
    page.check("#consent")
    page.locator("main form button[type=submit]").click()


def submit_main_form(page: Page) -> None:
    page.locator("main form[method=post] button[type=submit]").first.click()


def test_sign_up_fill_profile_find_a_course_and_enrol(open_page, make_course, shots_dir):
    course = make_course(title="Аудит социального проекта")
    other = make_course(title="Маркетинг для НКО", description="Продвижение в соцсетях.")
    page = open_page(viewport={"width": 1280, "height": 900})

    sign_up(page, "Мария Тропинина", "maria@example.org")
    expect(page).to_have_url(re.compile(r"/profile$"))

    page.fill("#phone", "+7 911 600-12-34")
    page.select_option("#municipality", "Великий Новгород")
    page.select_option("#organisation_type", "sonko")
    page.fill("#organisation_name", "АНО «Тропинка»")
    valid_inn = with_check_digits("532100123")
    wrong_inn = valid_inn[:-1] + str((int(valid_inn[-1]) + 1) % 10)
    page.fill("#inn", wrong_inn)
    submit_main_form(page)
    expect(page.locator("#inn")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#inn ~ .invalid-feedback")).to_have_text(
        russian("The check digit does not match: please check the INN.")
    )

    page.fill("#inn", valid_inn)
    submit_main_form(page)
    expect(page.locator(".is-invalid")).to_have_count(0)  # saved, and the page reloaded
    user = db.session.scalar(select(User).where(User.email == "maria@example.org"))
    assert user.profile_complete and user.organisation.inn == valid_inn

    page.locator('nav a[href="/courses/"]').click()
    page.fill("#q", "АУДИТ")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.get_by_role("link", name=other.title)).to_have_count(0)
    page.get_by_role("link", name=course.title).click()
    expect(page).to_have_url(re.compile(rf"/courses/{course.id}$"))

    page.locator("#enrol").click()
    confirmation = russian("You are enrolled. See you at the first session!")
    expect(page.get_by_role("alert").filter(has_text=confirmation)).to_be_visible()
    page.screenshot(path=shots_dir / "course-page.png", full_page=True)

    page.locator('nav a[href="/my/learning"]').click()
    enrolled = page.locator(".list-group-item", has_text=course.title)
    expect(enrolled).to_contain_text(russian("Enrolled"))


def test_catalogue_on_a_phone(open_page, make_course, shots_dir):
    course = make_course(title="Аудит социального проекта")
    other = make_course(
        title="Маркетинг для НКО: продвижение в социальных сетях и СМИ",
        description="Как рассказать о проекте.",
    )
    page = open_page(**PHONE)
    page.goto("/")

    # The menu folds into the toggler and unfolds on a tap.
    menu = page.locator("#nav")
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    toggler.tap()
    catalogue_link = menu.locator('a[href="/courses/"]')
    expect(catalogue_link).to_be_visible()
    catalogue_link.tap()

    expect(page).to_have_url(re.compile(r"/courses/$"))
    page.wait_for_load_state("load")  # measured with the stylesheets applied, not before
    assert page_width(page) <= 360
    page.fill("#q", "аудит")
    page.locator("form[role=search] button[type=submit]").tap()
    expect(page.get_by_role("link", name=other.title)).to_have_count(0)
    card_link = page.get_by_role("link", name=course.title)
    expect(card_link).to_be_visible()
    assert page_width(page) <= 360
    page.screenshot(path=shots_dir / "catalogue-phone.png", full_page=True)

    card_link.tap()
    expect(page.locator("h1")).to_have_text(course.title)
    assert page_width(page) <= 360
