"""POST /api/v1/checkin over HTTP, the door page's JSON helpers, and API tokens on the
profile: authentication (bearer token, or cookie + CSRF), rights, bad bodies, the rate
limit and the language of the answers."""

import hashlib
import json
import re

import pytest
from sqlalchemy import func, select

from events.models import Attendance, AttendanceMethod, CheckinAttempt, RegistrationStatus
from events.services import checkin
from tests.checkin_support import bearer, make_event, register, token_for
from tests.conftest import login, make_user
from webapp.extensions import db
from webapp.models import ApiToken, Role
from webapp.services import create_api_token

API = "/api/v1/checkin"


@pytest.fixture
def forum(app_ctx):
    return make_event("Форум НКО")


@pytest.fixture
def anna(forum):
    return register(forum, "Анна Смирнова", email="anna.s@example.org")


@pytest.fixture
def organiser_token(users):
    return token_for(users["organiser"])


def post(client, body, token=None, **headers):
    if token:
        headers.update(bearer(token))
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(API, data=data, content_type="application/json", headers=headers)


def attendance_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Attendance))


# --- answers ------------------------------------------------------------------------------


def test_a_bearer_token_checks_a_ticket_in(client, forum, anna, organiser_token, users):
    body = {"secret": anna.ticket_secret, "event_id": forum.id, "nonce": "a1"}
    response = post(client, body, organiser_token)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["status"] == "ok"
    assert answer["attendee"]["name"] == "Анна Смирнова"
    assert answer["attendee"]["checked_in_by"] == users["organiser"].full_name

    again = post(client, {**body, "nonce": "a2"}, organiser_token).get_json()
    assert (again["status"], again["reason"]) == ("error", "already_checked_in")
    assert again["attendee"]["checked_in_at"] == answer["attendee"]["checked_in_at"]
    assert post(client, body, organiser_token).get_json() == answer  # nonce a1 again
    assert attendance_count() == 1
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is not None


def test_the_event_may_be_named_by_its_session(client, forum, anna, organiser_token):
    body = {"secret": anna.ticket_secret, "session_id": forum.sessions[0].id, "nonce": "s"}
    assert post(client, body, organiser_token).get_json()["status"] == "ok"


def test_a_ticket_of_another_event_answers_wrong_event(client, forum, organiser_token):
    other = make_event("Круглый стол")
    stranger = register(other, "Чужой")
    body = {"secret": stranger.ticket_secret, "event_id": forum.id, "nonce": "w"}
    answer = post(client, body, organiser_token).get_json()
    assert (answer["status"], answer["reason"], answer["attendee"]) == (
        "error",
        "wrong_event",
        None,
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (RegistrationStatus.CANCELLED, "cancelled"),
        (RegistrationStatus.WAITLISTED, "waitlisted"),
        (RegistrationStatus.PENDING, "not_confirmed"),
    ],
)
def test_refusals_are_200_with_their_reason(client, forum, organiser_token, status, reason):
    person = register(forum, "Пётр", status)
    body = {"secret": person.ticket_secret, "event_id": forum.id}
    response = post(client, body, organiser_token)
    assert response.status_code == 200
    assert response.get_json()["reason"] == reason
    assert db.session.scalar(select(CheckinAttempt.result)) == reason


def test_an_unknown_ticket_is_200_unknown(client, forum, organiser_token):
    body = {"secret": "http://tropa.test/t/" + "z" * 26, "event_id": forum.id, "nonce": "u"}
    answer = post(client, body, organiser_token).get_json()
    assert (answer["reason"], answer["attendee"]) == ("unknown", None)


def test_as_in_design_md_the_ticket_alone_names_its_one_session_event(
    client, forum, anna, organiser_token, users
):
    body = {"secret": anna.ticket_secret, "nonce": "d1"}
    answer = post(client, body, organiser_token).get_json()
    assert answer["status"] == "ok" and answer["attendee"]["name"] == "Анна Смирнова"
    unknown = {"secret": "z" * 26, "nonce": "d2"}
    assert post(client, unknown, organiser_token).get_json()["reason"] == "unknown"
    assert post(client, unknown, organiser_token).get_json()["reason"] == "unknown"  # retry
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(CheckinAttempt)
            .where(CheckinAttempt.result == "unknown")
        )
        == 1
    )
    # Rights still hold: the event's for a known ticket, the right to scan at all for others.
    _, participant_token = create_api_token(users["participant"], "x")
    assert post(client, unknown, participant_token).status_code == 403
    assert post(client, {**body, "nonce": "d3"}, participant_token).status_code == 403


def test_a_manual_check_in_by_registration_id(client, forum, anna, organiser_token):
    body = {"registration_id": anna.id, "event_id": forum.id, "nonce": "m"}
    assert post(client, body, organiser_token).get_json()["status"] == "ok"
    assert db.session.scalar(select(Attendance.method)) == AttendanceMethod.MANUAL


def test_an_offline_scan_keeps_its_time(client, forum, anna, organiser_token):
    scanned_at = forum.sessions[0].starts_at.isoformat().replace("+00:00", "Z")
    body = {"secret": anna.ticket_secret, "event_id": forum.id, "scanned_at": scanned_at}
    assert post(client, body, organiser_token).get_json()["status"] == "ok"
    assert db.session.scalar(select(Attendance.marked_at)) == forum.sessions[0].starts_at


def test_answers_speak_the_token_holders_language(client, forum, anna, users):
    users["organiser"].locale = "en"
    db.session.commit()
    token = token_for(users["organiser"])
    post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, token)
    answer = post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, token).get_json()
    assert answer["message"].startswith("Already checked in at ")


def test_a_scan_costs_four_statements_once_the_caches_are_warm(
    client, forum, organiser_token, count_queries
):
    """Whole requests, as the tests count statements (transaction control left out). The
    first request of a process reads the token (and notes its use), the event with its
    windows, the right to scan there and the certificate setting; then each is kept a few
    seconds, and a scan is its unit alone: the person (locked), the mark, its audit entry
    and the logged attempt that claims the nonce; a repeated scan reads the earlier mark
    instead of writing the audit entry."""
    anna, boris = register(forum, "Анна"), register(forum, "Борис")

    def scan(person, nonce):
        body = {"secret": person.ticket_secret, "event_id": forum.id, "nonce": nonce}
        with count_queries() as statements:
            answer = post(client, body, organiser_token).get_json()
        return answer, statements.count

    first, cold = scan(anna, "n1")
    warm_first, warm = scan(boris, "n2")
    again, repeated = scan(anna, "n3")
    assert first["status"] == warm_first["status"] == "ok"
    assert again["reason"] == "already_checked_in"
    # the certificate setting may be cached already (certificates keeps it, by event id)
    assert cold <= 12
    assert (warm, repeated) == (4, 4)


def test_a_token_revoked_in_this_process_stops_at_once(client, forum, anna, users):
    from webapp.services import revoke_api_token

    token = token_for(users["organiser"])
    body = {"secret": anna.ticket_secret, "event_id": forum.id, "nonce": "r1"}
    assert post(client, body, token).status_code == 200  # the token is cached now
    revoke_api_token(users["organiser"], db.session.scalar(select(ApiToken.id)))
    assert post(client, {**body, "nonce": "r2"}, token).status_code == 401


# --- authentication and rights ------------------------------------------------------------


def test_without_credentials_the_answer_is_401(client, forum, anna):
    response = post(client, {"secret": anna.ticket_secret, "event_id": forum.id})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["reason"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_bad_authorization_header_is_401_even_with_a_session(client, forum, anna, users, header):
    login(client, users["organiser"])  # a cookie does not rescue a bad token
    response = post(
        client, {"secret": anna.ticket_secret, "event_id": forum.id}, Authorization=header
    )
    assert response.status_code == 401
    assert attendance_count() == 0


def test_a_revoked_token_is_401(client, forum, anna, users):
    from webapp.services import revoke_api_token

    token = token_for(users["organiser"])
    revoke_api_token(users["organiser"], db.session.scalar(select(ApiToken.id)))
    response = post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, token)
    assert response.status_code == 401


def test_a_deleted_users_token_is_401(client, forum, anna, users):
    from webapp.services import delete_account

    token = token_for(users["organiser"])
    delete_account(users["organiser"])
    response = post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, token)
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["participant", "trainer"])
def test_people_without_the_right_are_403(client, forum, anna, users, role):
    token = token_for(users[role])  # a token alone gives no right
    response = post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, token)
    assert response.status_code == 403
    assert response.get_json()["reason"] == "forbidden"
    assert attendance_count() == 0 and db.session.scalar(select(CheckinAttempt.id)) is None


def test_the_events_own_staff_may_check_in_there_only(client, users):
    helper = make_user("helper@example.org", Role.PARTICIPANT, name="Помощник")
    forum = make_event("Форум", staff=(helper,))
    other = make_event("Другое событие")
    token = token_for(helper)
    here, there = register(forum, "Анна"), register(other, "Борис")
    response = post(client, {"secret": here.ticket_secret, "event_id": forum.id}, token)
    assert response.status_code == 200
    response = post(client, {"secret": there.ticket_secret, "event_id": other.id}, token)
    assert response.status_code == 403


def test_the_session_cookie_needs_the_csrf_token(make_app, forum, anna, users):
    client = make_app({"WTF_CSRF_ENABLED": True}).test_client()
    login_with_csrf(client, users["organiser"])
    page = client.get(f"/events/{forum.id}/checkin").get_data(as_text=True)
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    body = {"secret": anna.ticket_secret, "event_id": forum.id, "nonce": "c"}

    missing = post(client, body)
    assert missing.status_code == 400 and missing.get_json()["reason"] == "csrf"
    wrong = post(client, body, **{"X-CSRFToken": "nonsense"})
    assert wrong.status_code == 400
    assert attendance_count() == 0

    response = post(client, body, **{"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_a_bearer_token_needs_no_csrf_token(make_app, forum, anna, organiser_token):
    client = make_app({"WTF_CSRF_ENABLED": True}).test_client()
    response = post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, organiser_token)
    assert response.status_code == 200


def login_with_csrf(client, user) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": user.email, "password": "correct-horse-42", "csrf_token": token}
    )
    assert response.status_code == 302


# --- bad bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2]",
        '"a string"',
        "",
        {"event_id": 1},  # nothing scanned
        {"secret": "x", "registration_id": 1, "event_id": 1},  # both
        {"secret": 42, "event_id": 1},
        {"secret": "x" * 501, "event_id": 1},
        {"secret": "x", "event_id": "1"},
        {"secret": "x", "event_id": True},
        {"secret": "x", "event_id": 0},
        {"secret": "x", "event_id": 2**31},
        {"secret": "x", "event_id": 10**30},
        {"secret": "x", "session_id": -4},
        {"secret": "x", "event_id": 1, "nonce": "n" * 101},
        {"secret": "x", "event_id": 1, "nonce": ["list"]},
        {"secret": "x", "event_id": 1, "scanned_at": "yesterday"},
        {"secret": "x", "event_id": 1, "scanned_at": "2026-05-14T10:05:00"},  # no zone
        {"secret": "x", "event_id": 1, "scanned_at": 1715680000},
        {"secret": "x", "event_id": 1, "scanned_at": "0001-01-01T00:00:00+05:00"},
        {"secret": "x", "event_id": 1, "scanned_at": "9999-12-31T23:59:59-05:00"},
    ],
)
def test_a_malformed_body_is_400_with_a_reason(client, forum, organiser_token, body):
    if isinstance(body, dict) and body.get("event_id") == 1 and body["event_id"] is not True:
        body = {**body, "event_id": forum.id}  # the event of the test
    response = post(client, body, organiser_token)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["status"] == "error" and answer["reason"] == "bad_request"
    assert answer["message"]


def test_an_unknown_event_or_foreign_session_is_400(client, forum, anna, organiser_token):
    other = make_event("Другое")
    for body in [
        {"secret": anna.ticket_secret, "event_id": 999_999},
        {"secret": anna.ticket_secret, "session_id": 999_999},
        {"secret": anna.ticket_secret, "event_id": forum.id, "session_id": other.sessions[0].id},
    ]:
        response = post(client, body, organiser_token)
        assert response.status_code == 400, body
        assert response.get_json()["reason"] == "bad_request"


def test_an_oversized_body_is_400(client, forum, organiser_token):
    body = {"secret": "x", "event_id": forum.id, "padding": "p" * 10_000}
    assert post(client, body, organiser_token).status_code == 400


def test_get_is_405_not_a_page(client):
    assert client.get(API).status_code == 405


# --- rate limit ---------------------------------------------------------------------------


def test_scanning_is_rate_limited_per_staff_member(make_app, forum, users):
    app = make_app({"RATELIMIT_ENABLED": True, "TROPA_CHECKIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    first, second = token_for(users["organiser"]), token_for(users["admin"])
    body = {"secret": "nothing", "event_id": forum.id}
    answers = [post(client, body, first).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = post(client, body, first)
    assert limited.get_json()["status"] == "error"
    assert post(client, body, second).status_code == 200  # the others scan on


def test_the_default_limit_serves_eight_scanners_on_one_account(app):
    amount, _, period = app.config["TROPA_CHECKIN_RATE_LIMIT"].split()
    assert period == "minute" and int(amount) >= 8 * 60  # a scan a second at each of 8 doors


# --- the door page's JSON helpers ---------------------------------------------------------


def test_the_page_is_the_staffs(client, forum, users):
    login(client, users["organiser"])
    page = client.get(f"/events/{forum.id}/checkin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    config = json.loads(re.search(r'id="checkin-config">(.*?)</script>', html, re.S).group(1))
    assert config["eventId"] == forum.id and config["sessionId"] == forum.sessions[0].id
    assert config["urls"]["api"] == API
    for script in ("jsQR.js", "sha256.js", "checkin.js"):
        assert f"/static/events/checkin/{script}" in html


def test_stats_count_and_tell_the_time(client, forum, anna, organiser_token, users):
    register(forum, "Борис")
    post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, organiser_token)
    login(client, users["organiser"])
    stats = client.get(f"/events/{forum.id}/checkin/stats").get_json()
    assert (stats["registered"], stats["checked_in"], stats["expected"]) == (2, 1, 1)
    assert stats["session_id"] == forum.sessions[0].id and stats["now"]


def test_the_attendee_list_carries_hashes_and_never_secrets(client, forum, anna, users):
    login(client, users["organiser"])
    response = client.get(f"/events/{forum.id}/checkin/attendees")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert anna.ticket_secret not in response.get_data(as_text=True)
    [attendee] = response.get_json()["attendees"]
    assert attendee["hash"] == hashlib.sha256(anna.ticket_secret.encode()).hexdigest()
    assert (attendee["name"], attendee["status"]) == ("Анна Смирнова", "confirmed")


def test_search_pages_through_the_registrations(client, forum, users):
    for n in range(25):
        register(forum, f"Смирнов {n:02d}")
    login(client, users["organiser"])
    first = client.get(f"/events/{forum.id}/checkin/search?q=СМИРНОВ").get_json()
    second = client.get(f"/events/{forum.id}/checkin/search?q=смирнов&page=2").get_json()
    assert len(first["results"]) == 20 and first["has_next"]
    assert len(second["results"]) == 5 and not second["has_next"]
    for page in ("x", "-3", "9" * 30):
        assert client.get(f"/events/{forum.id}/checkin/search?q=a&page={page}").status_code == 200


def test_the_json_helpers_are_401_signed_out_and_403_for_others(client, forum, users):
    for path in ("stats", "attendees", "search"):
        assert client.get(f"/events/{forum.id}/checkin/{path}").status_code == 401
    login(client, users["participant"])
    for path in ("stats", "attendees", "search"):
        assert client.get(f"/events/{forum.id}/checkin/{path}").status_code == 403
    assert client.post(f"/events/{forum.id}/checkin/undo", json={}).status_code == 403


def test_undo_over_http(client, forum, anna, users):
    login(client, users["organiser"])
    answer = checkin.check_in(event_id=forum.id, scanned=anna.ticket_secret)
    body = {"registration_id": anna.id, "session_id": answer["attendee"]["session_id"]}
    undone = client.post(f"/events/{forum.id}/checkin/undo", json=body).get_json()
    assert undone["status"] == "ok" and undone["attendee"]["name"] == "Анна Смирнова"
    assert attendance_count() == 0
    twice = client.post(f"/events/{forum.id}/checkin/undo", json=body).get_json()
    assert twice["reason"] == "not_checked_in"
    bad = client.post(f"/events/{forum.id}/checkin/undo", data="nope")
    assert bad.status_code == 400 and bad.get_json()["reason"] == "bad_request"


def test_the_service_worker_may_control_the_page(client, forum):
    response = client.get(f"/events/{forum.id}/checkin/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == f"/events/{forum.id}/checkin"
    assert "no-cache" in response.headers["Cache-Control"]
    assert client.get("/events/999999/checkin/sw.js").status_code == 404


# --- API tokens on the profile ------------------------------------------------------------


def test_a_trainer_creates_a_token_that_is_shown_once_and_kept_hashed(client, forum, users):
    login(client, users["trainer"])
    client.get("/lang/en")
    assert "API tokens" in client.get("/profile").get_data(as_text=True)
    response = client.post("/profile/tokens", data={"token-name": "Main door"})
    assert response.status_code == 200
    shown = re.search(r'id="new-api-token">([^<]+)<', response.get_data(as_text=True)).group(1)
    row = db.session.scalar(select(ApiToken))
    assert (row.name, row.user_id) == ("Main door", users["trainer"].id)
    assert row.token_hash == hashlib.sha256(shown.encode()).hexdigest()
    assert shown not in client.get("/profile").get_data(as_text=True)  # never again

    revoke = client.post("/profile/tokens/revoke", data={"token_id": str(row.id)})
    assert revoke.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None


def test_a_token_needs_a_name(client, users):
    login(client, users["organiser"])
    response = client.post("/profile/tokens", data={"token-name": "  "})
    assert response.status_code == 200
    assert db.session.scalar(select(ApiToken.id)) is None


def test_participants_have_no_tokens_but_event_staff_do(client, users):
    login(client, users["participant"])
    assert 'id="api-tokens"' not in client.get("/profile").get_data(as_text=True)
    assert client.post("/profile/tokens", data={"token-name": "x"}).status_code == 403
    make_event("Форум", staff=(users["participant"],))
    assert 'id="api-tokens"' in client.get("/profile").get_data(as_text=True)
    assert client.post("/profile/tokens", data={"token-name": "x"}).status_code == 200


def test_nobody_revokes_another_persons_token(client, users):
    token_for(users["organiser"])
    row = db.session.scalar(select(ApiToken))
    login(client, users["admin"])
    client.post("/profile/tokens/revoke", data={"token_id": str(row.id)})
    db.session.refresh(row)
    assert row.revoked_at is None


def test_a_scanners_answer_is_not_stored_though_nobody_signed_in(client, forum, anna, users):
    """A bearer request has no signed-in user; its answer names a person all the same."""
    token = token_for(users["organiser"])
    response = post(client, {"secret": anna.ticket_secret, "event_id": forum.id}, token)
    assert response.get_json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "private, no-store"
