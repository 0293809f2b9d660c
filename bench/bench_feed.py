"""The personal calendar feed with 500 sessions, beside serialising the same 500 sessions
with bare icalendar in the same run.

    .venv/bin/python -m bench.bench_feed            # a fresh SQLite file
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_feed

The feed is the whole request through the in-process test client: the token look-up, one
query for the sessions with their events, the VEVENTs with TZID and VTIMEZONE, the ETag.
The bare side builds the same VEVENTs (same properties, same VTIMEZONE) from rows already
in memory. Goal (issue 7): the feed within 1.5× of the bare serialisation.
"""

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from bench.harness import fresh_database, report
from courses.models import Course, Direction, Programme
from events.models import Registration, RegistrationStatus, Session, Visibility
from events.services import calendars
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.types import utcnow


def build(courses: int, sessions_each: int) -> tuple[str, list[tuple]]:
    """A participant confirmed in `courses` courses of `sessions_each` sessions; the feed's
    token, and the sessions as plain rows for the bare side."""
    user = User(email="feed@example.org", password_hash="-", full_name="Анна Смирнова")
    user.role_rows.append(UserRole(role=Role.PARTICIPANT))
    programme = Programme(title="Акселератор")
    db.session.add_all([user, programme])
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for number in range(courses):
        course = Course(
            title=f"Курс {number}: аудит социального проекта",
            programme=programme,
            level=1,
            direction=Direction.ADDITIONAL_EDUCATION,
            visibility=Visibility.PUBLISHED,
            venue="Конгресс-центр",
            address="ул. Великая, 16",
            online_url="https://meet.example.org/room",
            timezone="Europe/Moscow",
        )
        for index in range(sessions_each):
            begins = start + timedelta(days=index, hours=number)
            course.sessions.append(
                Session(starts_at=begins, ends_at=begins + timedelta(hours=2), room="Зал 1")
            )
        db.session.add(course)
        db.session.flush()
        db.session.add(
            Registration(
                event=course,
                user=user,
                email=user.email,
                full_name=user.full_name,
                status=RegistrationStatus.CONFIRMED,
                queue_number=1,
                ticket_secret=f"feed{number}",
            )
        )
    db.session.commit()
    token = calendars.reset_feed_token(user)
    rows = [
        (
            session.id,
            session.updated_at,
            session.sequence,
            session.starts_at,
            session.ends_at,
            session.room,
            session.event.title,
            session.event.id,
        )
        for session in db.session.scalars(calendars.personal_sessions_query(user)).unique()
    ]
    return token, rows


def bare_icalendar(rows: list[tuple]) -> bytes:
    """The same VEVENTs, straight from rows in memory."""
    tz = ZoneInfo("Europe/Moscow")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//bench//RU")
    calendar.add("version", "2.0")
    for session_id, stamp, sequence, starts, ends, room, title, event_id in rows:
        entry = icalendar.Event()
        entry.add("uid", f"session-{session_id}@bench")
        entry.add("dtstamp", stamp)
        entry.add("sequence", sequence)
        entry.add("dtstart", starts.astimezone(tz))
        entry.add("dtend", ends.astimezone(tz))
        entry.add("summary", f"{title} · {room}")
        entry.add("location", "Конгресс-центр, ул. Великая, 16")
        entry.add("url", f"http://bench/courses/{event_id}")
        entry.add("description", f"https://meet.example.org/room\nhttp://bench/courses/{event_id}")
        entry.add("status", "CONFIRMED")
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def timed(action, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        bench = fresh_database(Path(scratch_name))
        with bench.app.app_context():
            token, rows = build(options.courses, options.sessions)
        client = bench.app.test_client()
        url = f"/calendar/{token}.ics"

        def feed():
            response = client.get(url)
            assert response.status_code == 200 and response.data.count(b"BEGIN:VEVENT") == len(rows)

        feed()  # warm up: templates, zone data
        bare_icalendar(rows)
        feed_times = timed(feed, options.rounds)
        bare_times = timed(lambda: bare_icalendar(rows), options.rounds)
        label = bench.database_label
    feed_ms = statistics.median(feed_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    report(
        f"Personal calendar feed · {label}",
        f"{len(rows)} sessions of {options.courses} courses, in-process test client, "
        f"median of {options.rounds} rounds",
        [
            "| what | p50 ms |",
            "| --- | ---: |",
            f"| GET /calendar/<token>.ics (whole request) | {feed_ms:.1f} |",
            f"| bare icalendar, same VEVENTs from memory | {bare_ms:.1f} |",
            "",
            f"Goal (feed ≤ 1.5× bare): {'met' if feed_ms / bare_ms <= 1.5 else 'NOT met'}"
            f" — **{feed_ms / bare_ms:.2f}×**.",
        ],
    )


if __name__ == "__main__":
    main()
