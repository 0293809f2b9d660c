"""What the benchmarks share: a fresh database, the servers, a bounded load loop, RESULTS.md.

Figures are only meaningful beside the bare Flask endpoint measured in the same run on the
same machine (bench/bare_app.py, served by the same gunicorn configuration): the ratio says
what Tropa costs over the smallest possible Flask answer, whatever the hardware.
"""

import http.client
import itertools
import os
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import make_url

from tests.conftest import reset_schema
from tests.live_server import RunningServer, run_gunicorn, tropa_environment
from webapp import create_app
from webapp.extensions import db

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
WORKERS = 2
THREADS = 4
MEMORY_GOAL_MB = 150


# --- database and servers ------------------------------------------------------------------


def database_url(scratch: Path) -> str:
    """TROPA_DATABASE_URL if set (it is emptied!), else a new SQLite file in `scratch`."""
    url = os.environ.get("TROPA_DATABASE_URL")
    if not url:
        return f"sqlite:///{scratch / 'bench.db'}"
    name = make_url(url).database or ""
    # The benchmark drops every table: refuse anything that looks like a real database.
    if not name.endswith(("_test", "_bench")):
        sys.exit(f"refusing to empty database {name!r}: its name must end in _test or _bench")
    return url


@dataclass
class Bench:
    """The Flask app on a fresh, migrated database, for building data; and its secret key."""

    app: Flask
    database_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def database_label(self) -> str:
        with self.app.app_context():
            dialect = db.engine.dialect
            version = ".".join(str(part) for part in dialect.server_version_info[:2])
            return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[dialect.name] + " " + version


def fresh_database(scratch: Path) -> Bench:
    url = database_url(scratch)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, instance_path=str(scratch / "instance"))
    reset_schema(app)
    return Bench(app, url)


@contextmanager
def tropa_server(bench: Bench, scratch: Path) -> Iterator[RunningServer]:
    env = tropa_environment(bench.database_url, bench.secret_key, str(scratch / "instance"))
    with run_gunicorn("webapp:create_app()", env, workers=WORKERS, threads=THREADS) as server:
        yield server


@contextmanager
def bare_server() -> Iterator[RunningServer]:
    with run_gunicorn(
        "bench.bare_app:app", workers=WORKERS, threads=THREADS, ready_path="/"
    ) as server:
        yield server


def resident_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_memory(server: RunningServer) -> list[float]:
    return [resident_memory_mb(pid) for pid in server.worker_pids()]


# --- load ----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    label: str
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, percent: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100)[percent - 1] * 1000


def run_load(
    label: str, send: Callable[[int], int], *, count: int, clients: int, time_limit: float
) -> LoadResult:
    """Call `send(i)` for i in 0..count-1 from `clients` threads, stopping early once
    `time_limit` seconds have passed. `send` returns the HTTP status; >= 400 is an error."""
    numbers = itertools.count()
    numbers_lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    results_lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + time_limit

    def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            with numbers_lock:
                number = next(numbers)
            if number >= count:
                return
            began = time.perf_counter()
            try:
                failed = send(number) >= 400
            except (OSError, http.client.HTTPException):
                failed = True
            took = time.perf_counter() - began
            with results_lock:
                latencies.append(took)
                errors += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(label, latencies, errors, time.perf_counter() - started)


class Getter:
    """GET one path over a kept-alive connection per thread; http.client is light enough
    that the client does not eat the CPU the server needs."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.host, self.port, self.path = parts.hostname, parts.port, path
        self.headers = headers or {}  # e.g. a signed-in session's Cookie
        self.local = threading.local()

    def __call__(self, _number: int) -> int:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=60
            )
        try:
            connection.request("GET", self.path, headers=self.headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            self.local.connection = None
            raise


# --- reporting -----------------------------------------------------------------------------


def table(results: list[LoadResult], baseline: LoadResult) -> list[str]:
    """A Markdown table of the results under the baseline, with how many times slower each
    is than the baseline: in throughput (bare ÷ this) and in p95 latency (this ÷ bare)."""
    rows = [
        "| what | requests | errors | per second | p50 ms | p95 ms | × slower (per s) |"
        " × slower (p95) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in [baseline, *results]:
        throughput_ratio = baseline.per_second / result.per_second
        latency_ratio = result.percentile_ms(95) / baseline.percentile_ms(95)
        rows.append(
            f"| {result.label} | {result.count} | {result.errors} | {result.per_second:.0f} "
            f"| {result.percentile_ms(50):.1f} | {result.percentile_ms(95):.1f} "
            f"| {throughput_ratio:.1f} | {latency_ratio:.1f} |"
        )
    return rows


def report(title: str, setup: str, lines: list[str]) -> None:
    """Print the figures and put them into RESULTS.md as the section `title`, replacing
    that section's previous figures and keeping the others."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = [
        f"## {title}",
        "",
        f"{stamp} · {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        f" · gunicorn {WORKERS} workers × {THREADS} threads · {setup}",
        "",
        *lines,
        "",
    ]
    print("\n".join(section))
    sections = _read_sections()
    sections[title] = "\n".join(section)
    header = (
        "# Benchmark results\n\n"
        "Written by `make bench` (scripts/bench-all.sh); each benchmark replaces its own\n"
        "section. Compare with the bare Flask endpoint measured in the same run (the `× slower`\n"
        "columns), not with figures from another machine. The load average is the machine's\n"
        "at the end of the run: other work running at the same time skews the figures.\n"
    )
    RESULTS.write_text(
        header
        + "\n"
        + "\n".join(goals_table(sections))
        + "\n\n"
        + "\n".join(sections[key] for key in sorted(sections))
    )


GOALS_TITLE = "Goals"


def goals_table(sections: dict[str, str] | None = None) -> list[str]:
    """Every benchmark's goal line, one table: what `make bench` ends with."""
    sections = _read_sections() if sections is None else sections
    lines = [f"## {GOALS_TITLE}", "", "| benchmark | goal and figure |", "| --- | --- |"]
    for title in sorted(sections):
        for line in sections[title].splitlines():
            if line.startswith("Goal"):
                lines.append(f"| {title} | {line.replace('|', '/')} |")
    return lines


def _read_sections() -> dict[str, str]:
    if not RESULTS.exists():
        return {}
    sections: dict[str, str] = {}
    for chunk in RESULTS.read_text().split("\n## ")[1:]:
        title = chunk.splitlines()[0].strip()
        if title != GOALS_TITLE:
            sections[title] = "## " + chunk.rstrip() + "\n"
    return sections


if __name__ == "__main__":  # scripts/bench-all.sh: the goals of the latest figures
    print("\n".join(goals_table()))
