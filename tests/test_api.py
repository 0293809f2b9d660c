"""The public JSON API for the centre's website."""

from events.services import seats
from tests.conftest import make_user


def test_course_list_fields_and_no_personal_data(client, make_course):
    course = make_course(capacity=2)
    make_course(title="Черновик", visibility="draft")
    for n in range(3):
        user = make_user(f"api{n}@example.org")
        seats.register(course.id, full_name=user.full_name, email=user.email, user_id=user.id)
    body = client.get("/api/v1/courses").json
    assert [c["title"] for c in body["courses"]] == [course.title]
    item = body["courses"][0]
    assert item["id"] == course.id
    assert item["url"].endswith(f"/courses/{course.id}")
    assert item["capacity"] == 2 and item["confirmed"] == 2 and item["waitlisted"] == 1
    assert item["places_left"] == 0 and item["registration_open"] is True
    assert item["starts_at"] == course.sessions[0].starts_at.isoformat()
    assert "api0@example.org" not in client.get("/api/v1/courses").get_data(True)


def test_single_course_lists_its_sessions(client, course):
    body = client.get(f"/api/v1/courses/{course.id}").json
    assert [s["id"] for s in body["sessions"]] == [s.id for s in course.sessions]
    assert body["sessions"][0]["ends_at"] == course.sessions[0].ends_at.isoformat()
    assert body["places_left"] == 20


def test_unknown_or_draft_course_is_a_json_404(client, make_course):
    draft = make_course(visibility="draft")
    for url in (f"/api/v1/courses/{draft.id}", "/api/v1/courses/999999"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json["status"] == "error" and response.json["reason"] == "not_found"
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["status"] == "error"
