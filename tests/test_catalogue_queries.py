"""Pages that list courses run a fixed number of SQL queries, however many rows they show
(no N+1: a query per card would make the catalogue slow exactly when the centre grows)."""

from events.services import seats
from tests.conftest import login, make_user
from webapp.models import Role


def enrol(course, user) -> None:
    seats.register(course.id, full_name=user.full_name, email=user.email, user_id=user.id)


def add_courses(make_course, count: int, start: int, trainer, people) -> None:
    """Courses of several shapes: with trainers, without dates, full with a waiting list."""
    for number in range(start, start + count):
        course = make_course(
            title=f"Курс {number}",
            capacity=1 if number % 3 == 0 else 20,
            sessions=0 if number % 4 == 0 else 2,
            trainers=[trainer] if number % 2 else [],
        )
        if number % 3 != 1:
            for person in people:
                enrol(course, person)


def queries_for(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def test_catalogue_and_api_query_count_does_not_grow_with_courses(
    client, make_course, count_queries
):
    trainer = make_user("trainer@example.org", Role.TRAINER)
    people = [make_user(f"p{n}@example.org") for n in range(2)]

    pages = ("/courses/", "/api/v1/courses")

    add_courses(make_course, 5, 0, trainer, people)
    few = {url: queries_for(client, count_queries, url) for url in pages}
    add_courses(make_course, 25, 5, trainer, people)
    many = {url: queries_for(client, count_queries, url) for url in pages}

    assert many == few
    assert len(client.get("/api/v1/courses").json["courses"]) == 30


def test_a_kept_catalogue_page_costs_one_statement_and_a_new_one_a_fixed_number(
    client, make_course, count_queries
):
    """The catalogue's pages are kept rendered (courses.services.catalogue): serving one
    again reads the stamp only; building one after a change costs the same however many
    courses there are."""
    trainer = make_user("trainer@example.org", Role.TRAINER)
    people = [make_user(f"p{n}@example.org") for n in range(2)]

    def built_then_kept(url: str) -> tuple[int, list[str]]:
        built = queries_for(client, count_queries, url)
        with count_queries() as kept:
            assert client.get(url).status_code == 200
        return built, kept.statements

    pages = ("/courses/", "/courses/?page=2", "/courses/?q=курс&level=1&free=y")
    add_courses(make_course, 13, 0, trainer, people)  # a second page of one course
    few = {url: built_then_kept(url) for url in pages}
    add_courses(make_course, 25, 13, trainer, people)
    many = {url: built_then_kept(url) for url in pages}

    assert many == few
    for _built, kept in many.values():
        assert len(kept) == 1 and "cache_stamps" in kept[0]


def test_my_learning_query_count_does_not_grow_with_enrolments(
    client, users, make_course, count_queries
):
    participant = users["participant"]
    other = users["trainer"]  # takes the single place of some courses, so anna waits
    login(client, participant)

    def enrol_in(count: int, start: int) -> None:
        for number in range(start, start + count):
            course = make_course(
                title=f"Курс {number}",
                capacity=1 if number % 2 else 20,
                sessions=0 if number % 3 == 0 else 2,
            )
            if number % 2:
                enrol(course, other)
            enrol(course, participant)

    enrol_in(2, 0)
    few = queries_for(client, count_queries, "/my/learning")
    enrol_in(6, 2)
    many = queries_for(client, count_queries, "/my/learning")

    assert many == few
    page = client.get("/my/learning").get_data(as_text=True)
    assert all(f"Курс {number}<" in page for number in range(8))
