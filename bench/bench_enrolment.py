"""Enrolment under load: signed-in participants enrol in a few courses each, concurrently,
through gunicorn; enrolments per second and latency beside a bare Flask endpoint.

    .venv/bin/python -m bench.bench_enrolment            # a fresh SQLite file
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_enrolment
"""

import argparse
import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import seed
from bench.harness import bare_server, fresh_database, report, run_load, table, tropa_server
from events.services.seats import seat_counts
from tests.live_server import HTTP_TIMEOUT, csrf_token, http_session, sign_in


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--courses", type=int, default=10)
    parser.add_argument("--per-person", type=int, default=3, help="courses each person picks")
    parser.add_argument("--capacity", type=int, default=30)
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=60, help="at most, per measurement")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        scratch = Path(scratch_name)
        bench = fresh_database(scratch)
        with bench.app.app_context():
            course_ids = seed.add_courses(options.courses, capacity=options.capacity)
            emails = seed.add_people(options.participants)

        chance = random.Random(2026)
        picks = [
            (person, course_id)
            for person in range(len(emails))
            for course_id in chance.sample(course_ids, options.per_person)
        ]
        chance.shuffle(picks)

        with bare_server() as bare:
            # The same client work as an enrolment: one cookie jar per person, a POST each.
            jars = [http_session() for _ in emails]
            baseline = run_load(
                "bare Flask `ok` (POST)",
                lambda number: (
                    jars[picks[number][0]].post(bare.base_url, timeout=HTTP_TIMEOUT).status_code
                ),
                count=len(picks),
                clients=options.clients,
                time_limit=options.seconds,
            )

        with tropa_server(bench, scratch) as tropa:
            base_url = tropa.base_url

            def signed_in_with_token(email: str):
                http = sign_in(base_url, email, seed.PASSWORD)
                page = http.get(f"{base_url}/courses/{course_ids[0]}", timeout=HTTP_TIMEOUT)
                return http, csrf_token(page.text)

            with ThreadPoolExecutor(max_workers=8) as pool:
                people = list(pool.map(signed_in_with_token, emails))

            def enrol(number: int) -> int:
                person, course_id = picks[number]
                http, token = people[person]
                response = http.post(
                    f"{base_url}/courses/{course_id}/enrol",
                    data={"csrf_token": token},
                    allow_redirects=False,
                    timeout=HTTP_TIMEOUT,
                )
                return response.status_code

            enrolments = run_load(
                "POST /courses/<id>/enrol",
                enrol,
                count=len(picks),
                clients=options.clients,
                time_limit=options.seconds,
            )

        with bench.app.app_context():
            counts = seat_counts(course_ids)
    registered = sum(c.confirmed + c.waitlisted for c in counts.values())
    overbooked = [i for i, c in counts.items() if c.confirmed > options.capacity]

    report(
        f"Enrolment · {bench.database_label}",
        f"{options.participants} people × {options.per_person} of {options.courses} courses"
        f" with {options.capacity} places, {options.clients} clients",
        [
            *table([enrolments], baseline),
            "",
            f"Check: {registered} registrations for {enrolments.count - enrolments.errors}"
            f" successful requests; courses over capacity: {len(overbooked)}.",
        ],
    )


if __name__ == "__main__":
    main()
