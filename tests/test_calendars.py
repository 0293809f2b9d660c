"""Calendar files and feeds: what real clients need (UID, DTSTAMP, SEQUENCE, cancelled
sessions kept, TZID with its VTIMEZONE, location, URL, online link), HTTP caching, and the
personal feed's token. Every file is read by two independent parsers: icalendar and
vobject."""

from datetime import timedelta

import icalendar
import vobject

from courses.models import Course
from events.models import Registration, RegistrationStatus, Session
from events.services import calendars, editing, seats
from tests.conftest import login, make_user
from tests.events_support import make_event
from webapp.extensions import db
from webapp.models import Role


def parse(body: bytes) -> tuple[icalendar.Calendar, list]:
    """The calendar by icalendar, and its VEVENTs by vobject (which raises on bad input)."""
    text = body.decode("utf-8")
    by_icalendar = icalendar.Calendar.from_ical(text)
    by_vobject = vobject.readOne(text)
    return by_icalendar, list(getattr(by_vobject, "vevent_list", []))


def get_calendar(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return response


def vevents(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(entry["UID"]): entry for entry in calendar.walk("VEVENT")}


def test_an_event_calendar_has_what_clients_need(client, app_ctx):
    event = make_event(sessions=2, online_url="https://meet.example.org/forum")
    response = get_calendar(client, f"/events/{event.id}/calendar.ics")

    calendar, parsed = parse(response.data)
    entries = vevents(calendar)
    assert set(entries) == {f"session-{s.id}@tropa.test" for s in event.sessions}
    assert len(parsed) == 2
    first = entries[f"session-{event.sessions[0].id}@tropa.test"]
    assert first["DTSTART"].params["TZID"] == "Europe/Moscow"
    assert first.decoded("DTSTART") == event.sessions[0].starts_at
    assert int(first["SEQUENCE"]) == 0
    assert "DTSTAMP" in first
    assert "ул. Великая, 16" in str(first["LOCATION"])
    assert str(first["URL"]) == f"http://tropa.test/events/{event.id}"
    assert "https://meet.example.org/forum" in str(first["DESCRIPTION"])
    assert str(first["STATUS"]) == "CONFIRMED"
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]
    # vobject reads the same times in the same zone
    by_vobject = {entry.uid.value: entry for entry in parsed}
    assert by_vobject[str(first["UID"])].dtstart.value == event.sessions[0].starts_at
    assert "attachment" in response.headers["Content-Disposition"]


def test_a_moved_session_has_a_higher_sequence_and_a_cancelled_one_stays_cancelled(client, app_ctx):
    event = make_event(sessions=2)
    moved, cancelled = event.sessions
    path = f"/events/{event.id}/calendar.ics"
    before = get_calendar(client, path)

    hour = timedelta(hours=1)
    editing.save_session(event, moved, moved.starts_at + hour, moved.ends_at + hour, "Зал 1")
    editing.set_session_cancelled(cancelled, True)
    editing.save_session(event, moved, moved.starts_at, moved.ends_at, "Зал 7")
    editing.save_session(event, moved, moved.starts_at, moved.ends_at, "Зал 7")  # no change

    after = get_calendar(client, path)
    assert after.headers["ETag"] != before.headers["ETag"]
    entries = vevents(parse(after.data)[0])
    moved_entry = entries[f"session-{moved.id}@tropa.test"]
    assert int(moved_entry["SEQUENCE"]) == 2
    assert moved_entry.decoded("DTSTART") == moved.starts_at
    cancelled_entry = entries[f"session-{cancelled.id}@tropa.test"]
    assert str(cancelled_entry["STATUS"]) == "CANCELLED"
    assert int(cancelled_entry["SEQUENCE"]) == 1


def test_etag_and_last_modified_answer_304(client, app_ctx):
    event = make_event()
    path = f"/events/{event.id}/calendar.ics"
    first = get_calendar(client, path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]

    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304

    event.sessions[0].room = "Другой зал"
    db.session.commit()
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_a_course_calendar_and_a_draft_is_hidden(client, make_course):
    course = make_course(sessions=3)
    calendar, parsed = parse(get_calendar(client, f"/courses/{course.id}/calendar.ics").data)
    assert len(vevents(calendar)) == len(parsed) == 3
    entry = next(iter(vevents(calendar).values()))
    assert str(entry["URL"]) == f"http://tropa.test/courses/{course.id}"

    draft = make_course(title="Черновик", visibility="draft")
    assert client.get(f"/courses/{draft.id}/calendar.ics").status_code == 404
    assert client.get("/events/999999/calendar.ics").status_code == 404


def test_a_ticket_calendar_links_to_the_ticket_and_is_cancelled_with_it(client, app_ctx):
    event = make_event(sessions=2)
    registration = seats.register(event.id, full_name="Мария", email="m@example.org").registration
    path = f"/t/{registration.ticket_secret}/calendar.ics"

    entries = vevents(parse(get_calendar(client, path).data)[0])
    assert {str(e["URL"]) for e in entries.values()} == {
        f"http://tropa.test/t/{registration.ticket_secret}"
    }
    seats.cancel(registration.id)
    entries = vevents(parse(get_calendar(client, path).data)[0])
    assert {str(e["STATUS"]) for e in entries.values()} == {"CANCELLED"}
    assert client.get("/t/nosuchticket/calendar.ics").status_code == 404


def enrol(course: Course, user) -> Registration:
    return seats.register(
        course.id, full_name=user.full_name, email=user.email, user_id=user.id
    ).registration


def test_the_personal_feed_has_what_the_user_attends_and_teaches(client, make_course):
    anna = make_user("anna@example.org", Role.PARTICIPANT, name="Анна")
    trainer = make_user("trainer@example.org", Role.TRAINER, name="Тренер")
    attended = make_course(title="Посещаю", sessions=2)
    waitlisted = make_course(title="Жду места", sessions=2, capacity=1)
    taught = make_course(title="Веду", sessions=1)
    taught.trainers.append(anna)
    db.session.commit()
    enrol(attended, anna)
    enrol(waitlisted, trainer)
    assert enrol(waitlisted, anna).status == RegistrationStatus.WAITLISTED
    event = make_event(sessions=1)
    seats.register(event.id, full_name="Анна", email=anna.email, user_id=anna.id)
    db.session.commit()

    token = calendars.reset_feed_token(anna)
    calendar, parsed = parse(get_calendar(client, f"/calendar/{token}.ics").data)

    expected = {
        f"session-{s.id}@tropa.test" for s in attended.sessions + taught.sessions + event.sessions
    }
    assert set(vevents(calendar)) == expected
    assert len(parsed) == len(expected)


def test_resetting_the_token_revokes_the_old_feed(client, app_ctx):
    anna = make_user("anna@example.org", Role.PARTICIPANT, name="Анна")
    login(client, anna)
    made_with_the_account = anna.calendar_token
    assert made_with_the_account
    page = client.get("/profile").get_data(as_text=True)
    db.session.expire_all()
    old_token = db.session.get(type(anna), anna.id).calendar_token
    assert old_token == made_with_the_account, "showing the profile writes nothing"
    assert f"http://tropa.test/calendar/{old_token}.ics" in page
    assert f"webcal://tropa.test/calendar/{old_token}.ics" in page
    assert client.get(f"/calendar/{old_token}.ics").status_code == 200

    response = client.post("/profile/calendar/reset")
    assert response.status_code == 302

    db.session.expire_all()
    new_token = db.session.get(type(anna), anna.id).calendar_token
    assert new_token and new_token != old_token
    assert client.get(f"/calendar/{old_token}.ics").status_code == 404
    assert client.get(f"/calendar/{new_token}.ics").status_code == 200
    assert client.get("/calendar/guessed.ics").status_code == 404


def test_the_personal_feed_query_count_is_constant(client, make_course, count_queries):
    anna = make_user("anna@example.org", Role.PARTICIPANT, name="Анна")
    token = calendars.reset_feed_token(anna)

    def feed_queries(expected_sessions: int) -> int:
        db.session.commit()
        db.session.expunge_all()
        with count_queries() as counter:
            response = get_calendar(client, f"/calendar/{token}.ics")
        assert len(vevents(parse(response.data)[0])) == expected_sessions
        return counter.count

    enrol(make_course(title="Курс 0", sessions=4), anna)
    one_course = feed_queries(4)
    anna = db.session.merge(anna)
    for number in range(1, 6):
        enrol(make_course(title=f"Курс {number}", sessions=4), anna)
    six_courses = feed_queries(24)

    assert one_course == six_courses <= 5


def test_add_to_calendar_buttons(client, app_ctx, make_course):
    event = make_event(sessions=1)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f"/events/{event.id}/calendar.ics" in page
    assert f"webcal://tropa.test/events/{event.id}/calendar.ics" in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "https://calendar.yandex.ru/event?" in page

    course = make_course(sessions=2)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert f"webcal://tropa.test/courses/{course.id}/calendar.ics" in page
    assert "calendar.google.com" not in page  # several sessions: the feed, not one link


def test_google_link_carries_the_session_times_in_utc(app_ctx):
    event = make_event(sessions=1)
    session: Session = event.sessions[0]
    url = calendars.google_calendar_url(session)
    assert session.starts_at.strftime("%Y%m%dT%H%M%SZ") in url
    assert "ctz=Europe%2FMoscow" in url


def test_an_organiser_cancels_and_restores_a_session_from_the_session_list(
    client, make_course, users
):
    from sqlalchemy import select

    from tests.test_mail_messages import reminders

    course = make_course(sessions=2)
    participant = users["participant"]
    seats.register(
        course.id, full_name=participant.full_name, email=participant.email, user_id=participant.id
    )
    first = course.sessions[0]
    uid = f"session-{first.id}@tropa.test"
    before = vevents(parse(get_calendar(client, f"/courses/{course.id}/calendar.ics").data)[0])
    assert reminders(session_id=first.id)

    login(client, users["organiser"])
    client.get("/lang/en")
    url = f"/manage/sessions/{first.id}/cancel"
    response = client.post(url, follow_redirects=True)
    assert "Session cancelled." in response.get_data(as_text=True)
    assert "Cancelled" in client.get(f"/courses/{course.id}").get_data(as_text=True)
    after = vevents(parse(get_calendar(client, f"/courses/{course.id}/calendar.ics").data)[0])
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert int(after[uid]["SEQUENCE"]) > int(before[uid].get("SEQUENCE", 0))
    assert reminders(session_id=first.id) == []

    client.post(url, data={"restore": "1"})
    restored = vevents(parse(get_calendar(client, f"/courses/{course.id}/calendar.ics").data)[0])
    assert str(restored[uid].get("STATUS", "CONFIRMED")) != "CANCELLED"
    assert db.session.scalar(select(Session.cancelled_at).where(Session.id == first.id)) is None
    assert client.post(url).status_code == 302  # participants' calendars follow again

    client.post("/logout")
    login(client, participant)
    assert client.post(url).status_code == 403
