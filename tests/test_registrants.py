"""The organiser's registrant list of an outreach event: search, filters, paging, counts,
editing and status buttons, CSV/XLSX export and CSV import; who may do what."""

import csv
import io
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import func, select

from events.models import (
    Attendance,
    AttendanceMethod,
    AttendanceStatus,
    Event,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
    Session,
)
from events.services import seats
from events.services.registrant_import import ImportProblem, import_registrants
from tests.conftest import PASSWORD, login, make_user
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType, Role
from webapp.services import with_check_digits
from webapp.types import utcnow

Status = RegistrationStatus
GOOD_INN = with_check_digits("532100123")  # an organisation's 10 digits
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BAD_INN = GOOD_INN[:-1] + str((int(GOOD_INN[-1]) + 1) % 10)


# --- building events and registrations ---------------------------------------------------


def make_event(capacity=100, sessions=1, questions=True, **fields) -> Event:
    """A published outreach event in Moscow time, its sessions a day apart from tomorrow."""
    event = Event(
        kind="event",
        title=fields.pop("title", "Форум СОНКО"),
        capacity=capacity,
        visibility="published",
        timezone="Europe/Moscow",
        **fields,
    )
    start = datetime(2030, 3, 10, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
    for number in range(sessions):
        begins = start + timedelta(days=number)
        event.sessions.append(Session(starts_at=begins, ends_at=begins + timedelta(hours=3)))
    if questions:
        event.questions = [
            Question(position=1, label="Формат", kind=QuestionKind.CHOICE,
                     options="Очно\nОнлайн"),
            Question(position=2, label="Темы", kind=QuestionKind.MULTIPLE,
                     options="Гранты\nМаркетинг\nПраво, налоги"),
            Question(position=3, label="Нужен обед?", kind=QuestionKind.YESNO),
            Question(position=4, label="Комментарий", kind=QuestionKind.TEXT),
        ]  # fmt: skip
    db.session.add(event)
    db.session.commit()
    return event


def question(event: Event, label: str) -> Question:
    return next(q for q in event.questions if q.label == label)


def register(event: Event, name: str, email: str, answers: dict | None = None, **fields):
    """Register through the seat-taking service, answers given by question label."""
    stored = {question(event, label).id: value for label, value in (answers or {}).items()}
    return seats.register(
        event.id, full_name=name, email=email, answers=stored, **fields
    ).registration


def check_in(registration: Registration, session: Session, at: datetime, status="present"):
    db.session.add(
        Attendance(
            registration_id=registration.id,
            session_id=session.id,
            status=AttendanceStatus(status),
            method=AttendanceMethod.DOOR,
            marked_at=at,
        )
    )
    db.session.commit()


def fill(event: Event, count: int, prefix="guest") -> list[Registration]:
    """Many registrations with answers, some checked in."""
    people = []
    for n in range(count):
        registration = register(
            event,
            f"Гость {prefix} {n}",
            f"{prefix}{n}@example.org",
            answers={"Формат": "Очно", "Темы": "Гранты\nМаркетинг", "Нужен обед?": "yes"},
            phone=f"+7 900 000-{n:04d}",
        )
        if n % 3 == 0:
            check_in(registration, event.sessions[0], utcnow())
        people.append(registration)
    return people


@pytest.fixture
def event(app_ctx):
    return make_event()


@pytest.fixture
def organiser(client, users):
    client.get("/lang/en")
    login(client, users["organiser"])
    return users["organiser"]


def list_url(event, **args) -> str:
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"/manage/events/{event.id}/registrants" + (f"?{query}" if query else "")


def names_on(response) -> list[str]:
    """The names in the list's rows, in order."""
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    rows = html.split('<tr data-registration="')[1:]
    return [row.split("</a>")[0].rsplit(">", 1)[-1].strip() for row in rows]


def statuses_of(event) -> dict[str, Status]:
    rows = db.session.execute(
        select(Registration.email, Registration.status).where(Registration.event_id == event.id)
    )
    return dict(rows.all())


# --- the list: search, filters, counts, paging -------------------------------------------


def test_search_finds_russian_names_in_any_case_and_by_email_and_phone(client, organiser, event):
    register(event, "Анна Ёлкина", "anna@example.org", phone="+7 (912) 345-67-89")
    register(event, "Борис Петров", "boris@mail.example.org", phone="8 800 555 35 35")
    register(event, "Ольга Кузнецова", "olga@example.org")

    assert names_on(client.get(list_url(event, q="аННа"))) == ["Анна Ёлкина"]
    assert names_on(client.get(list_url(event, q="ЕЛКИНА"))) == ["Анна Ёлкина"]
    assert names_on(client.get(list_url(event, q="mail.example"))) == ["Борис Петров"]
    assert names_on(client.get(list_url(event, q="912 345"))) == ["Анна Ёлкина"]
    assert names_on(client.get(list_url(event, q="9123456789"))) == ["Анна Ёлкина"]
    assert names_on(client.get(list_url(event, q="5553535"))) == ["Борис Петров"]
    assert names_on(client.get(list_url(event, q="петров борис"))) == ["Борис Петров"]
    assert names_on(client.get(list_url(event, q="50%"))) == []


def test_filters_by_status_check_in_and_answers(client, organiser):
    event = make_event(capacity=2)
    anna = register(
        event,
        "Анна",
        "anna@example.org",
        answers={"Формат": "Очно", "Темы": "Право, налоги", "Нужен обед?": "yes"},
    )
    boris = register(
        event,
        "Борис",
        "boris@example.org",
        answers={"Формат": "Онлайн", "Темы": "Гранты\nПраво, налоги"},
    )
    register(
        event,
        "Вера",
        "vera@example.org",
        answers={"Формат": "Онлайн", "Темы": "Гранты", "Нужен обед?": "no"},
    )
    check_in(anna, event.sessions[0], utcnow())
    check_in(boris, event.sessions[0], utcnow(), status="excused")  # not "checked in"
    formats, topics, lunch = (
        question(event, label).id for label in ("Формат", "Темы", "Нужен обед?")
    )

    assert names_on(client.get(list_url(event, status="waitlisted"))) == ["Вера"]
    assert names_on(client.get(list_url(event, status="confirmed"))) == ["Анна", "Борис"]
    assert names_on(client.get(list_url(event, checked_in="yes"))) == ["Анна"]
    assert names_on(client.get(list_url(event, checked_in="no"))) == ["Борис", "Вера"]
    assert names_on(client.get(list_url(event, answer=f"{formats}:Онлайн"))) == ["Борис", "Вера"]
    with_comma = client.get(f"/manage/events/{event.id}/registrants",
                            query_string={"answer": f"{topics}:Право, налоги"})  # fmt: skip
    assert names_on(with_comma) == ["Анна", "Борис"]
    assert names_on(client.get(list_url(event, answer=f"{topics}:Гранты"))) == ["Борис", "Вера"]
    assert names_on(client.get(list_url(event, answer=f"{lunch}:no"))) == ["Вера"]
    assert names_on(
        client.get(list_url(event, answer=f"{formats}:Онлайн", status="confirmed"))
    ) == ["Борис"]  # fmt: skip
    # Values that are not among the choices filter nothing and never fail.
    everyone = ["Анна", "Борис", "Вера"]
    for junk in ({"status": "nope"}, {"checked_in": "maybe"}, {"answer": "999:x"},
                 {"answer": "abc"}, {"page": "-3"}, {"q": "x" * 500}):  # fmt: skip
        response = client.get(f"/manage/events/{event.id}/registrants", query_string=junk)
        assert response.status_code == 200
    assert names_on(client.get(list_url(event, status="nope"))) == everyone


def test_counts_per_status_on_top(client, organiser):
    event = make_event(capacity=2, requires_approval=False)
    people = [register(event, f"P{n}", f"p{n}@example.org") for n in range(4)]
    seats.cancel(people[0].id)  # p2 takes the place
    check_in(people[1], event.sessions[0], utcnow())
    html = client.get(list_url(event)).get_data(as_text=True)
    assert 'data-count="all">4<' in html
    assert 'data-count="confirmed">2 / 2<' in html
    assert 'data-count="waitlisted">1<' in html
    assert 'data-count="cancelled">1<' in html
    assert 'data-count="checked_in">1<' in html


def test_pages_of_fifty(client, organiser):
    event = make_event(questions=False)
    db.session.add_all(
        Registration(event_id=event.id, full_name=f"Person {n:03d}", email=f"p{n}@example.org",
                     status=Status.CONFIRMED, queue_number=n, ticket_secret=f"secret{n:03d}")
        for n in range(120)
    )  # fmt: skip
    db.session.commit()
    first = names_on(client.get(list_url(event)))
    third = names_on(client.get(list_url(event, page=3)))
    assert len(first) == 50 and first[0] == "Person 000"
    assert third == [f"Person {n:03d}" for n in range(100, 120)]
    assert "Found: 120" in client.get(list_url(event)).get_data(as_text=True)


def test_a_page_costs_the_same_queries_for_10_or_200_registrations(
    client, organiser, count_queries
):
    # Both with a waiting list on the first page: its positions are one more query.
    small, big = make_event(capacity=5, title="Small"), make_event(capacity=5, title="Big")
    fill(small, 10, "s")
    fill(big, 200, "b")
    client.get(list_url(small))  # warm up: the first request loads what is cached later

    counted = {}
    for event in (small, big):
        with count_queries() as counter:
            response = client.get(list_url(event))
        assert response.status_code == 200
        counted[event.title] = counter.count
    assert counted["Small"] == counted["Big"], counted
    # with a filter and a search too
    for event in (small, big):
        with count_queries() as counter:
            client.get(list_url(event, q="гость", checked_in="yes", status="confirmed"))
        counted[event.title] = counter.count
    assert counted["Small"] == counted["Big"], counted


# --- who may do what ---------------------------------------------------------------------


def registrant_urls(event, registration) -> dict[str, str]:
    base = f"/manage/events/{event.id}/registrants"
    return {
        "list": base,
        "csv": f"{base}.csv",
        "xlsx": f"{base}.xlsx",
        "import": f"{base}/import",
        "sample": f"{base}/import-sample.csv",
        "edit": f"{base}/{registration.id}",
    }


def test_staff_see_the_list_but_change_and_export_nothing(client, users, event):
    staff = make_user("staff@example.org", Role.PARTICIPANT, name="Стас Дежурный")
    event.staff.append(staff)
    db.session.commit()
    registration = register(event, "Анна", "anna@example.org")
    urls = registrant_urls(event, registration)
    client.get("/lang/en")
    login(client, staff)

    page = client.get(urls["list"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Анна" in html and "Import CSV" not in html and "registrants.csv" not in html
    for name in ("csv", "xlsx", "import", "sample", "edit"):
        assert client.get(urls[name]).status_code == 403, name
    action = f"{urls['edit']}/status"
    assert client.post(action, data={"action": "cancel"}).status_code == 403
    assert (
        client.post(urls["edit"], data={"full_name": "X", "email": "x@example.org"}).status_code
        == 403
    )
    assert client.post(urls["import"], data={}).status_code == 403
    assert statuses_of(event) == {"anna@example.org": Status.CONFIRMED}


def test_participants_are_refused_and_guests_sent_to_sign_in(client, users, event):
    registration = register(event, "Анна", "anna@example.org")
    urls = registrant_urls(event, registration)
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], name
    login(client, users["participant"])
    for name, url in urls.items():
        assert client.get(url).status_code == 403, name


def test_a_course_or_a_registration_of_another_event_is_not_found(
    client, organiser, make_course, event
):
    course = make_course()
    assert client.get(f"/manage/events/{course.id}/registrants").status_code == 404
    other = make_event(title="Другое")
    stranger = register(other, "Чужой", "stranger@example.org")
    base = f"/manage/events/{event.id}/registrants/{stranger.id}"
    assert client.get(base).status_code == 404
    assert client.post(f"{base}/status", data={"action": "cancel"}).status_code == 404
    assert client.get("/manage/events/99999/registrants").status_code == 404
    assert statuses_of(other) == {"stranger@example.org": Status.CONFIRMED}


# --- editing and the status buttons ------------------------------------------------------


def test_edit_name_email_phone_and_answers(client, organiser, event):
    registration = register(event, "Анна", "anna@example.org", answers={"Формат": "Очно"})
    url = f"/manage/events/{event.id}/registrants/{registration.id}"
    form = client.get(url)
    assert form.status_code == 200 and 'value="Анна"' in form.get_data(as_text=True)
    topics, lunch = question(event, "Темы").id, question(event, "Нужен обед?").id
    formats, comment = question(event, "Формат").id, question(event, "Комментарий").id

    response = client.post(url, follow_redirects=True, data={
        "full_name": " Анна Смирнова ", "email": "Anna.S@Example.org", "phone": "+7 900 1",
        f"question_{formats}": "", f"question_{topics}": ["Гранты", "Право, налоги"],
        f"question_{lunch}": "no", f"question_{comment}": "Приду с коллегой",
    })  # fmt: skip

    assert "Registration of Анна Смирнова saved." in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Registration, registration.id)
    assert (saved.full_name, saved.email, saved.phone) == (
        "Анна Смирнова", "anna.s@example.org", "+7 900 1"
    )  # fmt: skip
    assert {a.question_id: a.value for a in saved.answers} == {
        topics: "Гранты\nПраво, налоги", lunch: "no", comment: "Приду с коллегой"
    }  # fmt: skip
    assert names_on(client.get(list_url(event, q="смирнова"))) == ["Анна Смирнова"]


def test_edit_keeps_one_email_per_event_and_refuses_bad_input(client, organiser, event):
    anna = register(event, "Анна", "anna@example.org")
    register(event, "Борис", "boris@example.org")
    url = f"/manage/events/{event.id}/registrants/{anna.id}"
    formats = question(event, "Формат").id
    cases = [
        ({"full_name": "Анна", "email": "BORIS@example.org"}, "Another registration"),
        ({"full_name": "", "email": "anna@example.org"}, "This field is required"),
        ({"full_name": "Анна", "email": "not-an-email"}, "Invalid email"),
        ({"full_name": "Анна", "email": "anna@example.org", f"question_{formats}": "Марс"},
         "Not a valid choice"),
        ({"full_name": "A" * 201, "email": "anna@example.org"}, "200"),
    ]  # fmt: skip
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 200, data
        assert message in response.get_data(as_text=True), data
    db.session.expire_all()
    assert db.session.get(Registration, anna.id).email == "anna@example.org"
    assert db.session.get(Registration, anna.id).full_name == "Анна"


def action(client, event, registration, name: str):
    url = f"/manage/events/{event.id}/registrants/{registration.id}/status"
    response = client.post(url, data={"action": name}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_cancel_promotes_from_the_waiting_list(client, organiser):
    event = make_event(capacity=1)
    anna = register(event, "Анна", "anna@example.org")
    register(event, "Борис", "boris@example.org")
    html = action(client, event, anna, "cancel")
    assert "The registration of Анна is cancelled." in html
    assert "Promoted from the waiting list: Борис" in html
    assert statuses_of(event) == {
        "anna@example.org": Status.CANCELLED, "boris@example.org": Status.CONFIRMED
    }  # fmt: skip


def test_approve_gives_a_place_or_the_waiting_list(client, organiser):
    event = make_event(capacity=1, requires_approval=True)
    anna = register(event, "Анна", "anna@example.org")
    boris = register(event, "Борис", "boris@example.org")
    assert anna.status == Status.PENDING

    assert "Анна is confirmed." in action(client, event, anna, "approve")
    html = action(client, event, boris, "approve")
    assert "Борис is approved and on the waiting list" in html
    assert "This change of status is not possible." in action(client, event, anna, "approve")
    assert statuses_of(event) == {
        "anna@example.org": Status.CONFIRMED, "boris@example.org": Status.WAITLISTED
    }  # fmt: skip


def test_moves_to_and_from_the_waiting_list_never_beyond_capacity(client, organiser):
    event = make_event(capacity=1)
    anna = register(event, "Анна", "anna@example.org")
    boris = register(event, "Борис", "boris@example.org")

    html = action(client, event, boris, "confirm")
    assert "There are no free places." in html
    html = action(client, event, anna, "waitlist")  # Boris, first in the queue, moves up
    assert (
        "Анна is on the waiting list." in html and "Promoted from the waiting list: Борис" in html
    )
    assert statuses_of(event) == {
        "anna@example.org": Status.WAITLISTED, "boris@example.org": Status.CONFIRMED
    }  # fmt: skip
    seats.set_capacity(event.id, 2)  # Anna moves up: a free place
    html = action(client, event, anna, "waitlist")
    assert "A place is free, so Анна stays confirmed." in html
    html = action(client, event, anna, "bogus")
    assert "Nothing was changed" in html
    assert statuses_of(event) == {
        "anna@example.org": Status.CONFIRMED, "boris@example.org": Status.CONFIRMED
    }  # fmt: skip


def test_a_status_button_returns_to_the_filtered_list_it_was_pressed_on(client, organiser, event):
    anna = register(event, "Анна", "anna@example.org")
    back = f"/manage/events/{event.id}/registrants?status=confirmed&page=1"
    url = f"/manage/events/{event.id}/registrants/{anna.id}/status"
    response = client.post(url, data={"action": "cancel", "next": back})
    assert response.headers["Location"].endswith(back)
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/admin/users"):
        response = client.post(url, data={"action": "confirm", "next": elsewhere})
        assert response.headers["Location"].endswith(f"/manage/events/{event.id}/registrants")


# --- export ------------------------------------------------------------------------------


def exported(client, event, fmt: str) -> list[list[str]]:
    response = client.get(f"/manage/events/{event.id}/registrants.{fmt}")
    assert response.status_code == 200
    assert f"registrants-{event.id}.{fmt}" in response.headers["Content-Disposition"]
    if fmt == "csv":
        text = response.get_data().decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text), delimiter=";"))
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_has_every_registration_with_answers_and_check_in_times(client, organiser, fmt):
    event = make_event(capacity=1)
    organisation = Organisation(name="АНО «Свет»", type=OrganisationType.SONKO, inn=GOOD_INN)
    db.session.add(organisation)
    db.session.commit()
    anna = register(event, "Анна", "anna@example.org", phone="8 912 000",
                    organisation_id=organisation.id,
                    answers={"Формат": "Очно", "Темы": "Гранты\nПраво, налоги",
                             "Нужен обед?": "yes", "Комментарий": "=1+2"})  # fmt: skip
    register(event, "Борис", "boris@example.org")
    vera = register(event, "Вера", "vera@example.org")
    seats.cancel(vera.id)
    check_in(anna, event.sessions[0], datetime(2030, 3, 10, 7, 5, tzinfo=UTC))

    rows = exported(client, event, fmt)

    assert rows[0] == [
        "Full name", "E-mail", "Phone", "Status", "Waiting list", "Organisation",
        "Organisation type", "INN", "Формат", "Темы", "Нужен обед?", "Комментарий",
        "Registered at", "Checked in at",
    ]  # fmt: skip
    assert len(rows) == 4
    anna_row, boris_row, vera_row = rows[1:]
    assert anna_row[:12] == [
        "Анна", "anna@example.org", "8 912 000", "Confirmed", "", "АНО «Свет»",
        "Socially oriented NGO (SONKO)", GOOD_INN, "Очно", "Гранты; Право, налоги", "Yes",
        "'=1+2" if fmt == "csv" else "=1+2",
    ]  # fmt: skip
    if fmt == "xlsx":  # written as text, never as a formula
        url = f"/manage/events/{event.id}/registrants.xlsx"
        sheet = load_workbook(io.BytesIO(client.get(url).get_data())).active
        assert sheet.cell(row=2, column=12).data_type == "s"
    assert anna_row[13] == "2030-03-10 10:05"  # Moscow time
    assert datetime.strptime(anna_row[12], "%Y-%m-%d %H:%M")
    assert boris_row[3:5] == ["Waiting list", "1"] and boris_row[13] == ""
    assert vera_row[3] == "Cancelled"


def test_export_has_a_check_in_column_per_session(client, organiser):
    event = make_event(sessions=3, questions=False)
    anna = register(event, "Анна", "anna@example.org")
    first, second, third = event.sessions
    check_in(anna, first, datetime(2030, 3, 10, 7, 2, tzinfo=UTC))
    check_in(anna, third, datetime(2030, 3, 12, 7, 20, tzinfo=UTC), status="late")
    check_in(anna, second, datetime(2030, 3, 11, 7, 0, tzinfo=UTC), status="excused")

    header, anna_row = exported(client, event, "csv")

    assert header[-3:] == [
        "Checked in: 2030-03-10 10:00", "Checked in: 2030-03-11 10:00",
        "Checked in: 2030-03-12 10:00",
    ]  # fmt: skip
    assert anna_row[-3:] == ["2030-03-10 10:02", "Excused", "2030-03-12 10:20 (Late)"]


# --- import ------------------------------------------------------------------------------


def csv_bytes(rows: list[list[str]], delimiter=",", encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


HEADER = ["full_name", "email", "phone", "organisation_name", "organisation_type", "inn"]


def people_rows(count: int, start: int = 0) -> list[list[str]]:
    return [
        [f"Участник {n}", f"u{n}@example.org", f"+7 900 {n:07d}", "АНО «Свет»", "sonko", GOOD_INN]
        for n in range(start, start + count)
    ]


def upload(client, event, data: bytes, filename="list.csv", **headers):
    return client.post(
        f"/manage/events/{event.id}/registrants/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def registration_count(event) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.event_id == event.id)
    )


def test_import_a_valid_list_places_in_file_order_then_the_waiting_list(client, organiser):
    event = make_event(capacity=3)
    response = upload(client, event, csv_bytes([HEADER, *people_rows(5)]))

    assert response.status_code == 302
    html = client.get(list_url(event)).get_data(as_text=True)
    assert "Imported 5: 3 confirmed, 2 on the waiting list." in html
    in_queue = select(Registration).where(Registration.event_id == event.id)
    registrations = db.session.scalars(in_queue.order_by(Registration.queue_number)).all()
    assert [r.email for r in registrations] == [f"u{n}@example.org" for n in range(5)]
    assert [r.status for r in registrations] == [Status.CONFIRMED] * 3 + [Status.WAITLISTED] * 2
    assert registrations[0].phone == "+7 900 0000000"
    assert len({r.ticket_secret for r in registrations}) == 5
    # one organisation for the five, found by its INN
    assert {r.organisation.name for r in registrations} == {"АНО «Свет»"}
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    assert names_on(client.get(list_url(event, q="участник 4"))) == ["Участник 4"]


def test_import_skips_people_already_registered_and_repeats_in_the_file(client, organiser, users):
    event = make_event(capacity=10)
    register(event, "Уже есть", "u1@example.org")
    cancelled = register(event, "Передумал", "u2@example.org")
    seats.cancel(cancelled.id)
    account = make_user("u3@example.org", name="С аккаунтом")
    rows = [HEADER, *people_rows(4), ["Повтор", "U0@Example.org", "", "", "", ""]]

    report = import_registrants(event.id, csv_bytes(rows))

    assert report.imported
    assert (report.rows, report.registered, report.already_registered, report.repeated_in_file) == (
        5, 3, 1, 1
    )  # fmt: skip
    assert registration_count(event) == 4  # u0..u3, u2 brought back: no duplicate
    statuses = statuses_of(event)
    assert statuses["u2@example.org"] == Status.CONFIRMED
    linked = db.session.scalar(select(Registration).where(Registration.email == "u3@example.org"))
    assert linked.user_id == account.id
    # the same file again changes nothing
    again = import_registrants(event.id, csv_bytes(rows))
    assert (again.registered, again.already_registered) == (0, 4)
    assert registration_count(event) == 4


def test_import_russian_headers_semicolons_cp1251(client, organiser):
    event = make_event(capacity=1)
    rows = [
        ["ФИО", "Электронная почта", "Телефон", "Организация", "Тип организации", "ИНН", "Статус"],
        ["Иванова Мария", "maria@example.org", "", "", "Самозанятый", "", ""],
        ["Пётр Ёлкин", "petr@example.org", "", "Клуб «Ёлка»", "Инициативная группа", "",
         "лист ожидания"],
        ["Сидоров", "sid@example.org", "", "", "", "", "Подтверждена"],
    ]  # fmt: skip
    data = csv_bytes(rows, delimiter=";", encoding="cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    report = import_registrants(event.id, data)

    assert report.imported, report.problems
    assert statuses_of(event) == {
        "maria@example.org": Status.CONFIRMED,
        "petr@example.org": Status.WAITLISTED,  # asked for the waiting list
        "sid@example.org": Status.WAITLISTED,  # asked for a place: none left
    }
    petr = db.session.scalar(select(Registration).where(Registration.email == "petr@example.org"))
    assert petr.full_name == "Пётр Ёлкин"
    assert petr.organisation.type == OrganisationType.INITIATIVE_GROUP
    maria = db.session.scalar(select(Registration).where(Registration.email == "maria@example.org"))
    assert maria.organisation.name == "Иванова Мария"  # a self-employed person's own name


def test_import_utf8_with_bom_and_crlf_and_the_exported_header(client, organiser):
    event = make_event()
    rows = [["Full name", "E-mail", "Phone", "Status", "Waiting list"],
            ["Анна", "anna@example.org", "", "Confirmed", ""], ["", "", "", "", ""]]  # fmt: skip
    data = "\ufeff".encode() + csv_bytes(rows).replace(b"\n", b"\r\n")
    report = import_registrants(event.id, data)
    assert report.imported, report.problems
    assert report.ignored_columns == ["Waiting list"]
    assert statuses_of(event) == {"anna@example.org": Status.CONFIRMED}


def test_one_bad_inn_among_fifty_rows_imports_nothing(client, organiser):
    event = make_event()
    rows = [HEADER, *people_rows(50)]
    rows[26][5] = BAD_INN  # the 26th person: row 27 of the file, after the header

    response = upload(client, event, csv_bytes(rows))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "<td>27</td><td>INN</td>" in html
    assert registration_count(event) == 0
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_every_bad_row_is_reported_with_row_and_column(client, organiser):
    event = make_event()
    rows = [
        HEADER,
        ["", "a@example.org", "", "", "", ""],
        ["Без почты", "", "", "", "", ""],
        ["Плохая почта", "not-an-email", "", "", "", ""],
        ["Телефон", "t@example.org", "звоните", "", "", ""],
        ["Тип", "type@example.org", "", "Клуб", "клуб по интересам", ""],
        ["Без типа", "notype@example.org", "", "Клуб", "", ""],
        ["Без названия", "noname@example.org", "", "", "sonko", ""],
        ["ИНН буквами", "inn@example.org", "", "ООО", "smsp", "12345abcde"],
    ]
    report = import_registrants(event.id, csv_bytes(rows))
    located = [(p.row, p.field) for p in report.problems]
    assert located == [
        (2, "full_name"), (3, "email"), (4, "email"), (5, "phone"), (6, "organisation_type"),
        (7, "organisation_type"), (8, "organisation_name"), (9, "inn"),
    ]  # fmt: skip
    assert all(p.message for p in report.problems)
    assert registration_count(event) == 0

    with_status = [["full_name", "email", "status"], ["Анна", "a@example.org", "maybe"]]
    report = import_registrants(event.id, csv_bytes(with_status))
    assert [(p.row, p.field) for p in report.problems] == [(2, "status")]


BINARY_FILES = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "random": os.urandom(4096) + b"\x00",
    "xlsx": b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 30 + b"[Content_Types].xml",
    "utf16": "full_name,email\nАнна,a@example.org\n".encode("utf-16"),
    "control characters": b"full_name,email\n\x01\x02\x03,a@example.org\n",
}


@pytest.mark.parametrize("kind", sorted(BINARY_FILES))
def test_a_binary_file_is_refused_whole(client, organiser, event, kind):
    response = upload(client, event, BINARY_FILES[kind], filename="list.csv")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html and "This is not a CSV file" in html
    assert registration_count(event) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \r\n\r\n", "The file is empty."),
        (b"\r\n\r\nfull_name,email\r\n", "The first row must name the columns"),
        (b"full_name,email\r\n", "The file has no rows to import."),
        (b"full_name,email\r\n\r\n,\r\n", "The file has no rows to import."),
        (b"name;surname;age\r\nAnna;Ivanova;30\r\n", "The file has no column"),
        (b"full_name,email,email\r\nA,a@example.org,b@example.org\r\n", "are both"),
        (b'full_name,email\r\n"Anna,a@example.org\r\n', "not valid CSV near line"),
        (b"full_name,email\r\nAnna,a@example.org,extra\r\n", "Row 2 has more cells"),
        (b"full_name,email\r\n\x98\xff\xfe,a@example.org\r\n", "encoding is unknown"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(client, organiser, event, data, message):
    response = upload(client, event, data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert registration_count(event) == 0


def test_a_file_over_2_mb_is_refused_unread(client, organiser, event):
    rows = [HEADER, *people_rows(30_000)]
    data = csv_bytes(rows)
    assert len(data) > 2 * 1024 * 1024
    response = upload(client, event, data)
    assert response.status_code == 413
    assert "larger than 2 MB" in response.get_data(as_text=True)
    assert registration_count(event) == 0


def test_import_without_a_file_or_csrf_token_changes_nothing(client, organiser, event, make_app):
    assert "Choose a CSV file." in client.post(
        f"/manage/events/{event.id}/registrants/import", data={}
    ).get_data(as_text=True)
    guarded = make_app({"WTF_CSRF_ENABLED": True}).test_client()
    guarded.get("/lang/en")
    token = CSRF_FIELD.search(guarded.get("/login").get_data(as_text=True)).group(1)
    signed_in = guarded.post(
        "/login", data={"csrf_token": token, "email": organiser.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    url = f"/manage/events/{event.id}/registrants/import"
    assert CSRF_FIELD.search(guarded.get(url).get_data(as_text=True))  # the form carries it
    response = guarded.post(
        url,
        data={"file": (io.BytesIO(csv_bytes([HEADER, *people_rows(1)])), "list.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert registration_count(event) == 0


def test_the_import_page_answers_its_script_with_json(client, organiser, event):
    """The page's script uploads with a progress bar and then follows the JSON answer."""
    page = client.get(f"/manage/events/{event.id}/registrants/import")
    assert page.status_code == 200 and "registrants-import.js" in page.get_data(as_text=True)
    assert client.get("/static/events/registrants-import.js").status_code == 200
    response = upload(client, event, csv_bytes([HEADER, *people_rows(2)]),
                      **{"X-Requested-With": "XMLHttpRequest"})  # fmt: skip
    assert response.status_code == 200
    assert response.get_json() == {"redirect": f"/manage/events/{event.id}/registrants"}
    assert "Imported 2" in client.get(list_url(event)).get_data(as_text=True)


def test_the_sample_file_imports(client, organiser, event):
    sample = client.get(f"/manage/events/{event.id}/registrants/import-sample.csv")
    assert sample.status_code == 200
    report = import_registrants(event.id, sample.get_data())
    assert report.imported, report.problems
    assert registration_count(event) == 1


def test_importing_thousands_takes_a_constant_number_of_statements(organiser, count_queries):
    """One lock, batched inserts: 3,000 rows cost the statements 30 rows cost, but for the
    look-ups of e-mails, 900 to an IN list (3 more each for accounts and registrations)."""

    def row(n: int) -> list[str]:  # some without a phone, some without an organisation
        phone = f"+7 900 {n:07d}" if n % 3 else ""
        if n % 5 == 0:
            return [f"Участник {n}", f"u{n}@example.org", phone, "", "", ""]
        inn = with_check_digits(f"5321{n % 200:05d}") if n % 2 else ""
        return [f"Участник {n}", f"u{n}@example.org", phone, f"Организация {n % 40}", "sonko", inn]

    counted = {}
    for size in (30, 3000):
        event = make_event(capacity=2000, title=f"Event {size}", questions=False)
        data = csv_bytes([HEADER, *(row(n) for n in range(size))])
        with count_queries() as counter:
            report = import_registrants(event.id, data)
        assert report.imported and report.registered == size, report.problems[:3]
        counted[size] = counter.count
    assert counted[30] <= 20 and counted[3000] <= counted[30] + 6, counted
    assert registration_count(event) == 3000
    assert statuses_of(event)["u1999@example.org"] == Status.CONFIRMED
    assert statuses_of(event)["u2000@example.org"] == Status.WAITLISTED


def test_import_into_a_cancelled_event_is_refused(organiser):
    event = make_event(cancelled_at=utcnow())
    with force_locale("en"):  # outside a request the default language is Russian
        report = import_registrants(event.id, csv_bytes([HEADER, *people_rows(1)]))
    assert not report.imported and report.problems[0].message == "The event is cancelled."
    assert registration_count(event) == 0


def test_row_problems_speak_the_users_language(client, users, event):
    client.get("/lang/ru")
    login(client, users["organiser"])
    rows = [HEADER, *people_rows(3)]
    rows[2][5] = BAD_INN
    html = upload(client, event, csv_bytes(rows)).get_data(as_text=True)
    assert "<td>3</td><td>ИНН</td><td>Контрольная цифра не сходится" in html
    assert registration_count(event) == 0


def test_an_exported_list_imports_into_another_event(client, organiser):
    """The export's header is understood and its guard against formulas ('+7…) undone."""
    source = make_event(capacity=1)
    organisation = Organisation(name="АНО «Свет»", type=OrganisationType.SONKO, inn=GOOD_INN)
    db.session.add(organisation)
    db.session.commit()
    register(event=source, name="Анна", email="anna@example.org", phone="+7 912 000-00-00",
             organisation_id=organisation.id, answers={"Формат": "Очно"})  # fmt: skip
    register(event=source, name="Борис", email="boris@example.org", phone="-")
    exported_csv = client.get(f"/manage/events/{source.id}/registrants.csv").get_data()
    assert b"'+7 912" in exported_csv

    target = make_event(capacity=10, title="Семинар")
    with force_locale("en"):  # outside a request the default language is Russian
        report = import_registrants(target.id, exported_csv)

    assert report.problems == [ImportProblem(
        "A phone number has digits, spaces, +, brackets and dashes only.", row=3, field="phone"
    )]  # fmt: skip
    fixed = exported_csv.replace(b";'-;", b";;")
    report = import_registrants(target.id, fixed)
    assert report.imported, report.problems
    assert statuses_of(target) == {
        "anna@example.org": Status.CONFIRMED, "boris@example.org": Status.WAITLISTED
    }  # fmt: skip
    in_target = select(Registration).where(Registration.event_id == target.id)
    anna = db.session.scalar(in_target.where(Registration.email == "anna@example.org"))
    assert anna.phone == "+7 912 000-00-00" and anna.organisation_id == organisation.id
