"""Organisers: programmes, courses, sessions, the enrolment list and its export."""

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from courses.models import Course, Programme
from events.models import Registration, RegistrationStatus, Session
from events.services import seats
from tests.conftest import login, make_user
from webapp.extensions import db
from webapp.models import Organisation, OrganisationType
from webapp.services import with_check_digits


def course_form(programme_id, **overrides):
    data = {
        "title": "Маркетинг социальных услуг",
        "description": "Как рассказать о проекте.",
        "programme_id": programme_id,
        "level": 3,
        "direction": "older_people",
        "format": "mixed",
        "venue": "Великий Новгород, ул. Большая Московская, 24",
        "online_url": "",
        "academic_hours": 16,
        "capacity": "2",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "visibility": "published",
    }
    data.update(overrides)
    return data


def test_organiser_creates_programme_course_and_sessions(client, users):
    login(client, users["organiser"])
    client.post("/manage/programmes", data={"title": "Школа НКО", "description": ""})
    programme = db.session.scalar(select(Programme))
    assert programme.title == "Школа НКО"

    form = course_form(programme.id, trainer_ids=[users["trainer"].id])
    response = client.post("/manage/courses/new", data=form)
    assert response.status_code == 302
    course = db.session.scalar(select(Course))
    assert course.title == "Маркетинг социальных услуг" and course.level == 3
    assert [t.id for t in course.trainers] == [users["trainer"].id]
    assert course.search_text == "маркетинг социальных услуг как рассказать о проекте."

    # Session times are typed in the course's zone (Moscow, UTC+3) and stored in UTC.
    client.post(
        f"/manage/courses/{course.id}/sessions",
        data={"date": "2026-12-10", "starts": "10:00", "ends": "13:00", "room": "Зал 2"},
    )
    session = db.session.scalar(select(Session))
    assert session.starts_at == datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    client.get("/lang/en")
    page = client.get(f"/courses/{course.id}").get_data(True)
    assert "10 December 2026, 10:00" in page and "13:00" in page


def test_course_form_errors_are_shown_not_500(client, users):
    login(client, users["organiser"])
    client.post("/manage/programmes", data={"title": "Школа НКО"})
    programme = db.session.scalar(select(Programme))
    client.get("/lang/en")
    bad = course_form(
        programme.id,
        title="",
        capacity="-5",
        online_url="not a link",
        registration_opens_at="2026-12-10T10:00",
        registration_closes_at="2026-12-01T10:00",
    )
    response = client.post("/manage/courses/new", data=bad)
    page = response.get_data(True)
    assert response.status_code == 200
    assert "This field is required." in page
    assert "Give a full link" in page
    assert "Enrolment must close after it opens." in page
    assert db.session.scalar(select(Course)) is None


def test_session_must_end_after_it_starts(client, users, course):
    login(client, users["organiser"])
    client.get("/lang/en")
    response = client.post(
        f"/manage/courses/{course.id}/sessions",
        data={"date": "2026-12-10", "starts": "13:00", "ends": "10:00"},
    )
    assert "A session must end after it starts." in response.get_data(True)


def test_raising_capacity_in_the_form_promotes(client, users, make_course):
    course = make_course(capacity=1)
    for n in range(3):
        user = make_user(f"w{n}@example.org")
        seats.register(course.id, full_name=user.full_name, email=user.email, user_id=user.id)
    login(client, users["organiser"])
    form = course_form(course.programme_id, title=course.title, capacity="2")
    client.post(f"/manage/courses/{course.id}", data=form)
    confirmed = db.session.scalars(
        select(Registration.email).where(Registration.status == RegistrationStatus.CONFIRMED)
    ).all()
    assert sorted(confirmed) == ["w0@example.org", "w1@example.org"]


def test_enrolment_list_and_exports_carry_organisation_data(client, users, course):
    participant = users["participant"]
    participant.municipality = "Боровичский район"
    participant.organisation = Organisation(
        name='АНО "Вместе"', type=OrganisationType.SONKO, inn=with_check_digits("532100123")
    )
    db.session.commit()
    seats.register(
        course.id, full_name=participant.full_name, email=participant.email, user_id=participant.id
    )
    seats.register(course.id, full_name="=HYPERLINK(1)", email="guest@example.org")
    login(client, users["organiser"])
    page = client.get(f"/manage/courses/{course.id}/enrolments").get_data(True)
    assert "Анна Смирнова" in page and "Вместе" in page and "Боровичский район" in page

    response = client.get(f"/manage/courses/{course.id}/enrolments.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 3
    assert rows[1][0] == "Анна Смирнова" and rows[1][8] == participant.organisation.inn
    assert rows[2][0] == "'=HYPERLINK(1)"  # formulas are neutralised

    response = client.get(f"/manage/courses/{course.id}/enrolments.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][0] == "Анна Смирнова" and values[1][6] == 'АНО "Вместе"'


def test_trainer_of_the_course_sees_the_list_but_cannot_move_people(client, users, course):
    course.trainers.append(users["trainer"])
    db.session.commit()
    registration = seats.register(course.id, full_name="Гость", email="g@example.org").registration
    login(client, users["trainer"])
    assert client.get(f"/manage/courses/{course.id}/enrolments").status_code == 200
    response = client.post(
        f"/manage/registrations/{registration.id}/status", data={"status": "cancelled"}
    )
    assert response.status_code == 403


def test_organiser_moves_a_person_and_sees_who_was_promoted(client, users, make_course):
    course = make_course(capacity=1)
    first = seats.register(course.id, full_name="Первый", email="1@example.org").registration
    seats.register(course.id, full_name="Вторая", email="2@example.org")
    login(client, users["organiser"])
    client.get("/lang/en")
    response = client.post(
        f"/manage/registrations/{first.id}/status",
        data={"status": "cancelled"},
        follow_redirects=True,
    )
    page = response.get_data(True)
    assert "Promoted from the waiting list: Вторая" in page
    response = client.post(
        f"/manage/registrations/{first.id}/status",
        data={"status": "confirmed"},
        follow_redirects=True,
    )
    assert "There are no free places" in response.get_data(True)
