"""Self-check-in under load: 60 signed-in participants scan one session's rotating code
(GET /a/<session>/<code>) through gunicorn, beside a bare Flask endpoint that writes one
SQLite row per request, measured in the same run. The code is read from the trainer's
projector page JSON, as a screen would show it, and re-read as it rotates.

    .venv/bin/python -m bench.bench_self_scan            # a fresh SQLite file
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_self_scan

Goal (issue 4): 60 participants within a minute, all marked exactly once.
"""

import argparse
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.bench_checkin import JsonPoster, rows
from bench.harness import THREADS, WORKERS, fresh_database, report, run_load, tropa_server
from courses.models import Course, Direction, Programme
from events.models import Attendance, Session, Visibility
from events.services import seats
from tests.live_server import HTTP_TIMEOUT, run_gunicorn, sign_in
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.services import hash_password
from webapp.types import utcnow

PASSWORD = "bench-password-42"
RESULT = 'data-result="'


def add_running_course(participants: int) -> int:
    """A course whose session started 5 minutes ago, `participants` confirmed participants
    with accounts and a trainer; returns the session id."""
    password_hash = hash_password(PASSWORD)
    course = Course(
        title="Аудит проекта",
        description="",
        programme=Programme(title="Акселератор"),
        level=1,
        direction=Direction.OTHER,
        visibility=Visibility.PUBLISHED,
        timezone="Europe/Moscow",
        search_text="аудит проекта",
    )
    start = utcnow() - timedelta(minutes=5)
    course.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
    trainer = User(email="trainer@example.org", full_name="Тренер", password_hash=password_hash)
    trainer.role_rows.append(UserRole(role=Role.TRAINER))
    course.trainers.append(trainer)
    people = [
        User(
            email=f"p{number:03d}@example.org",
            full_name=f"Участник {number:03d}",
            password_hash=password_hash,
        )
        for number in range(participants)
    ]
    db.session.add_all([course, *people])
    db.session.commit()
    for person in people:
        seats.register(course.id, full_name=person.full_name, email=person.email, user_id=person.id)
    return course.sessions[0].id


class Scanner:
    """Each participant's phone (a signed-in cookie jar) opens the code URL on screen; the
    screen's code is refreshed from the projector page's JSON by a background thread."""

    def __init__(self, base_url: str, session_id: int, phones: list):
        self.base_url, self.session_id, self.phones = base_url, session_id, phones
        self.screen = sign_in(base_url, "trainer@example.org", PASSWORD)
        self.url = self._read_screen()
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        threading.Thread(target=self._follow_screen, daemon=True).start()

    def _read_screen(self) -> str:
        answer = self.screen.get(
            f"{self.base_url}/sessions/{self.session_id}/code.json", timeout=HTTP_TIMEOUT
        )
        return answer.json()["url"]

    def _follow_screen(self) -> None:
        while not self.stopped.wait(2):
            self.url = self._read_screen()

    def __call__(self, number: int) -> int:
        # The code URL carries the configured TROPA_BASE_URL: ask the server under test.
        path = self.url.split("/a/", 1)[1]
        response = self.phones[number].get(
            f"{self.base_url}/a/{path}", allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        page = response.text
        outcome = page[page.index(RESULT) + len(RESULT) :].split('"')[0] if RESULT in page else "?"
        with self.lock:
            self.outcomes[outcome] += 1
        return response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8, help="phones scanning at once")
    parser.add_argument("--seconds", type=float, default=60, help="per measurement, at most")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        scratch = Path(scratch_name)
        bench = fresh_database(scratch)
        with bench.app.app_context():
            session_id = add_running_course(options.participants)

        bare_env = {"BARE_WRITE_DATABASE": str(scratch / "bare-write.db")}
        with run_gunicorn(
            "bench.bare_write_app:app", bare_env, workers=WORKERS, threads=THREADS, ready_path="/"
        ) as bare:
            poster = JsonPoster(bare.base_url, "/")
            baseline = run_load(
                "bare Flask + SQLite INSERT (POST)",
                lambda number: poster({"secret": f"scan-{number}"}),
                count=options.participants,
                clients=options.clients,
                time_limit=options.seconds,
            )

        with tropa_server(bench, scratch) as tropa:
            phones = [
                sign_in(tropa.base_url, f"p{number:03d}@example.org", PASSWORD)
                for number in range(options.participants)
            ]
            scanner = Scanner(tropa.base_url, session_id, phones)
            started = time.perf_counter()
            scans = run_load(
                "GET /a/<session>/<code>, signed in",
                scanner,
                count=options.participants,
                clients=options.clients,
                time_limit=options.seconds,
            )
            within = time.perf_counter() - started
            scanner.stopped.set()

        with bench.app.app_context():
            marks = db.session.scalar(select(func.count()).select_from(Attendance))
            doubles = db.session.scalar(
                select(func.count()).select_from(
                    select(Attendance.registration_id)
                    .group_by(Attendance.registration_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )

    all_once = marks == options.participants and not doubles and within <= 60
    report(
        f"Self-check-in (rotating code) · {bench.database_label}",
        f"{options.participants} participants, {options.clients} phones at once, signed in",
        [
            *rows([scans], baseline),
            "",
            f"Goal ({options.participants} participants within a minute, each marked exactly"
            f" once): {'met' if all_once else 'NOT met'} — {within:.1f} s, answers"
            f" {dict(scanner.outcomes)}; {marks} attendance rows, {doubles} people marked twice.",
        ],
    )


if __name__ == "__main__":
    main()
