"""The events' write paths through the real server (gunicorn, 2 worker processes) at the
same moment, while another process writes all the time (the mail worker draining the
tickets of a large import, again and again): the public registration form (one form sent
14 times at once, and 30 different people), cancelling tickets, two CSV imports, and door
check-ins. Every answer is an action done or refused with a message, never a 5xx, and
nothing is half-written: one registration per address, no organisation without a person."""

import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from events.models import Attendance, Registration, RegistrationStatus
from events.services import seats
from events.services.registrant_import import import_registrants
from tests.checkin_support import bearer, token_for
from tests.conftest import PASSWORD
from tests.events_support import form_data, make_event
from tests.live_server import (
    HTTP_TIMEOUT,
    REPO_ROOT,
    csrf_token,
    gunicorn_server,
    http_session,
    sign_in,
    tropa_environment,
)
from tests.test_registrants import GOOD_INN, HEADER, csv_bytes, people_rows
from webapp.extensions import db
from webapp.models import Organisation, User

pytestmark = pytest.mark.concurrency

SAME_FORM = 14  # one person's form, sent from 14 browsers at once
NEWCOMERS = 30
CAPACITY = 20
CANCELLING = 5
IMPORTED = 120
SCANNED = 24
BACKGROUND_ROWS = 150  # the import the mail worker keeps draining

# The mail worker's work, over and over: the owed tickets of the background import in
# batches (each batch rendered, then written in a short unit), then owed again. Batches of
# 5, not the worker's 25: the requests render no mail, and are over before a batch of 25
# could be rendered on a busy machine; smaller ones keep units committing while they run.
WRITER = """
import sys
from pathlib import Path
from sqlalchemy import update
from events.models import Registration
from events.services import notifications
from webapp import create_app
from webapp.transactions import unit_of_work

event_id, stop, count = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
app = create_app()
units = 0
with app.app_context():
    while not stop.exists():
        if notifications.send_due_mail(limit=5) == 0:
            with unit_of_work() as session:
                session.execute(
                    update(Registration)
                    .where(Registration.event_id == event_id)
                    .values(ticket_mail_due=True)
                )
        units += 1
        count.write_text(str(units))
"""


class BackgroundWriter:
    """The writer above in its own process, on the test's database."""

    def __init__(self, database_url: str, secret_key: str, event_id: int):
        self.scratch = tempfile.TemporaryDirectory(prefix="tropa-writer-")
        folder = Path(self.scratch.name)
        self.stop_file, self.count_file = folder / "stop", folder / "units"
        env = {**os.environ, **tropa_environment(database_url, secret_key, str(folder))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(event_id), self.stop_file, self.count_file],
            cwd=REPO_ROOT,
            env=env,
        )

    def units(self) -> int:
        return int(self.count_file.read_text() or 0) if self.count_file.exists() else 0

    def stop(self) -> None:
        self.stop_file.touch()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.scratch.cleanup()


def all_at_once(actions: list) -> list:
    """Run every prepared action (a callable sending one request) from its own thread,
    released together; their responses, or the exceptions they raised."""
    start = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index: int, action) -> None:
        start.wait(timeout=HTTP_TIMEOUT)
        try:
            results[index] = action()
        except requests.RequestException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def form_post(base_url: str, path: str, data: dict, files=None):
    """A browser that opens the form's page (its CSRF token), then sends it: a callable."""
    http = http_session()
    token = csrf_token(http.get(base_url + path, timeout=HTTP_TIMEOUT).text)

    def send():
        return http.post(
            base_url + path,
            data={**data, "csrf_token": token},
            files=files,
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )

    return send


def test_events_write_paths_at_once_while_another_process_writes(app, app_ctx, users):
    forum = make_event("Форум", capacity=CAPACITY, asks_organisation=True)
    staying = [
        seats.register(
            forum.id, full_name=f"Гость {n}", email=f"guest{n}@example.org"
        ).registration.ticket_secret
        for n in range(CANCELLING + 2)
    ]
    seminar = make_event("Семинар", capacity=IMPORTED + 10)
    door = make_event("Дверь", starts_in=-timedelta(minutes=30))  # on now
    door_secrets = [
        seats.register(
            door.id, full_name=f"Зритель {n}", email=f"door{n}@example.org"
        ).registration.ticket_secret
        for n in range(SCANNED)
    ]
    background = make_event("Фон", capacity=None)
    rows = people_rows(BACKGROUND_ROWS, start=5000)
    assert import_registrants(background.id, csv_bytes([HEADER, *rows])).imported
    scanners = [bearer(token_for(users["organiser"])), bearer(token_for(users["admin"]))]
    organiser_email = users["organiser"].email
    ids = {"forum": forum.id, "seminar": seminar.id, "door": door.id}
    import_file = csv_bytes([HEADER, *people_rows(IMPORTED, start=1000)])
    database_url, secret_key = app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"]
    db.session.commit()  # hold no transaction open while the servers work

    writer = BackgroundWriter(database_url, secret_key, background.id)
    try:
        with gunicorn_server(database_url, secret_key, workers=2) as base_url:
            forum_path = f"/events/{ids['forum']}"
            actions = [
                form_post(base_url, forum_path, form_data(forum, email="same@example.org"))
                for _ in range(SAME_FORM)
            ]
            actions += [
                form_post(
                    base_url,
                    forum_path,
                    form_data(
                        forum,
                        full_name=f"Новичок {n}",
                        email=f"new{n}@example.org",
                        organisation_type="sonko",
                        organisation_name="АНО «Вместе»",
                        inn=GOOD_INN,
                    ),
                )
                for n in range(NEWCOMERS)
            ]
            actions += [
                form_post(base_url, f"/t/{secret}/cancel", {}) for secret in staying[:CANCELLING]
            ]
            organiser = sign_in(base_url, organiser_email, PASSWORD)
            import_path = f"/manage/events/{ids['seminar']}/registrants/import"
            for _ in range(2):
                token = csrf_token(organiser.get(base_url + import_path, timeout=HTTP_TIMEOUT).text)
                actions.append(
                    lambda token=token: organiser.post(
                        base_url + import_path,
                        data={"csrf_token": token},
                        files={"file": ("list.csv", import_file, "text/csv")},
                        allow_redirects=False,
                        timeout=HTTP_TIMEOUT,
                    )
                )
            for number, secret in enumerate(door_secrets):
                body = {"secret": secret, "event_id": ids["door"], "nonce": f"scan-{number}"}
                actions.append(
                    lambda body=body, headers=scanners[number % 2]: http_session().post(
                        f"{base_url}/api/v1/checkin", json=body, headers=headers,
                        timeout=HTTP_TIMEOUT,
                    )
                )  # fmt: skip
            units_before = writer.units()
            results = all_at_once(actions)
            units_during = writer.units() - units_before

            broken = [
                repr(r) if isinstance(r, Exception) else f"{r.status_code} {r.text[:300]}"
                for r in results
                if isinstance(r, Exception) or r.status_code >= 500
            ]
            assert broken == []  # inside the block: a failure prints the server's log
            assert {r.status_code for r in results[: SAME_FORM + NEWCOMERS + CANCELLING]} == {302}
            imports = results[SAME_FORM + NEWCOMERS + CANCELLING : -SCANNED]
            assert all(r.status_code in (200, 302) for r in imports)
            scans = [r.json() for r in results[-SCANNED:]]
            assert all(r.status_code == 200 for r in results[-SCANNED:])
            assert Counter(s["status"] for s in scans) == {"ok": SCANNED}
    finally:
        writer.stop()
    assert units_during > 0, "the other process wrote while the requests ran"

    db.session.rollback()  # a fresh snapshot: the servers wrote in their own sessions

    def registrations_of(event_id: int) -> list[Registration]:
        return list(
            db.session.scalars(select(Registration).where(Registration.event_id == event_id))
        )

    at_forum = registrations_of(ids["forum"])
    by_email = Counter(r.email for r in at_forum)
    assert by_email["same@example.org"] == 1 and set(by_email.values()) == {1}
    assert len(at_forum) == CANCELLING + 2 + 1 + NEWCOMERS
    statuses = Counter(r.status for r in at_forum)
    assert statuses[RegistrationStatus.CANCELLED] == CANCELLING
    assert statuses[RegistrationStatus.CONFIRMED] == CAPACITY
    assert {r.organisation.name for r in at_forum if r.email.startswith("new")} == {"АНО «Вместе»"}
    assert len(registrations_of(ids["seminar"])) == IMPORTED
    attended = db.session.scalar(
        select(func.count()).select_from(Attendance).join(Registration)
        .where(Registration.event_id == ids["door"])
    )  # fmt: skip
    assert attended == SCANNED
    referenced = select(Registration.organisation_id).where(
        Registration.organisation_id.is_not(None)
    )
    of_users = select(User.organisation_id).where(User.organisation_id.is_not(None))
    orphans = db.session.scalar(
        select(func.count())
        .select_from(Organisation)
        .where(Organisation.id.not_in(referenced), Organisation.id.not_in(of_users))
    )
    assert orphans == 0, "no organisation is left without the registration that named it"
