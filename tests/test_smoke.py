def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_catalogue_lists_a_published_course(client, course):
    page = client.get("/courses/").get_data(as_text=True)
    assert course.title in page


def test_enrol_then_cancel(client, users, course):
    from tests.conftest import login

    login(client, users["participant"])
    response = client.post(f"/courses/{course.id}/enrol", follow_redirects=True)
    assert "Вы записаны" in response.get_data(as_text=True) or response.status_code == 200
