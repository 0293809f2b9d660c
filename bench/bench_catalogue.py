"""Catalogue throughput: GET /courses/ with 1,000 published courses and GET /events/ with
300 outreach events, beside a bare Flask endpoint, then the gunicorn workers' resident
memory.

    .venv/bin/python -m bench.bench_catalogue            # a fresh SQLite file
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_catalogue

Goal (issue 15): every page's p95 at most 10× the bare endpoint's, measured in the same run.
"""

import argparse
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from bench import seed
from bench.harness import (
    MEMORY_GOAL_MB,
    Getter,
    bare_server,
    fresh_database,
    report,
    run_load,
    table,
    tropa_server,
    worker_memory,
)

P95_GOAL_RATIO = 10.0

PAGES = {
    "GET /courses/": "/courses/",
    "GET /courses/ page 40": "/courses/?page=40",
    "GET /courses/ search + filters": "/courses/?"
    + urlencode({"q": "маркетинг", "level": 2, "free": "y"}),
    "GET /events/": "/events/",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=1000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--requests", type=int, default=1500, help="per endpoint, at most")
    parser.add_argument("--seconds", type=float, default=20, help="per endpoint, at most")
    options = parser.parse_args()

    def measure(label: str, base_url: str, path: str):
        getter = Getter(base_url, path)
        for number in range(10):  # warm-up: imports, template compilation, connections
            getter(number)
        return run_load(
            label,
            getter,
            count=options.requests,
            clients=options.clients,
            time_limit=options.seconds,
        )

    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        scratch = Path(scratch_name)
        bench = fresh_database(scratch)
        with bench.app.app_context():
            seed.add_courses(options.courses)
            seed.add_people(options.people)
            enrolments = seed.add_enrolments()
            registrations = seed.add_events(options.events)

        with bare_server() as bare:
            baseline = measure("bare Flask `ok`", bare.base_url, "/")
        with tropa_server(bench, scratch) as tropa:
            results = [measure(label, tropa.base_url, path) for label, path in PAGES.items()]
            memory = worker_memory(tropa)

    ratios = [result.percentile_ms(95) / baseline.percentile_ms(95) for result in results]
    goal_verdict = "met" if max(ratios) <= P95_GOAL_RATIO else "NOT met"
    ratios_line = ", ".join(
        f"{result.label} {ratio:.1f}×" for result, ratio in zip(results, ratios, strict=True)
    )
    memory_line = ", ".join(f"{mb:.0f} MB" for mb in memory)
    verdict = "within" if max(memory) < MEMORY_GOAL_MB else "OVER"
    report(
        f"Catalogue · {bench.database_label}",
        f"{options.courses} courses, {enrolments} enrolments, {options.events} events,"
        f" {registrations} registrations, {options.clients} clients",
        [
            *table(results, baseline),
            "",
            f"Goal (p95 ≤ {P95_GOAL_RATIO:.0f}× bare): {goal_verdict} — {ratios_line}.",
            f"Worker memory after the run (VmRSS): {memory_line}"
            f" ({verdict} the {MEMORY_GOAL_MB} MB goal).",
        ],
    )


if __name__ == "__main__":
    main()
