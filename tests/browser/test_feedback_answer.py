"""After the forum ends, an attendee gets the feedback invitation through a real SMTP server
on loopback, answers on a phone, and the organiser sees the response rate move and the
charts drawn from the app's own Chart.js."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from events.models import AttendanceStatus
from events.services import seats
from feedback import services
from tests.browser.support import PHONE, page_width, sign_in
from tests.mail_support import CollectingHandler, smtp_server, use_smtp
from tests.outcomes_support import end_sessions, make_form, mark
from tests.test_feedback import forum
from webapp import outbox

pytestmark = pytest.mark.browser


def test_an_attendee_answers_by_mail_on_a_phone(app, open_page, users, monkeypatch, shots_dir):
    event = forum()
    people = [("Мария Гостева", "maria@example.org"), ("Пётр Гостев", "petr@example.org")]
    attendees = [
        seats.register(event.id, full_name=name, email=email).registration for name, email in people
    ]
    for registration in attendees:
        mark(registration, event.sessions[0], AttendanceStatus.PRESENT)
    form = make_form(event, users["organiser"], template="session_satisfaction")
    end_sessions(event)

    handler = CollectingHandler()
    with smtp_server(handler) as server:
        use_smtp(app, monkeypatch, server.port)
        assert services.invite_attendees() == 2  # the worker's tick queues the mail
        report = outbox.send_due()  # the worker's sender delivers it
    assert report.sent == 2
    (mail,) = [m for m in handler.messages if m["To"] == "maria@example.org"]
    link = re.search(r"https?://\S+/f/\w+", mail.get_body(("plain",)).get_content()).group(0)

    organiser = open_page()
    sign_in(organiser, users["organiser"])
    organiser.goto(f"/feedback/{form.id}/results")
    expect(organiser.locator("#response-counts")).to_contain_text("0")
    expect(organiser.locator("#response-rate")).to_have_text(re.compile(r"^0\s?%$"))

    phone = open_page(**PHONE)
    phone.goto(urlsplit(link).path)
    expect(phone.locator("h1")).to_have_text(form.title)
    assert page_width(phone) <= 360
    overall, useful, clear, pace, improve = form.questions
    phone.locator(f"label[for=q{overall.id}-5]").click()
    phone.locator(f"label[for=q{useful.id}-4]").click()
    phone.locator(f"label[for=q{clear.id}-5]").click()
    phone.locator(f"label[for=q{pace.id}-2]").click()  # "just right"
    phone.fill(f"#q{improve.id}", "Больше практики, пожалуйста")
    phone.screenshot(path=str(shots_dir / "feedback-answer-phone.png"), full_page=True)
    phone.locator("#feedback-form button[type=submit]").click()
    expect(phone.locator("#answered")).to_be_visible()
    expect(phone.locator(f"#q{overall.id}-5")).to_be_checked()  # editable: the answer shows

    organiser.reload()
    expect(organiser.locator("#response-rate")).to_have_text(re.compile(r"^50\s?%$"))
    organiser.wait_for_function(f"window.Chart && Chart.getChart('chart-{overall.id}')")
    expect(organiser.locator(".free-text")).to_contain_text("Больше практики, пожалуйста")
    organiser.screenshot(path=str(shots_dir / "feedback-results.png"), full_page=True)
