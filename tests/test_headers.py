"""Headers: the Content-Security-Policy of HTML pages (and the template rules it needs),
no caching of private pages, Secure cookies behind HTTPS, CORS and short caching with
ETags for the public API."""

import re
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, login
from tests.events_support import make_event, register, secret_from
from webapp.config import load_config

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(
    path
    for package in ("webapp", "events", "courses", "certificates", "projects", "reports")
    for path in (REPO / package / "templates").rglob("*.html")
)
NONCE = re.compile(r"'nonce-([^']+)'")


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in header.split("; ") if part.strip()
    }


# --- Content-Security-Policy -------------------------------------------------------------


def test_html_pages_carry_a_policy_with_a_fresh_nonce(client):
    first, second = client.get("/login"), client.get("/login")

    rules = policy(first)
    assert rules["default-src"] == "'self'"
    assert rules["script-src"].startswith("'self' 'nonce-")
    assert "unsafe-inline" not in rules["script-src"] and "unsafe-eval" not in rules["script-src"]
    assert "unsafe-inline" not in rules["style-src"]
    assert rules["object-src"] == "'none'" and rules["frame-ancestors"] == "'self'"
    assert NONCE.search(rules["script-src"]).group(1) != NONCE.search(
        policy(second)["script-src"]
    ).group(1)
    assert "Content-Security-Policy" not in client.get("/healthz").headers  # JSON


def test_an_inline_script_carries_the_responses_nonce(client, users):
    event = make_event()
    register(client, event)
    login(client, users["organiser"])

    response = client.get(f"/manage/events/{event.id}/registrants")  # the bulk bar's script

    nonce = NONCE.search(policy(response)["script-src"]).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.get_data(as_text=True))
    assert scripts
    assert all(f'nonce="{nonce}"' in attributes for attributes in scripts)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(REPO)))
def test_templates_follow_the_policys_rules(template):
    """No inline handler (use data-confirm or a static script); an inline script or style
    element carries the nonce (a JSON data block needs none)."""
    text = template.read_text()
    assert not re.search(r"\son[a-z]+\s*=", text), "an inline event handler"
    for tag, attributes in re.findall(r"<(script|style)(\s[^>]*)?>", text):
        attributes = attributes or ""
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        assert 'nonce="{{ csp_nonce() }}"' in attributes, f"<{tag}{attributes}> without the nonce"


# --- private pages are not stored --------------------------------------------------------


def test_private_pages_and_downloads_are_not_stored(client, users, course):
    login(client, users["organiser"])
    for path in (
        "/profile",
        "/profile/data.json",
        "/my/learning",
        f"/manage/courses/{course.id}/enrolments.csv",
        f"/manage/courses/{course.id}/enrolments.xlsx",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path


def test_a_ticket_is_not_stored(client, app_ctx):
    event = make_event()
    secret = secret_from(register(client, event))

    for suffix in ("", "/ticket.pdf", "/qr.png"):
        response = client.get(f"/t/{secret}{suffix}")
        assert response.headers["Cache-Control"] == "private, no-store", suffix


def test_public_pages_for_guests_are_not_marked_private(client, course):
    assert "no-store" not in client.get(f"/courses/{course.id}").headers.get("Cache-Control", "")


# --- cookies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [("https://tropa.example.org", True), ("http://127.0.0.1:5000", False), ("", False)],
)
def test_cookies_are_secure_when_the_base_url_is_https(monkeypatch, tmp_path, base_url, secure):
    monkeypatch.setenv("TROPA_BASE_URL", base_url)
    monkeypatch.delenv("TROPA_SECURE_COOKIES", raising=False)

    config = load_config(tmp_path)

    assert config["SESSION_COOKIE_SECURE"] is secure
    assert config["REMEMBER_COOKIE_SECURE"] is secure


def test_behind_https_the_session_and_remember_cookies_are_sent_secure(
    make_app, monkeypatch, users
):
    monkeypatch.setenv("TROPA_BASE_URL", "https://tropa.example.org")
    client = make_app().test_client()

    response = client.post(
        "/login", data={"email": "anna@example.org", "password": PASSWORD, "remember": "y"}
    )

    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie


# --- the public API: CORS, ETag, a minute of caching --------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/courses", "/api/v1/events", "/.well-known/jwks.json"])
def test_the_public_api_answers_any_site_and_caches_for_a_minute(client, course, path):
    response = client.get(path, headers={"Origin": "https://centre.example"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=60"
    etag = response.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_single_course_changes_its_etag_when_it_changes(client, course):
    path = f"/api/v1/courses/{course.id}"
    before = client.get(path).headers["ETag"]
    course.title = "Новое название"
    from webapp.extensions import db

    db.session.commit()

    assert client.get(path, headers={"If-None-Match": before}).status_code == 200


def test_cors_origins_can_be_limited(make_app, course):
    client = make_app({"TROPA_CORS_ORIGINS": ["https://centre.example"]}).test_client()

    allowed = client.get("/api/v1/courses", headers={"Origin": "https://centre.example"})
    other = client.get("/api/v1/courses", headers={"Origin": "https://elsewhere.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://centre.example"
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_preflight_is_answered(client):
    response = client.options(
        "/api/v1/events",
        headers={"Origin": "https://centre.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_the_check_in_api_is_not_opened_to_other_sites(client):
    response = client.post("/api/v1/checkin", json={}, headers={"Origin": "https://x.example"})

    assert "Access-Control-Allow-Origin" not in response.headers
