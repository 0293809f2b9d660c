"""The organisers' tools in Chromium at desktop and phone width: the registrant list of 160
people (sorting, picking, a bulk action, answers folded out), the events list's filters and
share link, repeating sessions, and the admin's outbox. Screenshots go to SHOTS_DIR.

Pages are read in English (/lang/en): the assertions read the msgids."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from events.models import Registration, RegistrationStatus, Session
from tests.browser.support import PHONE, page_width
from tests.browser.support import sign_in as sign_in_as
from tests.events_support import make_event
from tests.test_registrants import fill
from tests.test_registrants import make_event as make_event_with_questions
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import OutboxStatus

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def sign_in(page: Page, user) -> None:
    sign_in_as(page, user)
    page.goto("/lang/en")


def fits(page: Page, width: int) -> None:
    assert page_width(page) <= width


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_an_organiser_sorts_picks_and_cancels_on_a_list_of_160(open_page, users, shots_dir, screen):
    event = make_event_with_questions(capacity=200)
    fill(event, 160)
    page = open_page(**(DESKTOP if screen == "desktop" else PHONE))
    sign_in(page, users["organiser"])
    page.goto(f"/manage/events/{event.id}/registrants")
    expect(page.locator("#registrants tbody tr")).to_have_count(50)

    page.get_by_role("link", name="Full name").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Full name")
    first = page.locator("#registrants tbody tr").first
    expect(first).to_contain_text("Гость guest 0")
    first.locator("summary").click()
    expect(first.locator("details")).to_contain_text("Гранты")

    boxes = page.locator('#registrants tbody input[name="ids"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(page.locator("#picked-count")).to_have_text("Picked: 2")
    page.select_option("#action", "cancel")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#bulk button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("Cancel: done for 2 people")
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Full name")  # kept

    page.locator("#pick-all").check()
    expect(page.locator("#picked-count")).to_have_text("Picked: 50")
    if screen == "phone":
        fits(page, 360)
    page.screenshot(path=str(shots_dir / f"registrants-bulk-{screen}.png"), full_page=True)
    db.session.commit()
    cancelled = db.session.scalars(
        select(Registration.full_name).where(Registration.status == RegistrationStatus.CANCELLED)
    ).all()
    assert sorted(cancelled) == ["Гость guest 0", "Гость guest 1"]


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_a_guest_filters_the_events_and_copies_the_link(open_page, app_ctx, shots_dir, screen):
    make_event("Форум НКО", starts_in=timedelta(days=3), municipality="Великий Новгород")
    make_event(
        "Вебинар о грантах",
        starts_in=timedelta(days=9),
        venue=None,
        address=None,
        online_url="https://meet.example.org/w",
    )
    page = open_page(**(DESKTOP if screen == "desktop" else PHONE))
    page.goto("/lang/en")
    page.goto("/events/")
    expect(page.locator(".event-card")).to_have_count(2)
    page.select_option("#format", "online")
    page.get_by_role("button", name="Find").click()
    expect(page.locator(".event-card")).to_have_count(1)
    expect(page.locator(".event-card")).to_contain_text("Вебинар о грантах")
    assert page.input_value("#share-url").endswith("/events/?format=online")
    page.fill("#q", "форум")
    page.select_option("#format", "")
    page.select_option("#municipality", "Великий Новгород")
    page.get_by_role("button", name="Find").click()
    expect(page.locator(".event-card")).to_have_count(1)
    expect(page.locator(".event-card")).to_contain_text("Форум НКО")
    expect(page.get_by_role("button", name="Copy the event's link")).to_be_visible()
    if screen == "phone":
        fits(page, 360)
    page.screenshot(path=str(shots_dir / f"events-filters-{screen}.png"), full_page=True)


def test_an_organiser_adds_five_tuesdays_on_a_phone(open_page, users, make_course, shots_dir):
    course = make_course(sessions=0)
    page = open_page(**PHONE)
    sign_in(page, users["organiser"])
    page.goto(f"/manage/courses/{course.id}/sessions")
    page.fill("#date", "2030-10-15")
    page.fill("#starts", "18:00")
    page.fill("#ends", "19:30")
    page.select_option("#repeat", "times")
    page.fill("#repeat_count", "5")
    fits(page, 360)
    page.screenshot(path=str(shots_dir / "repeat-sessions-form-phone.png"), full_page=True)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".alert")).to_contain_text("Sessions added: 5.")
    db.session.commit()
    assert len(db.session.scalars(select(Session).where(Session.event_id == course.id)).all()) == 5
    page.screenshot(path=str(shots_dir / "repeat-sessions-added-phone.png"), full_page=True)


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_an_admin_finds_a_failed_message_and_sends_it_again(open_page, users, shots_dir, screen):
    row = send_mail(
        "anna@example.org", "Сброс пароля", "mail/password_reset", user={"full_name": "А"}, link=""
    )
    row.status, row.attempts, row.last_error = OutboxStatus.FAILED, 5, "550 mailbox unavailable"
    send_mail(
        "boris@example.org", "Другое", "mail/password_reset", user={"full_name": "Б"}, link=""
    )
    db.session.commit()
    page = open_page(**(DESKTOP if screen == "desktop" else PHONE))
    sign_in_as(page, users["admin"])  # in Russian: the page must speak it
    page.goto("/admin/outbox")
    expect(page.locator("main")).to_contain_text("Не отправлено")
    page.fill("input[name=q]", "anna")
    page.locator("main form[role=search] button").click()
    expect(page.locator("main tbody tr")).to_have_count(1)
    if screen == "phone":
        fits(page, 360)
    page.screenshot(path=str(shots_dir / f"outbox-{screen}.png"), full_page=True)
    page.get_by_role("link", name="Сброс пароля").click()
    page.get_by_role("button", name="Отправить ещё раз").click()
    expect(page.locator(".alert-success")).to_contain_text("снова в очереди")
    expect(page.locator("main dl")).to_contain_text("В очереди")
