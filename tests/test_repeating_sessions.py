"""Repeating sessions on the session forms of courses and events: weekly × N or until a
date, one unit of work, the same local time on every date across summer-time changes."""

from datetime import UTC, datetime

from sqlalchemy import select

from events.models import Session
from tests.conftest import login
from tests.events_support import make_event
from webapp.extensions import db


def sessions_of(event_id: int) -> list[Session]:
    return list(
        db.session.scalars(
            select(Session).where(Session.event_id == event_id).order_by(Session.starts_at)
        )
    )


def local(session: Session, zone) -> str:
    return session.starts_at.astimezone(zone).strftime("%a %d.%m %H:%M")


def test_a_course_of_four_tuesdays_across_the_autumn_clock_change(client, users, make_course):
    course = make_course(sessions=0)
    course.timezone = "Europe/Berlin"
    db.session.commit()
    login(client, users["organiser"])
    response = client.post(
        f"/manage/courses/{course.id}/sessions",
        data={
            "date": "2030-10-15",
            "starts": "18:00",
            "ends": "19:30",
            "room": "Зал 2",
            "repeat": "times",
            "repeat_count": "4",
        },  # fmt: skip
    )
    assert response.status_code == 302
    added = sessions_of(course.id)
    assert [local(s, course.tz) for s in added] == [
        "Tue 15.10 18:00",
        "Tue 22.10 18:00",
        "Tue 29.10 18:00",  # Berlin left summer time on the 27th
        "Tue 05.11 18:00",
    ]
    assert [s.starts_at.astimezone(UTC).hour for s in added] == [16, 16, 17, 17]
    assert all(s.room == "Зал 2" for s in added)
    assert all((s.ends_at - s.starts_at).total_seconds() == 5400 for s in added)


def test_an_agenda_item_weekly_until_a_date_across_the_spring_clock_change(client, users):
    event = make_event(sessions=1, timezone="Europe/Berlin")
    login(client, users["organiser"])
    response = client.post(
        f"/manage/events/{event.id}/sessions",
        data={
            "date": "2030-03-19",
            "starts": "10:00",
            "ends": "12:00",
            "room": "Клуб",
            "repeat": "until",
            "repeat_until": "2030-04-09",
        },  # fmt: skip
    )
    assert response.status_code == 302
    series = [s for s in sessions_of(event.id) if s.room == "Клуб"]
    assert [local(s, event.tz) for s in series] == [
        "Tue 19.03 10:00",
        "Tue 26.03 10:00",
        "Tue 02.04 10:00",  # summer time since the 31st
        "Tue 09.04 10:00",
    ]
    assert series[1].starts_at == datetime(2030, 3, 26, 9, 0, tzinfo=UTC)
    assert series[2].starts_at == datetime(2030, 4, 2, 8, 0, tzinfo=UTC)


def test_bad_repeats_are_refused_on_the_form_and_add_nothing(client, users, make_course):
    course = make_course(sessions=0)
    login(client, users["organiser"])
    client.get("/lang/en")
    url = f"/manage/courses/{course.id}/sessions"
    base = {"date": "2030-10-15", "starts": "18:00", "ends": "19:30"}
    cases = [
        ({"repeat": "times"}, "How many sessions?"),
        ({"repeat": "times", "repeat_count": "60"}, "between 2 and 52"),
        ({"repeat": "until"}, "Until which date?"),
        ({"repeat": "until", "repeat_until": "2030-10-01"}, "on or after the first session"),
        ({"repeat": "until", "repeat_until": "2032-10-01"}, "At most 52 sessions at once."),
    ]
    for extra, message in cases:
        response = client.post(url, data={**base, **extra})
        assert response.status_code == 200, extra
        assert message in response.get_data(as_text=True), extra
    assert sessions_of(course.id) == []


def test_once_still_adds_one_session(client, users, make_course):
    course = make_course(sessions=0)
    login(client, users["organiser"])
    client.post(
        f"/manage/courses/{course.id}/sessions",
        data={"date": "2030-10-15", "starts": "18:00", "ends": "19:30", "repeat": ""},
    )
    assert len(sessions_of(course.id)) == 1
