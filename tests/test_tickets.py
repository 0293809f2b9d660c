"""Tickets at /t/<secret>: the page, its QR code as PNG, SVG and a printable PDF (decoded
with a standard reader), the calendar file, cancelling, and unknown secrets."""

import io
from datetime import timedelta

import icalendar
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from events.models import Registration, RegistrationStatus
from events.services import seats
from events.services.checkin import secret_from_scan
from tests.events_support import (
    decode,
    decode_png,
    make_event,
    pdf_page_images,
    register,
    secret_from,
    svg_to_image,
)
from webapp.extensions import db
from webapp.types import utcnow

BASE_URL = "http://tropa.test"  # TROPA_BASE_URL of the test app


def registrations_of(event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
        )
    )


@pytest.fixture
def english(client):
    client.get("/lang/en")
    return client


@pytest.fixture
def ticket(english):
    """A guest's confirmed ticket for a two-session event: (client, event, secret)."""
    event = make_event("Форум «Добрые соседи»", sessions=2)
    secret = secret_from(register(english, event, full_name="Кузнецова Ольга Петровна"))
    return english, event, secret


def test_the_ticket_page_shows_status_qr_code_event_and_sessions(ticket):
    client, event, secret = ticket
    response = client.get(f"/t/{secret}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Кузнецова Ольга Петровна" in page and "Форум «Добрые соседи»" in page
    assert 'data-status="confirmed"' in page
    assert "<svg" in page and "<path" in page  # the QR code, inline and vector
    assert "Зал 1" in page and "Зал 2" in page and "Конгресс-центр" in page
    assert "Times are in Moscow time (UTC+3)." in page
    assert "Europe/Moscow" not in page
    for link in ("qr.png", "qr.svg", "ticket.pdf", "calendar.ics", "cancel"):
        assert f"/t/{secret}/{link}" in page


def test_ticket_pages_are_not_indexed_and_send_no_referrer(ticket):
    client, _event, secret = ticket
    for suffix in ("", "/qr.png", "/qr.svg", "/ticket.pdf", "/calendar.ics", "/cancel"):
        response = client.get(f"/t/{secret}{suffix}")
        assert response.status_code == 200, suffix
        assert "noindex" in response.headers["X-Robots-Tag"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
    unknown = client.get("/t/" + "0" * 26)
    assert "noindex" in unknown.headers["X-Robots-Tag"]


def test_the_png_and_svg_codes_decode_to_the_ticket_url(ticket):
    client, _event, secret = ticket
    url = f"{BASE_URL}/t/{secret}"
    png = client.get(f"/t/{secret}/qr.png")
    assert png.mimetype == "image/png"
    assert decode_png(png.data) == [url]

    svg = client.get(f"/t/{secret}/qr.svg")
    assert svg.mimetype == "image/svg+xml"
    assert decode(svg_to_image(svg.get_data(as_text=True))) == [url]
    # The page's inline code is the same picture.
    page = client.get(f"/t/{secret}").get_data(as_text=True)
    inline = page[page.index("<svg") : page.index("</svg>") + 6]
    assert decode(svg_to_image(inline)) == [url]
    # What the door scanner takes from it is the secret.
    assert secret_from_scan(url) == secret


def test_the_pdf_is_one_a4_page_with_the_person_the_event_and_a_code_that_decodes(ticket):
    client, event, secret = ticket
    response = client.get(f"/t/{secret}/ticket.pdf")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    for expected in ("Кузнецова Ольга Петровна", "Форум «Добрые соседи»", "Confirmed", secret):
        assert expected in text
    fonts = {
        str(font.get("/BaseFont"))
        for font in reader.pages[0]["/Resources"]["/Font"].values()
        if font.get_object()
    }
    assert any("DejaVuSans" in name for name in fonts), fonts  # the bundled Cyrillic font
    [page] = pdf_page_images(response.data)
    assert decode(page) == [f"{BASE_URL}/t/{secret}"]


def test_the_pdf_shows_a_waiting_list_place(english):
    event = make_event(capacity=1)
    register(english, event, email="first@example.org")
    second = english.application.test_client()
    second.get("/lang/en")
    secret = secret_from(register(second, event, email="second@example.org"))
    text = PdfReader(io.BytesIO(second.get(f"/t/{secret}/ticket.pdf").data)).pages[0]
    assert "Waiting list, number 1" in text.extract_text()


def test_the_calendar_has_one_event_per_session_in_the_events_zone(ticket):
    client, event, secret = ticket
    response = client.get(f"/t/{secret}/calendar.ics")
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.data)
    entries = list(calendar.walk("VEVENT"))
    assert len(entries) == 2
    for entry, session in zip(entries, event.sessions, strict=True):
        assert str(entry["UID"]) == f"session-{session.id}@tropa.test"
        assert entry["DTSTART"].params["TZID"] == "Europe/Moscow"
        assert entry.decoded("DTSTART") == session.starts_at
        assert entry.decoded("DTEND") == session.ends_at
        assert str(entry["SUMMARY"]).startswith("Форум «Добрые соседи»")
        assert "Конгресс-центр" in str(entry["LOCATION"])
        assert str(entry["URL"]) == f"{BASE_URL}/t/{secret}"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]


def test_cancelling_asks_first_then_frees_the_place(ticket):
    client, event, secret = ticket
    confirm = client.get(f"/t/{secret}/cancel")
    assert "Yes, cancel it" in confirm.get_data(as_text=True)
    [registration] = registrations_of(event)
    assert registration.status == RegistrationStatus.CONFIRMED
    response = client.post(f"/t/{secret}/cancel")
    assert response.headers["Location"].endswith(f"/t/{secret}")
    page = client.get(f"/t/{secret}").get_data(as_text=True)
    assert 'data-status="cancelled"' in page and "Your registration is cancelled." in page
    assert "/cancel" not in page and "<svg" not in page
    # A second cancel (another tab) changes nothing and explains.
    again = client.post(f"/t/{secret}/cancel", follow_redirects=True)
    assert "cannot be cancelled any more" in again.get_data(as_text=True)


def test_a_past_event_cannot_be_cancelled_from_the_ticket(english):
    event = make_event(starts_in=timedelta(days=1))
    secret = secret_from(register(english, event))
    for session in event.sessions:
        session.starts_at -= timedelta(days=10)
        session.ends_at -= timedelta(days=10)
    db.session.commit()
    assert "/cancel" not in english.get(f"/t/{secret}").get_data(as_text=True)
    english.post(f"/t/{secret}/cancel")
    assert registrations_of(event)[0].status == RegistrationStatus.CONFIRMED


def test_a_cancelled_event_says_so_on_the_ticket_and_in_the_calendar(ticket):
    client, event, secret = ticket
    event.cancelled_at = utcnow()
    db.session.commit()
    assert "The event is cancelled." in client.get(f"/t/{secret}").get_data(as_text=True)
    calendar = icalendar.Calendar.from_ical(client.get(f"/t/{secret}/calendar.ics").data)
    assert {str(entry["STATUS"]) for entry in calendar.walk("VEVENT")} == {"CANCELLED"}


def test_an_online_link_is_on_a_confirmed_ticket(english):
    event = make_event(online_url="https://meet.example.org/forum", venue=None, address=None)
    secret = secret_from(register(english, event))
    assert "https://meet.example.org/forum" in english.get(f"/t/{secret}").get_data(as_text=True)


def tampered(secret: str) -> str:
    swap = "1" if secret[5] != "1" else "2"
    return secret[:5] + swap + secret[6:]


@pytest.mark.parametrize("suffix", ["", "/qr.png", "/qr.svg", "/ticket.pdf", "/calendar.ics"])
def test_an_unknown_or_tampered_secret_is_a_friendly_404(ticket, suffix):
    client, _event, secret = ticket
    for bad in (
        tampered(secret),
        secret[:-1],
        secret + "0",
        "I" * 26,  # letters outside the alphabet
        "x" * 500,
        "%00",
        "..%2F..%2Fetc",
        "' OR 1=1 --",
    ):
        response = client.get(f"/t/{bad}{suffix}")
        assert response.status_code == 404, (bad, suffix)
    page = client.get(f"/t/{tampered(secret)}").get_data(as_text=True)
    assert "Ticket not found" in page


def test_cancel_of_an_unknown_ticket_is_a_404(ticket):
    client, _event, secret = ticket
    assert client.post(f"/t/{tampered(secret)}/cancel").status_code == 404


def test_a_secret_typed_in_capitals_still_opens_the_ticket(ticket):
    client, _event, secret = ticket
    assert client.get(f"/t/{secret.upper()}").status_code == 200


def test_the_waiting_list_position_follows_promotions(english, app_ctx):
    event = make_event(capacity=1)
    people = [
        seats.register(event.id, full_name=f"Гость {n}", email=f"g{n}@example.org").registration
        for n in range(4)
    ]
    page = english.get(f"/t/{people[3].ticket_secret}").get_data(as_text=True)
    assert 'data-position="3"' in page
    seats.cancel(people[0].id)
    page = english.get(f"/t/{people[3].ticket_secret}").get_data(as_text=True)
    assert 'data-position="2"' in page
