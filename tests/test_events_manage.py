"""Organisers create and edit events, their agenda and registration form, and cancel them."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from events.models import Event, Question, QuestionKind, Registration, Session
from events.services import seats
from tests.conftest import login, make_user
from tests.events_support import make_event, register
from webapp.extensions import db
from webapp.models import Role

YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")


@pytest.fixture
def organiser(client, users):
    login(client, users["organiser"])
    client.get("/lang/en")
    return users["organiser"]


def local(value: datetime, zone=YEKATERINBURG) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def event_form(**overrides) -> dict:
    data = {
        "title": "Семинар «Гранты для НКО»",
        "description": "Разбираем **заявки**.",
        "starts_at": "2027-03-15T10:00",
        "ends_at": "2027-03-15T13:30",
        "timezone": "Asia/Yekaterinburg",
        "venue": "Центр поддержки НКО",
        "address": "ул. Ленина, 1",
        "online_url": "",
        "capacity": "40",
        "registration_opens_at": "2027-02-01T09:00",
        "registration_closes_at": "2027-03-14T18:00",
        "visibility": "published",
        "asks_organisation": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def only_event() -> Event:
    return db.session.scalars(select(Event).where(Event.kind == "event")).one()


def test_an_organiser_creates_an_event_in_its_time_zone(client, organiser, users):
    trainer = users["trainer"]
    form = client.get("/manage/events/new").get_data(as_text=True)
    assert '<option selected value="Europe/Moscow">' in form  # TROPA_TIMEZONE by default
    assert trainer.full_name in form and users["participant"].full_name not in form

    response = client.post(
        "/manage/events/new",
        data=event_form(staff_ids=[str(trainer.id)], requires_approval="y"),
    )
    assert response.status_code == 302
    event = only_event()
    assert response.headers["Location"].endswith(f"/manage/events/{event.id}")
    assert event.kind == "event" and event.timezone == "Asia/Yekaterinburg"
    assert event.capacity == 40 and event.is_published
    assert event.requires_approval and event.asks_organisation
    assert [member.id for member in event.staff] == [trainer.id]
    [session] = event.sessions
    # 10:00 in Yekaterinburg (UTC+5) is 05:00 UTC.
    assert session.starts_at == datetime(2027, 3, 15, 5, 0, tzinfo=UTC)
    assert session.ends_at == datetime(2027, 3, 15, 8, 30, tzinfo=UTC)
    assert event.registration_opens_at == datetime(2027, 2, 1, 4, 0, tzinfo=UTC)
    assert event.search_text == "семинар «гранты для нко» разбираем **заявки**."

    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "<strong>заявки</strong>" in page and "10:00–13:30" in page


def test_editing_moves_the_one_session_and_a_raised_capacity_promotes(client, organiser):
    event = make_event(capacity=1, timezone="Asia/Yekaterinburg")
    for n in range(2):
        seats.register(event.id, full_name=f"Гость {n}", email=f"g{n}@example.org")
    form = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert local(event.sessions[0].starts_at) in form

    response = client.post(
        f"/manage/events/{event.id}",
        data=event_form(capacity="2", starts_at="2027-04-01T09:00", ends_at="2027-04-01T12:00"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    [session] = db.session.scalars(select(Session).where(Session.event_id == event.id))
    assert session.starts_at == datetime(2027, 4, 1, 4, 0, tzinfo=UTC)
    counts = seats.seat_counts([event.id])[event.id]
    assert (counts.confirmed, counts.waitlisted) == (2, 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"ends_at": "2027-03-15T09:00"}, "An event must end after it starts."),
        ({"starts_at": "tomorrow"}, "Not a valid datetime value."),
        ({"registration_closes_at": "2027-01-01T00:00"}, "Registration must close after"),
        ({"capacity": "0"}, "Number must be between 1 and 100000."),
        ({"online_url": "meet.example.org"}, "Give a full link"),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice."),
        ({"staff_ids": "999999"}, "not a valid choice"),
    ],
)
def test_bad_event_input_is_a_form_error(client, organiser, change, message):
    response = client.post("/manage/events/new", data=event_form(**change))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Event)).first() is None


def test_an_agenda_of_sessions(client, organiser):
    event = make_event(timezone="Asia/Yekaterinburg")
    base = f"/manage/events/{event.id}/sessions"
    response = client.post(
        base, data={"date": "2027-05-20", "starts": "14:00", "ends": "15:30", "room": "Секции"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert len(event.sessions) == 2
    added = event.sessions[1]
    assert added.starts_at == datetime(2027, 5, 20, 9, 0, tzinfo=UTC) and added.room == "Секции"

    # With an agenda the event's form leaves the times to it.
    form = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert 'name="starts_at"' not in form and "edit the agenda" in form
    assert client.post(f"/manage/events/{event.id}", data=event_form()).status_code == 302
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Agenda" in page and "Секции" in page

    edit = f"{base}/{added.id}"
    assert "14:00" in client.get(edit).get_data(as_text=True)
    client.post(edit, data={"date": "2027-05-20", "starts": "16:00", "ends": "17:00", "room": ""})
    db.session.expire_all()
    assert added.starts_at == datetime(2027, 5, 20, 11, 0, tzinfo=UTC) and added.room is None
    bad = client.post(edit, data={"date": "2027-05-20", "starts": "17:00", "ends": "16:00"})
    assert "A session must end after it starts." in bad.get_data(as_text=True)

    added_id = added.id
    client.post(f"{edit}/delete")
    db.session.expire_all()
    assert added_id not in [s.id for s in event.sessions] and len(event.sessions) == 1
    # The last session stays: the event needs its times.
    last = event.sessions[0]
    response = client.post(f"{base}/{last.id}/delete", follow_redirects=True)
    assert "at least one session" in response.get_data(as_text=True)
    assert db.session.get(Session, last.id) is not None


def test_a_session_of_another_event_is_not_found(client, organiser):
    event, other = make_event(), make_event("Другое")
    session_id = other.sessions[0].id
    assert client.get(f"/manage/events/{event.id}/sessions/{session_id}").status_code == 404
    assert client.post(f"/manage/events/{event.id}/sessions/{session_id}/delete").status_code == 404


def test_the_registration_form_editor(client, organiser):
    event = make_event()
    base = f"/manage/events/{event.id}/questions"
    for label, kind, options in [
        ("Секция", "choice", "НКО\nБизнес\n\nНКО\n"),
        ("Форматы", "multiple", "Очно\nОнлайн"),
        ("Парковка", "yesno", "ignored"),
        ("Сколько вас", "number", ""),
        ("Вопрос", "text", ""),
    ]:
        data = {"label": label, "kind": kind, "options": options, "required": "y"}
        assert client.post(base, data=data).status_code == 302
    db.session.expire_all()
    questions = event.questions
    assert [q.label for q in questions] == [
        "Секция",
        "Форматы",
        "Парковка",
        "Сколько вас",
        "Вопрос",
    ]
    assert questions[0].choices == ["НКО", "Бизнес"]  # blanks and repeats dropped
    assert questions[2].options == "" and all(q.required for q in questions)

    refused = client.post(base, data={"label": "Один", "kind": "choice", "options": "Да"})
    assert "Give at least two choices" in refused.get_data(as_text=True)

    first, second = questions[0].id, questions[1].id
    client.post(f"{base}/{second}/up")
    client.post(f"{base}/{second}/up")  # already first: nothing changes
    db.session.expire_all()
    assert [q.id for q in event.questions][:2] == [second, first]
    client.post(f"{base}/{second}/down")
    db.session.expire_all()
    assert [q.id for q in event.questions][:2] == [first, second]

    client.post(f"{base}/{first}", data={"label": "Секция форума", "kind": "text", "options": ""})
    client.post(f"{base}/{second}/delete")
    db.session.expire_all()
    assert [q.label for q in event.questions] == [
        "Секция форума",
        "Парковка",
        "Сколько вас",
        "Вопрос",
    ]
    assert [q.position for q in event.questions] == [0, 1, 2, 3]
    assert event.questions[0].kind == QuestionKind.TEXT and not event.questions[0].required
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Секция форума" in page and "Форматы" not in page


def test_deleting_a_question_deletes_its_answers_only(client, organiser):
    event = make_event(
        questions=[
            ("Секция", QuestionKind.TEXT, False, ""),
            ("Город", QuestionKind.TEXT, False, ""),
        ]
    )
    guest = client.application.test_client()
    names = {q.label: f"question_{q.id}" for q in event.questions}
    register(guest, event, **{names["Секция"]: "НКО", names["Город"]: "Новгород"})
    section_id = next(q.id for q in event.questions if q.label == "Секция")
    client.post(f"/manage/events/{event.id}/questions/{section_id}/delete")
    db.session.expire_all()
    [registration] = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id)
    )
    assert [answer.value for answer in registration.answers] == ["Новгород"]
    assert db.session.get(Question, section_id) is None


def test_cancelling_an_event_closes_registration_and_says_so(client, organiser):
    event = make_event()
    confirm = client.get(f"/manage/events/{event.id}/cancel").get_data(as_text=True)
    assert "Yes, cancel the event" in confirm
    assert event.cancelled_at is None
    response = client.post(f"/manage/events/{event.id}/cancel")
    assert response.headers["Location"].endswith(f"/events/{event.id}")
    db.session.expire_all()
    assert event.cancelled_at is not None
    guest = client.application.test_client()
    guest.get("/lang/en")
    page = guest.get(f"/events/{event.id}").get_data(as_text=True)
    assert "The event is cancelled." in page and 'name="full_name"' not in page
    assert register(guest, event).status_code == 200
    assert seats.seat_counts([event.id])[event.id].confirmed == 0
    listing = guest.get("/events/").get_data(as_text=True)
    assert "Cancelled" in listing


def test_the_organisers_list_shows_drafts_and_counts(client, organiser):
    draft = make_event("Черновик", visibility="draft")
    full = make_event("Полный", capacity=1, requires_approval=True)
    for n in range(2):
        seats.register(full.id, full_name=f"Г{n}", email=f"g{n}@example.org")
    page = client.get("/manage/events").get_data(as_text=True)
    assert "Черновик" in page and "Полный" in page
    assert f"/manage/events/{draft.id}" in page


def test_courses_are_not_managed_as_events(client, organiser, make_course):
    course = make_course()
    for url in (
        f"/manage/events/{course.id}",
        f"/manage/events/{course.id}/sessions",
        f"/manage/events/{course.id}/questions",
        f"/manage/events/{course.id}/cancel",
    ):
        assert client.get(url).status_code == 404, url


def test_participants_and_trainers_may_not_manage_events(client, users):
    event = make_event()
    trainer = make_user("staff@example.org", Role.TRAINER)
    event.staff.append(trainer)
    db.session.commit()
    for user in (users["participant"], trainer):
        login(client, user)
        for url in ("/manage/events", "/manage/events/new", f"/manage/events/{event.id}"):
            assert client.get(url).status_code == 403, (user.email, url)
        assert client.post(f"/manage/events/{event.id}/cancel").status_code == 403
    db.session.expire_all()
    assert event.cancelled_at is None
    assert event.requires_approval is False


def test_the_organisers_list_costs_the_same_queries_for_5_or_30_events(
    client, organiser, count_queries
):
    def add(count: int) -> None:
        for number in range(count):
            event = make_event(f"Событие {number}", sessions=2)
            seats.register(event.id, full_name="Гость", email=f"g{number}@example.org")

    add(5)
    client.get("/manage/events")
    with count_queries() as few:
        assert client.get("/manage/events").status_code == 200
    add(25)
    with count_queries() as many:
        assert client.get("/manage/events").status_code == 200
    assert many.count == few.count
