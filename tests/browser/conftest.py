"""The app served for real on a loopback port, and Debian's Chromium driven by Playwright.

The served app is a second app on the test database with CSRF on, as in production (the
session app of tests/conftest.py keeps it off); rate limits stay off. It runs in a werkzeug
server thread, so the test sees the server's writes once they are committed, and the tables
are emptied after each test by the `app_ctx` fixture as usual.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import got_request_exception
from werkzeug.serving import make_server

from webapp import create_app
from webapp.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS_DIR = Path("/tmp/tropa-shots")  # screenshots for a person to look at, never committed


@dataclass
class LiveServer:
    url: str
    errors: list[BaseException]  # what the app raised while serving (a 500 for the user)


@pytest.fixture(scope="session")
def live_app(app, instance_dir):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(instance_dir),
    )


@pytest.fixture(scope="session")
def live_server(live_app):
    errors: list[BaseException] = []

    def record(_sender, exception, **_extra):
        errors.append(exception)

    got_request_exception.connect(record, live_app)
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.port}", errors)
    finally:
        got_request_exception.disconnect(record, live_app)
        server.shutdown()
        thread.join()
        with live_app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (scripts/test-all.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(app_ctx, live_server, chromium):
    """`open_page(viewport=...)`: a fresh browser profile's page on the served app.

    After the test: the server raised nothing, the browser logged no error, and every file
    the page loaded came from the app itself (venues have weak internet: no CDN).
    """
    contexts = []
    console_errors: list[str] = []
    foreign_requests: list[str] = []
    live_server.errors.clear()

    def open_(**context_options):
        context = chromium.new_context(base_url=live_server.url, locale="ru-RU", **context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: record_console_error(message, console_errors))
        page.on(
            "request",
            lambda request: (
                request.url.startswith(live_server.url) or foreign_requests.append(request.url)
            ),
        )
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not live_server.errors, f"the server failed: {live_server.errors!r}"
    assert not console_errors, f"the browser logged errors: {console_errors}"
    assert not foreign_requests, f"pages loaded files from elsewhere: {foreign_requests}"


def record_console_error(message, errors: list[str]) -> None:
    # Chromium asks every site for /favicon.ico; the app has none, and that is no failure.
    if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
        errors.append(f"{message.text} ({message.location['url']})")


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR
