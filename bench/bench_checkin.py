"""Door check-in under load: 8 scanners send POST /api/v1/checkin (bearer token, a nonce
each) for a 5,000-attendee event through gunicorn, beside a bare Flask endpoint that writes
one SQLite row per request, measured in the same run.

    .venv/bin/python -m bench.bench_checkin            # a fresh SQLite file
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_checkin

Goal (issue 15): at least 40% of the bare write endpoint's requests per second on SQLite,
30% on PostgreSQL (its server shares the two cores and answers over a socket), p99 < 50 ms.
"""

import argparse
import http.client
import json
import tempfile
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from bench.harness import (
    THREADS,
    WORKERS,
    LoadResult,
    fresh_database,
    report,
    run_load,
    tropa_server,
)
from events.models import Attendance, Event, Registration, RegistrationStatus, Session, Visibility
from tests.live_server import run_gunicorn
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.services import create_api_token, random_secret
from webapp.types import utcnow

RATIO_GOALS = {"sqlite": 0.40, "postgresql": 0.30}
P99_GOAL_MS = 50.0


class JsonPoster:
    """POST JSON bodies to one path over a kept-alive connection per thread; counts what
    the answers said (their "reason", else their "status")."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.host, self.port, self.path = parts.hostname, parts.port, path
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.local = threading.local()
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> int:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=60
            )
        try:
            connection.request("POST", self.path, json.dumps(body), self.headers)
            response = connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self.local.connection = None
            raise
        try:
            answer = json.loads(text or b"{}")
            outcome = answer.get("reason") or answer.get("status", "?")
        except ValueError:  # an error page (pretix's 500s on SQLite): counted, not fatal
            outcome = f"HTTP {response.status}, not JSON"
        with self.lock:
            self.outcomes[outcome] += 1
        return response.status


def add_door_event(attendees: int) -> tuple[int, list[str], str]:
    """A published event with one session open now, `attendees` confirmed registrations
    (written in bulk, as the seat-taking service would) and an organiser's API token.
    Returns the event id, the ticket secrets and the token."""
    start = utcnow() - timedelta(minutes=30)
    event = Event(
        kind="event",
        title="Форум НКО 2026",
        visibility=Visibility.PUBLISHED,
        timezone="Europe/Moscow",
        search_text="форум нко 2026",
    )
    event.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=6)))
    db.session.add(event)
    db.session.flush()
    secrets = [random_secret() for _ in range(attendees)]
    db.session.add_all(
        Registration(
            event_id=event.id,
            full_name=f"Участник {number:05d}",
            email=f"guest{number:05d}@example.org",
            status=RegistrationStatus.CONFIRMED,
            queue_number=number + 1,
            ticket_secret=secret,
        )
        for number, secret in enumerate(secrets)
    )
    organiser = User(
        email="door@example.org", full_name="Анна Входова", password_hash="!", locale="ru"
    )
    organiser.role_rows.append(UserRole(role=Role.ORGANISER))
    db.session.add(organiser)
    db.session.commit()
    token = create_api_token(organiser, "bench")[1]
    return event.id, secrets, token


def scan_all(label: str, poster: JsonPoster, bodies: list[dict], options) -> LoadResult:
    poster.local = threading.local()  # gunicorn has closed idle connections by now
    for number in range(16):  # warm-up: imports, connections, caches; unknown tickets
        poster(
            {"secret": f"warm-up-{number}", "event_id": bodies[0].get("event_id"), "nonce": None}
        )
    poster.outcomes.clear()
    return run_load(
        label,
        lambda number: poster(bodies[number]),
        count=len(bodies),
        clients=options.clients,
        time_limit=options.seconds,
    )


def rows(results: list[LoadResult], baseline: LoadResult) -> list[str]:
    lines = [
        "| what | requests | errors | per second | × bare | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in [baseline, *results]:
        lines.append(
            f"| {result.label} | {result.count} | {result.errors} | {result.per_second:.0f}"
            f" | {result.per_second / baseline.per_second:.0%} | {result.percentile_ms(50):.1f}"
            f" | {result.percentile_ms(95):.1f} | {result.percentile_ms(99):.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent scanners")
    parser.add_argument("--seconds", type=float, default=60, help="per measurement, at most")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        scratch = Path(scratch_name)
        bench = fresh_database(scratch)
        with bench.app.app_context():
            event_id, secrets, token = add_door_event(options.attendees)

        bare_env = {"BARE_WRITE_DATABASE": str(scratch / "bare-write.db")}
        with run_gunicorn(
            "bench.bare_write_app:app", bare_env, workers=WORKERS, threads=THREADS, ready_path="/"
        ) as bare:
            poster = JsonPoster(bare.base_url, "/")
            baseline = scan_all(
                "bare Flask + SQLite INSERT (POST)",
                poster,
                [{"secret": secret} for secret in secrets],
                options,
            )

        with tropa_server(bench, scratch) as tropa:
            poster = JsonPoster(
                tropa.base_url, "/api/v1/checkin", {"Authorization": f"Bearer {token}"}
            )
            first = scan_all(
                "POST /api/v1/checkin, first scans",
                poster,
                [
                    {"secret": secret, "event_id": event_id, "nonce": f"first-{number}"}
                    for number, secret in enumerate(secrets)
                ],
                options,
            )
            first_outcomes = dict(poster.outcomes)
            again = scan_all(
                "POST /api/v1/checkin, scanned again",
                poster,
                [
                    {"secret": secret, "event_id": event_id, "nonce": f"again-{number}"}
                    for number, secret in enumerate(secrets)
                ],
                options,
            )
            again_outcomes = dict(poster.outcomes)

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

    ratio = first.per_second / baseline.per_second
    p99 = first.percentile_ms(99)
    ratio_goal = RATIO_GOALS["sqlite" if bench.database_url.startswith("sqlite") else "postgresql"]
    verdict = "met" if ratio >= ratio_goal and p99 < P99_GOAL_MS else "NOT met"
    report(
        f"Check-in API · {bench.database_label}",
        f"{options.attendees} attendees, {options.clients} scanners, bearer token, a nonce each",
        [
            *rows([first, again], baseline),
            "",
            f"Goal (≥ {ratio_goal:.0%} of the bare write endpoint's requests/s, p99 <"
            f" {P99_GOAL_MS:.0f} ms, first scans): {verdict} — {ratio:.0%}, p99 {p99:.1f} ms.",
            f"Check: answers of the first scans {first_outcomes}, of the second"
            f" {again_outcomes}; {marks} attendance rows, {doubles} people marked twice.",
        ],
    )


if __name__ == "__main__":
    main()
