"""CSRF, Markdown sanitising, security headers and cookies, the generated secret key."""

import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from webapp.config import load_config
from webapp.extensions import db
from webapp.filters import render_markdown
from webapp.models import User

CSRF_MESSAGE = "The form has expired. Please reload the page and try again."


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(make_app):
    """A client of an app with CSRF protection on (the session app has it off)."""
    client = make_app({"WTF_CSRF_ENABLED": True}).test_client()
    client.get("/lang/en")
    return client


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in_with_token(client, email: str) -> None:
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_a_post_without_the_csrf_token_is_refused_with_a_clear_page(csrf_client, users):
    response = csrf_client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert CSRF_MESSAGE in page
    assert "The request could not be completed" in page
    assert csrf_client.get("/profile").status_code == 302  # not signed in


def test_a_json_post_without_the_csrf_token_gets_a_json_answer(csrf_client, users):
    response = csrf_client.post(
        "/login", data={"email": "anna@example.org"}, headers={"Accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.json == {"status": "error", "reason": "csrf", "message": CSRF_MESSAGE}


def test_a_wrong_csrf_token_is_refused(csrf_client, users):
    csrf_token(csrf_client, "/login")  # the session has a token, the form brings another
    response = csrf_client.post(
        "/login",
        data={"email": "anna@example.org", "password": PASSWORD, "csrf_token": "forged"},
    )

    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)


def test_the_forms_token_lets_the_post_through(csrf_client, users):
    sign_in_with_token(csrf_client, "anna@example.org")

    assert csrf_client.get("/profile").status_code == 200


def test_signed_in_changes_need_the_token(csrf_client, users):
    sign_in_with_token(csrf_client, "anna@example.org")

    deletion = csrf_client.post("/profile/delete", data={"password": PASSWORD, "confirm": "y"})
    logout = csrf_client.post("/logout")

    assert deletion.status_code == 400
    assert logout.status_code == 400
    assert db.session.get(User, users["participant"].id).is_active
    assert csrf_client.get("/profile").status_code == 200  # still signed in


# --- Markdown ----------------------------------------------------------------------------

HOSTILE_MARKDOWN = """\
**Bold** and a [safe link](https://example.org/page).

<script>alert("script")</script>

<img src="x" onerror="alert('img')">

<a href="javascript:alert('raw')" onclick="alert('click')">raw link</a>

[markdown link](javascript:alert('md'))

[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)

<iframe src="https://evil.example/"></iframe>

<svg onload="alert('svg')"><circle r="1"/></svg>

<p style="background:url(javascript:alert('css'))">styled</p>
"""


class TagCollector(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def parse(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    return collector


def assert_harmless(html: str) -> None:
    found = parse(html)
    for tag, attrs in found.tags:
        assert tag not in {"iframe", "svg", "img", "object", "embed", "style"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            if name in {"href", "src"}:
                # webcal: the page's own "subscribe to the calendar" link
                safe = {"http", "https", "mailto", "webcal"}
                assert value.split(":")[0].lower() in safe or (value.startswith("/")), (tag, value)
    assert not any("alert" in text for text in found.script_text)


def test_render_markdown_keeps_formatting_and_drops_what_runs(app_ctx):
    html = str(render_markdown(HOSTILE_MARKDOWN))

    assert_harmless(html)
    assert "<strong>Bold</strong>" in html
    links = [attrs for tag, attrs in parse(html).tags if tag == "a" and "href" in attrs]
    assert [link["href"] for link in links] == ["https://example.org/page"]
    assert links[0]["rel"] == "noopener noreferrer nofollow"
    assert "<script" not in html


def test_the_course_page_shows_a_sanitised_description(client, make_course):
    course = make_course(description=HOSTILE_MARKDOWN)

    page = client.get(f"/courses/{course.id}").get_data(as_text=True)

    assert_harmless(page)
    assert "<strong>Bold</strong>" in page
    assert 'href="https://example.org/page"' in page


def test_render_markdown_of_nothing_is_empty(app_ctx):
    assert str(render_markdown(None)) == ""
    assert str(render_markdown("")) == ""


# --- headers and cookies -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/no-such-page"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(client, users):
    response = client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})

    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# --- the secret key ----------------------------------------------------------------------


def test_without_tropa_secret_key_a_private_key_file_is_made_once(make_app, monkeypatch):
    monkeypatch.delenv("TROPA_SECRET_KEY", raising=False)

    first = make_app()

    key_file = Path(first.instance_path) / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert first.config["SECRET_KEY"] == key
    assert len(key) >= 48
    # A second worker starting on the same instance folder signs with the same key.
    assert load_config(key_file.parent)["SECRET_KEY"] == key


def test_tropa_secret_key_from_the_environment_wins_and_no_file_is_made(monkeypatch, tmp_path):
    monkeypatch.setenv("TROPA_SECRET_KEY", "from-the-environment")

    config = load_config(tmp_path)

    assert config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_secrets_are_long_unambiguous_and_spread_over_the_alphabet():
    from collections import Counter

    from webapp.services import SECRET_ALPHABET, random_secret

    codes = [random_secret() for _ in range(4000)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) * 5 >= 128 for code in codes)
    assert set("".join(codes)) <= set(SECRET_ALPHABET) and not set("ilou") & set(SECRET_ALPHABET)
    counts = Counter("".join(codes))
    # 104,000 characters over 32 symbols: each close to 3,250; a broken encoder skews it.
    assert len(counts) == 32 and min(counts.values()) > 2800 and max(counts.values()) < 3700
