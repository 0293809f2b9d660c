"""The trainer's progress grid: 60 participants × 40 materials, rendered in-process by the
Flask test client (one client: this measures the page's own cost, not the server), with
its SQL statement count, then its XLSX export.

    .venv/bin/python -m bench.bench_progress_grid
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_progress_grid
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from bench.harness import fresh_database, report
from courses.models import (
    AnswerStatus,
    CompletionRule,
    Course,
    Direction,
    Material,
    MaterialKind,
    MaterialProgress,
    Module,
    Programme,
    TaskAnswer,
)
from events.services import seats
from webapp.extensions import db
from webapp.models import Role, User, UserRole
from webapp.types import utcnow


def build(participants: int, materials: int) -> tuple[int, int]:
    """A course with `materials` materials in 4 modules and `participants` confirmed people,
    the n-th part-way; returns the course id and an organiser's id."""
    course = Course(
        title="Курс для замера",
        programme=Programme(title="Замеры"),
        level=1,
        direction=Direction.OTHER,
        visibility="published",
        min_attendance_rate=50,
        requires_materials=True,
        requires_tasks=True,
    )
    organiser = User(email="org@bench.test", full_name="Организатор", password_hash="x")
    organiser.role_rows.append(UserRole(role=Role.ORGANISER))
    db.session.add_all([course, organiser])
    db.session.flush()
    modules = [Module(course_id=course.id, title=f"Модуль {n + 1}") for n in range(4)]
    db.session.add_all(modules)
    db.session.flush()
    items = []
    for number in range(materials):
        module = modules[number * len(modules) // materials]
        task = number % 5 == 4
        material = Material(
            module_id=module.id,
            position=number,
            kind=MaterialKind.TASK if task else MaterialKind.PAGE,
            title=f"Материал {number + 1}",
            completion=CompletionRule.ACCEPTED if task else CompletionRule.VIEWED,
        )
        db.session.add(material)
        items.append(material)
    people = [
        User(email=f"p{n}@bench.test", full_name=f"Участник {n:03d}", password_hash="x")
        for n in range(participants)
    ]
    db.session.add_all(people)
    db.session.commit()
    course_id, organiser_id = course.id, organiser.id
    now = utcnow()
    for number, person in enumerate(people):
        registration = seats.register(
            course_id, full_name=person.full_name, email=person.email, user_id=person.id
        ).registration
        for material in items[: number * len(items) // max(participants - 1, 1)]:
            if material.kind == MaterialKind.TASK:
                db.session.add(
                    TaskAnswer(
                        registration_id=registration.id,
                        material_id=material.id,
                        text="ok",
                        status=AnswerStatus.ACCEPTED,
                    )
                )
            else:
                db.session.add(
                    MaterialProgress(
                        registration_id=registration.id, material_id=material.id, viewed_at=now
                    )
                )
    db.session.commit()
    return course_id, organiser_id


def measure(client, url: str, rounds: int) -> tuple[list[float], int]:
    statements = []

    def count(*_args):
        statements.append(1)

    client.get(url)  # warm-up: template compilation
    event.listen(db.engine, "before_cursor_execute", count)
    client.get(url)
    event.remove(db.engine, "before_cursor_execute", count)
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return latencies, len(statements)


def p95_ms(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20)[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--materials", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=100)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        bench = fresh_database(Path(scratch_name))
        bench.app.config["WTF_CSRF_ENABLED"] = False
        with bench.app.app_context():
            course_id, organiser_id = build(options.participants, options.materials)
        client = bench.app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = f"{organiser_id}:1"  # User.get_id()
            cookie["_fresh"] = True
        with bench.app.app_context():
            lines = [
                "| what | requests | SQL statements | p50 ms | p95 ms | p50 × baseline |",
                "| --- | ---: | ---: | ---: | ---: | ---: |",
            ]
            baseline = None
            for label, url in (
                # the same app's smallest page, same client, same run: the ratio is the figure
                ("baseline: /healthz (one SELECT 1)", "/healthz"),
                ("progress grid page", f"/manage/courses/{course_id}/progress"),
                ("XLSX export", f"/manage/courses/{course_id}/progress.xlsx"),
            ):
                latencies, statements = measure(client, url, options.rounds)
                median = statistics.median(latencies)
                baseline = baseline or median
                lines.append(
                    f"| {label} | {len(latencies)} | {statements} | {median * 1000:.1f} "
                    f"| {p95_ms(latencies):.1f} | {median / baseline:.1f} |"
                )
    report(
        f"Progress grid · {bench.database_label}",
        f"{options.participants} participants × {options.materials} materials, in-process "
        "test client, one request at a time",
        lines,
    )


if __name__ == "__main__":
    main()
