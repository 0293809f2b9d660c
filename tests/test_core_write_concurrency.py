"""The core's write paths through the real server while another process writes all the
time: the mail worker drains a CSV import of 2,000 people (each a ticket mail with its QR
code and calendar, in batches that each hold the writer's lock). Before units of work,
`POST /profile` failed 20 times of 20 here on SQLite ("database is locked" → 500) and an
account could not be deleted. Now every action is done, none answers 500, on SQLite and
PostgreSQL."""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, insert, select
from werkzeug.security import check_password_hash

from events.models import Registration, RegistrationStatus
from tests.conftest import PASSWORD, make_user
from tests.events_support import make_event
from tests.live_server import (
    HTTP_TIMEOUT,
    csrf_token,
    gunicorn_server,
    sign_in,
    tropa_environment,
)
from webapp.extensions import db
from webapp.models import ApiToken, Role, User
from webapp.services import random_secret, search_key

pytestmark = pytest.mark.concurrency

IMPORTED = 2_000
PROFILES = 20
DELETIONS = PASSWORDS = TOKENS = 5
NEW_PASSWORD = "another-horse-43"
TROPA = Path(sys.executable).parent / "tropa"


def seed_import(event_id: int) -> None:
    """What a CSV import leaves: confirmed registrations whose ticket mail is due."""
    rows = [
        {
            "event_id": event_id,
            "full_name": f"Гость {number}",
            "email": f"guest{number}@example.org",
            "status": RegistrationStatus.CONFIRMED,
            "queue_number": number + 1,
            "ticket_secret": random_secret(),
            "search_text": search_key(f"Гость {number} guest{number}@example.org"),
            "ticket_mail_due": True,
        }
        for number in range(IMPORTED)
    ]
    db.session.execute(insert(Registration), rows)
    db.session.commit()


def tickets_left() -> int:
    db.session.commit()  # a fresh look at what the worker committed
    return db.session.scalar(
        select(func.count(Registration.id)).where(Registration.ticket_mail_due)
    )


def start_worker(app, instance: Path) -> subprocess.Popen:
    env = tropa_environment(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], str(instance)
    )
    return subprocess.Popen(
        [str(TROPA), "worker", "--poll", "1"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until_the_worker_writes(worker: subprocess.Popen) -> int:
    """The number of tickets still to mail once the worker has committed its first batch."""
    deadline = time.monotonic() + 120
    while (left := tickets_left()) == IMPORTED:
        assert worker.poll() is None, "the mail worker stopped"
        assert time.monotonic() < deadline, "the mail worker wrote nothing in 120 s"
        time.sleep(0.2)
    return left


# --- the actions, each as a browser does it: the page (its CSRF token), then the POST ------


def post_form(http: requests.Session, base_url: str, page: str, action: str, data: dict):
    """GET `page`, POST `data` with its CSRF token to `action`; both responses."""
    form_page = http.get(base_url + page, timeout=HTTP_TIMEOUT)
    if form_page.status_code != 200:
        return [form_page]
    response = http.post(
        base_url + action,
        data={"csrf_token": csrf_token(form_page.text), **data},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    return [form_page, response]


def save_profile(base_url: str, email: str, number: int) -> list:
    http = sign_in(base_url, email, PASSWORD)
    data = {"full_name": f"Участник {number}", "phone": f"+7 900 000-00-{number:02d}"}
    data.update({"municipality": "Боровичский район", "organisation_type": "", "locale": "en"})
    return post_form(http, base_url, "/profile", "/profile", data)


def delete_account(base_url: str, email: str) -> list:
    http = sign_in(base_url, email, PASSWORD)
    data = {"password": PASSWORD, "confirm": "y"}
    return post_form(http, base_url, "/profile/delete", "/profile/delete", data)


def change_password(base_url: str, email: str) -> list:
    http = sign_in(base_url, email, PASSWORD)
    data = {
        "current_password": PASSWORD,
        "password": NEW_PASSWORD,
        "password_repeat": NEW_PASSWORD,
    }
    return post_form(http, base_url, "/password/change", "/password/change", data)


def create_token(base_url: str, email: str) -> list:
    http = sign_in(base_url, email, PASSWORD)
    return post_form(http, base_url, "/profile", "/profile/tokens", {"token-name": "Вход №1"})


def test_core_writes_succeed_while_the_mail_worker_drains_an_import(app, app_ctx, tmp_path):
    event = make_event(title="Большой форум", capacity=IMPORTED + 100)
    seed_import(event.id)
    profiles = [make_user(f"profile{n:02d}@example.org").email for n in range(PROFILES)]
    leaving = [make_user(f"leaving{n}@example.org").email for n in range(DELETIONS)]
    changing = [make_user(f"changing{n}@example.org").email for n in range(PASSWORDS)]
    staff = [make_user(f"staff{n}@example.org", Role.TRAINER).email for n in range(TOKENS)]
    db.session.commit()

    worker = start_worker(app, tmp_path / "worker-instance")
    try:
        with (
            gunicorn_server(
                app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], workers=2
            ) as base_url,
            ThreadPoolExecutor(max_workers=6) as pool,
        ):
            left_before = wait_until_the_worker_writes(worker)
            jobs = [pool.submit(save_profile, base_url, e, n) for n, e in enumerate(profiles)]
            jobs += [pool.submit(delete_account, base_url, e) for e in leaving]
            jobs += [pool.submit(change_password, base_url, e) for e in changing]
            jobs += [pool.submit(create_token, base_url, e) for e in staff]
            responses = [response for job in jobs for response in job.result()]
            left_after = tickets_left()
            assert worker.poll() is None, "the mail worker stopped"
            server_errors = [(r.request.method, r.url, r.status_code) for r in responses
                             if r.status_code >= 500]  # fmt: skip
            assert server_errors == []
    finally:
        worker.terminate()
        worker.wait(30)

    # The worker wrote all along: it mailed more tickets while the requests ran.
    assert left_before > left_after
    posts = [r for r in responses if r.request.method == "POST"]
    assert len(posts) == PROFILES + DELETIONS + PASSWORDS + TOKENS
    assert all(r.status_code in (200, 302) for r in posts), [r.status_code for r in posts]

    db.session.expire_all()
    by_email = {u.email: u for u in db.session.scalars(select(User))}
    for number, email in enumerate(profiles):
        person = by_email[email]
        assert (person.full_name, person.locale) == (f"Участник {number}", "en")
        assert person.phone == f"+7 900 000-00-{number:02d}"
    assert not set(leaving) & set(by_email), "an account was not deleted"
    deleted = db.session.scalar(select(func.count(User.id)).where(User.deleted_at.is_not(None)))
    assert deleted == DELETIONS
    for email in changing:
        assert check_password_hash(by_email[email].password_hash, NEW_PASSWORD)
    tokens = db.session.execute(
        select(User.email, func.count(ApiToken.id)).join(ApiToken).group_by(User.email)
    ).all()
    assert dict(tokens) == dict.fromkeys(staff, 1)
