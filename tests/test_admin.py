"""Admin of users: search, role filter, pages, granting and revoking roles, who may do it."""

import re

import pytest

from tests.conftest import login, make_user
from webapp import services
from webapp.extensions import db
from webapp.models import Role, User


@pytest.fixture
def admin_client(client, users):
    login(client, users["admin"])
    client.get("/lang/en")
    return client


def listed_names(page: str) -> list[str]:
    """Full names in the admin list, in the order shown."""
    return re.findall(r'<td><a href="/admin/users/\d+">([^<]+)</a></td>', page)


def search(client, **params) -> list[str]:
    return listed_names(client.get("/admin/users", query_string=params).get_data(as_text=True))


def test_the_list_shows_every_user_by_name(admin_client, users):
    page = admin_client.get("/admin/users").get_data(as_text=True)

    assert listed_names(page) == sorted(user.full_name for user in users.values())
    assert "Found: 4" in page
    assert "anna@example.org" in page


@pytest.mark.parametrize(
    "typed",
    ["анна", "АННА", "Анна", "смирнова", "нна смир", "  смирнова   анна ", "anna@example"],
)
def test_search_by_name_ignores_case_in_cyrillic(admin_client, users, typed):
    assert search(admin_client, q=typed) == ["Анна Смирнова"]


def test_search_folds_yo(admin_client, users):
    make_user("pyotr@example.org", name="Пётр Семёнов")

    assert search(admin_client, q="семенов") == ["Пётр Семёнов"]
    assert search(admin_client, q="СЕМЁНОВ") == ["Пётр Семёнов"]


def test_search_treats_like_wildcards_as_text(admin_client, users):
    assert search(admin_client, q="%") == []
    assert search(admin_client, q="_") == []


def test_search_finds_a_renamed_user_by_the_new_name(admin_client, users):
    anna = users["participant"]
    anna.full_name = "Анна Кузнецова"
    db.session.commit()

    assert search(admin_client, q="кузнецова") == ["Анна Кузнецова"]
    assert search(admin_client, q="смирнова") == []


def test_filter_by_role(admin_client, users):
    assert search(admin_client, role="organiser") == ["Ольга Орлова"]
    assert search(admin_client, role="trainer", q="ольга") == []
    assert search(admin_client, role="participant", q="анна") == ["Анна Смирнова"]


def test_deleted_users_are_not_listed(admin_client, users):
    services.delete_account(users["participant"])

    assert "Анна Смирнова" not in search(admin_client)
    assert search(admin_client, q="deleted") == []


def test_the_list_is_paged_by_25(admin_client, users):
    for number in range(1, 27):
        make_user(f"p{number:02}@example.org", name=f"Участник {number:02}")

    first = admin_client.get("/admin/users", query_string={"q": "участник"}).get_data(as_text=True)
    second = search(admin_client, q="участник", page=2)

    assert "Found: 26" in first
    assert listed_names(first) == [f"Участник {number:02}" for number in range(1, 26)]
    assert second == ["Участник 26"]
    assert 'href="/admin/users?q=%D1%83%D1%87%D0%B0%D1%81%D1%82%D0%BD%D0%B8%D0%BA&amp;page=2"' in (
        first
    )


# --- roles -------------------------------------------------------------------------------


def change_role(client, user: User, role: str, action: str):
    return client.post(f"/admin/users/{user.id}", data={"role": role, "action": action})


def roles_of(user: User) -> set[Role]:
    return db.session.get(User, user.id, populate_existing=True).roles


def test_grant_and_revoke_a_role(admin_client, users):
    anna = users["participant"]

    response = change_role(admin_client, anna, "trainer", "grant")

    assert response.headers["Location"] == f"/admin/users/{anna.id}"
    assert roles_of(anna) == {Role.PARTICIPANT, Role.TRAINER}
    assert "Role granted." in admin_client.get(f"/admin/users/{anna.id}").get_data(as_text=True)

    change_role(admin_client, anna, "participant", "revoke")

    assert roles_of(anna) == {Role.TRAINER}
    assert "Role revoked." in admin_client.get(f"/admin/users/{anna.id}").get_data(as_text=True)


def test_an_admin_cannot_revoke_its_own_admin_role(admin_client, users):
    admin = users["admin"]

    change_role(admin_client, admin, "admin", "revoke")

    assert roles_of(admin) == {Role.ADMIN}
    page = admin_client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "You cannot take the admin role from yourself." in page


def test_an_admin_may_revoke_another_admins_role(admin_client, users):
    second = make_user("second-admin@example.org", Role.ADMIN, Role.ORGANISER)

    change_role(admin_client, second, "admin", "revoke")

    assert roles_of(second) == {Role.ORGANISER}


def test_an_unknown_role_changes_nothing(admin_client, users):
    anna = users["participant"]

    response = change_role(admin_client, anna, "wizard", "grant")

    assert response.status_code == 200
    assert roles_of(anna) == {Role.PARTICIPANT}


@pytest.mark.parametrize("role", ["participant", "trainer", "organiser"])
def test_only_admins_may_manage_users(client, users, role):
    login(client, users[role])
    client.get("/lang/en")
    anna = users["participant"]

    listing = client.get("/admin/users")
    change = change_role(client, anna, "admin", "grant")

    assert listing.status_code == 403
    assert "You do not have the rights to open this page." in listing.get_data(as_text=True)
    assert "anna@example.org" not in listing.get_data(as_text=True)
    assert change.status_code == 403
    assert roles_of(anna) == {Role.PARTICIPANT}


def test_anonymous_visitors_are_sent_to_sign_in(client, users):
    response = client.get("/admin/users")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
