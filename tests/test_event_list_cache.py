"""The public events list keeps its rendered pages a few seconds per process
(events.views.public): a change shows once they expire, and nobody sees another person's
parts of the page, or another language."""

import pytest

from events.services import seats
from events.views.public import LIST_CACHE_SECONDS
from tests.conftest import login
from tests.events_support import make_event
from webapp import caching


def event_list(client, query: str = "") -> str:
    response = client.get(f"/events/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def clock(monkeypatch):
    """Moves the caches' clock forward: `clock(seconds)`."""
    now = [caching.time.monotonic()]
    monkeypatch.setattr(caching.time, "monotonic", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def test_a_registration_shows_once_the_kept_page_expires(english, clock):
    event = make_event(capacity=10)
    assert "Places left: 10 of 10" in event_list(english)
    seats.register(event.id, full_name="Гость", email="guest@example.org")

    assert "Places left: 10 of 10" in event_list(english)  # the kept page, seconds old
    clock(LIST_CACHE_SECONDS)
    assert "Places left: 9 of 10" in event_list(english)


def test_nobody_sees_another_persons_parts_of_the_list_or_language(app_ctx, users):
    make_event("Общий форум")
    anna, guest, english_guest = (app_ctx.test_client() for _ in range(3))
    login(anna, users["participant"])
    anna.get("/lang/en")
    english_guest.get("/lang/en")

    annas = event_list(anna)  # first: her page is the one built
    guests, english_guests = event_list(guest), event_list(english_guest)

    assert all("Общий форум" in page for page in (annas, guests, english_guests))
    assert "Анна Смирнова" in annas and "My learning" in annas
    for page in guests, english_guests:
        assert "Анна" not in page and "csrf_token" not in page
    assert "Войти" in guests and "Ближайшие" in guests
    assert "Sign in" in english_guests and "Upcoming" in english_guests
