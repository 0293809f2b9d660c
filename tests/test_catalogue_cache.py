"""The catalogue's pages are kept rendered in each process (courses.services.catalogue):
whatever changes what they show is on the very next page served, and nobody sees another
person's parts of the page, or another language."""

from sqlalchemy import select, update

from courses import services
from courses.models import Programme
from events.models import Event, Session
from events.services import seats
from tests.conftest import login, make_user
from tests.events_support import make_event
from tests.test_course_management import course_form
from webapp.extensions import db
from webapp.models import CacheStamp


def catalogue(client, query: str = "") -> str:
    response = client.get(f"/courses/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_enrolling_and_cancelling_show_in_places_left_at_once(english, make_course, users):
    course = make_course(title="Маркетинг для НКО", capacity=2)
    assert "Places left: 2 of 2" in catalogue(english)
    login(english, users["participant"])

    english.post(f"/courses/{course.id}/enrol")
    assert "Places left: 1 of 2" in catalogue(english)

    english.post(f"/courses/{course.id}/cancel")
    assert "Places left: 2 of 2" in catalogue(english)


def test_the_last_place_taken_shows_the_waiting_list(english, make_course):
    course = make_course(capacity=1)
    assert "Places left: 1 of 1" in catalogue(english)
    services.enrol(course, make_user("first@example.org"))
    assert "No places left: waiting list" in catalogue(english)


def test_an_organisers_edit_shows_at_once(english, make_course, users):
    course = make_course(title="Старое название", capacity=5)
    assert "Старое название" in catalogue(english)
    login(english, users["organiser"])

    form = course_form(course.programme_id, title="Новое название", capacity="3")
    english.post(f"/manage/courses/{course.id}", data=form)

    page = catalogue(english)
    assert "Новое название" in page and "Старое название" not in page
    assert "Places left: 3 of 3" in page


def test_a_new_course_and_a_renamed_programme_show_at_once(english, make_course, users):
    course = make_course(title="Первый курс")
    assert "Акселератор 2026" in catalogue(english)
    login(english, users["organiser"])

    english.post(
        f"/manage/programmes/{course.programme_id}", data={"title": "Школа НКО", "description": ""}
    )
    english.post("/manage/courses/new", data=course_form(course.programme_id, title="Второй курс"))

    page = catalogue(english)
    assert "Школа НКО" in page and "Акселератор 2026" not in page
    assert "Первый курс" in page and "Второй курс" in page
    assert db.session.scalar(select(Programme.title)) == "Школа НКО"


def test_sessions_added_and_deleted_show_in_the_dates_at_once(english, make_course, users):
    course = make_course(sessions=0)
    assert "Dates to be announced" in catalogue(english)
    login(english, users["organiser"])

    english.post(
        f"/manage/courses/{course.id}/sessions",
        data={"date": "2026-12-10", "starts": "10:00", "ends": "13:00", "room": ""},
    )
    assert "10 December 2026" in catalogue(english)

    session_id = db.session.scalar(select(Session.id))
    english.post(f"/manage/sessions/{session_id}/delete")
    assert "Dates to be announced" in catalogue(english)

    english.post(  # a weekly series: three sessions, one unit
        f"/manage/courses/{course.id}/sessions",
        data={
            "date": "2026-12-10",
            "starts": "10:00",
            "ends": "13:00",
            "repeat": "times",
            "repeat_count": "3",
        },
    )
    assert "10 December 2026 — 24 December 2026" in catalogue(english)


def test_a_page_is_kept_until_a_change_in_any_process_moves_the_stamp(english, make_course):
    """The stamp lives in the database: another worker's or host's unit moves it there."""
    course = make_course(title="Курс до правки")
    catalogue(english)
    renamed = update(Event).where(Event.id == course.id).values(title="Курс после правки")
    db.session.execute(renamed)  # a change written past the services: nobody is told
    db.session.commit()
    assert "Курс до правки" in catalogue(english)  # the kept page

    db.session.execute(update(CacheStamp).values(version=CacheStamp.version + 1))
    db.session.commit()  # as another process's unit would, with its change
    assert "Курс после правки" in catalogue(english)


def test_nobody_sees_another_persons_parts_of_the_page_or_language(app_ctx, make_course, users):
    make_course(title="Общий курс")
    anna, olga, guest, english_guest = (app_ctx.test_client() for _ in range(4))
    login(anna, users["participant"])
    anna.get("/lang/en")
    login(olga, users["organiser"])
    english_guest.get("/lang/en")

    annas = catalogue(anna)  # first: her page is the one built
    olgas, guests, english_guests = catalogue(olga), catalogue(guest), catalogue(english_guest)

    assert all("Общий курс" in page for page in (annas, olgas, guests, english_guests))
    assert "Анна Смирнова" in annas and "My learning" in annas and "Course catalogue" in annas
    assert "Ольга Орлова" in olgas and "Каталог курсов" in olgas and "Анна" not in olgas
    for page in guests, english_guests:
        assert "Анна" not in page and "Ольга" not in page and "csrf_token" not in page
    assert "Войти" in guests and "Каталог курсов" in guests
    assert "Sign in" in english_guests and "Course catalogue" in english_guests


def test_pages_and_searches_are_kept_apart(english, make_course, app_ctx):
    page_size = app_ctx.config["PAGE_SIZE"]
    for number in range(page_size + 1):
        make_course(title=f"Курс номер {number:02d}")
    make_course(title="Маркетинг для НКО", sessions=0)  # undated: the last of all

    first, second = catalogue(english), catalogue(english, "?page=2")
    found = catalogue(english, "?q=маркетинг")

    assert "Курс номер 00" in first and "Маркетинг для НКО" not in first
    assert "Маркетинг для НКО" in second and "Курс номер 00" not in second
    assert "Courses found: 1" in found and "Маркетинг для НКО" in found
    assert catalogue(english) == first  # kept, and still the first page
    assert 'href="/courses/?page=2"' in first
    assert 'href="/courses/?q=%D0%BA%D1%83%D1%80%D1%81&amp;page=2"' in catalogue(english, "?q=курс")


def test_registrations_for_outreach_events_leave_the_catalogue_alone(app_ctx):
    """Only courses' changes move the stamp: a burst of registrations for a forum never
    queues on its row."""
    event = make_event()
    seats.register(event.id, full_name="Гость", email="guest@example.org")
    catalogue_stamp = select(CacheStamp.version).where(CacheStamp.name == "catalogue")
    assert db.session.scalar(catalogue_stamp) is None
