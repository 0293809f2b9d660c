"""Dates outside 2000–2100 and numbers too long to compare are form errors, never a 500
(year 1 in a datetime field used to overflow when moved to UTC)."""

import pytest
from sqlalchemy import select

from events.models import Event
from tests.conftest import login
from tests.test_events_manage import event_form
from webapp.extensions import db

OUT_OF_RANGE = "Choose a date from 2000 to 2100."


@pytest.fixture
def organiser(client, users):
    login(client, users["organiser"])
    client.get("/lang/en")
    return users["organiser"]


@pytest.mark.parametrize("field", ["starts_at", "ends_at", "registration_opens_at"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:59"])
def test_a_new_event_in_an_odd_year_is_a_form_error(client, organiser, field, value):
    changes = {field: value}
    if field == "starts_at":
        changes["ends_at"] = value.replace("00:00", "01:00").replace("23:59", "23:59")
    response = client.post("/manage/events/new", data=event_form(**changes))

    assert response.status_code == 200
    assert OUT_OF_RANGE in response.get_data(as_text=True)
    assert db.session.scalars(select(Event)).first() is None


def test_editing_an_event_into_year_1_is_a_form_error(client, organiser):
    assert client.post("/manage/events/new", data=event_form()).status_code == 302
    event_id = db.session.scalars(select(Event.id)).one()

    response = client.post(
        f"/manage/events/{event_id}",
        data=event_form(starts_at="0001-01-01T00:00", ends_at="0001-01-01T02:00"),
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in response.get_data(as_text=True)


def test_a_course_session_in_year_9999_is_a_form_error(client, organiser, course):
    response = client.post(
        f"/manage/courses/{course.id}/sessions",
        data={"date": "9999-12-31", "starts": "10:00", "ends": "12:00", "room": "1"},
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in response.get_data(as_text=True)


def test_a_number_too_long_to_compare_is_a_form_error(client, organiser):
    response = client.post("/manage/events/new", data=event_form(capacity="9" * 400))

    assert response.status_code == 200
    assert "Not a valid integer value." in response.get_data(as_text=True)


def test_date_pickers_offer_only_the_allowed_years(client, organiser):
    page = client.get("/manage/events/new").get_data(as_text=True)

    assert 'min="2000-01-01T00:00"' in page and 'max="2100-12-31T23:59"' in page


def test_a_nul_character_is_refused_with_a_message(client, organiser):
    response = client.post("/manage/events/new", data=event_form(title="Форум\x00"))

    assert response.status_code == 400
    assert "cannot be saved (NUL)" in response.get_data(as_text=True)
    assert db.session.scalars(select(Event)).first() is None
    assert client.get("/courses/?q=a%00b").status_code == 400
