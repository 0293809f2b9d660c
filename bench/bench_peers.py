"""Tropa beside its peer, pretix, in one run on one machine: the door check-in and the
registration burst, each served by gunicorn with the same workers and threads.

    make bench-peers     # installs pretix into bench/out/peers/pretix-venv, runs on SQLite
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_peers

Not in CI: pretix is a large install and its migrations take minutes. What is compared:
- check-in: `POST /api/v1/checkin` (Tropa) and pretix's `POST …/checkinrpc/redeem/`, each
  with a staff token, a nonce per scan, `--attendees` paid/confirmed tickets, 8 scanners, and
  the bare Flask endpoint writing one SQLite row per request as the machine's ceiling;
- burst: `--guests` people for `--places` places at once — Tropa's public registration form,
  pretix's order API (its shop's checkout is several pages; the API is its one-request path
  through the same quota lock). pretix refuses the guests past its quota (400); Tropa puts
  them on the waiting list.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import psycopg
from sqlalchemy import make_url

from bench.bench_checkin import JsonPoster, add_door_event, scan_all
from bench.bench_registration_burst import tropa_burst
from bench.harness import THREADS, WORKERS, LoadResult, fresh_database, report, tropa_server
from tests import live_server
from tests.live_server import RunningServer, run_gunicorn

PEERS = Path(__file__).resolve().parent / "out" / "peers"
PRETIX_PYTHON = PEERS / "pretix-venv" / "bin" / "python"
MIGRATED_SQLITE = PEERS / "pretix-migrated.sqlite3"
SETUP = Path(__file__).resolve().parent / "peers" / "pretix_setup.py"


# --- pretix ---------------------------------------------------------------------------------


def pretix_config(scratch: Path, database_url: str | None) -> Path:
    """pretix.cfg for a fresh data folder: SQLite in it, or a fresh PostgreSQL database beside
    Tropa's (`<name>_pretix`, dropped and created)."""
    data = scratch / "pretix-data"
    data.mkdir()
    # The host (not the port) must be pretix's own, or it answers 400.
    lines = ["[pretix]", "instance_name=bench", "url=http://127.0.0.1", f"datadir={data}"]
    lines += ["[django]"]
    lines += ["secret=" + os.urandom(24).hex(), "debug=false", "[database]"]
    if database_url:
        url = make_url(database_url)
        name = f"{url.database}_pretix"
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        lines += ["backend=postgresql", f"name={name}", f"user={url.username}"]
        lines += [f"host={url.host}", f"port={url.port}"]
    else:
        lines += ["backend=sqlite3"]
    config = scratch / "pretix.cfg"
    config.write_text("\n".join(lines) + "\n")
    return config


def pretix_env(config: Path) -> dict[str, str]:
    return {"PRETIX_CONFIG_FILE": str(config), "DJANGO_SETTINGS_MODULE": "pretix.settings"}


def prepare_pretix(config: Path, attendees: int, places: int) -> dict:
    env = {**os.environ, **pretix_env(config)}
    sqlite_file = config.parent / "pretix-data" / "db.sqlite3"
    on_sqlite = "backend=sqlite3" in config.read_text()
    if on_sqlite and MIGRATED_SQLITE.exists():  # its migrations take minutes: once is enough
        shutil.copyfile(MIGRATED_SQLITE, sqlite_file)
    else:
        started = time.perf_counter()
        subprocess.run([PRETIX_PYTHON, "-m", "pretix", "migrate", "-v0"], env=env, check=True)
        print(f"pretix migrated in {time.perf_counter() - started:.0f} s")
        if on_sqlite:
            shutil.copyfile(sqlite_file, MIGRATED_SQLITE)
    found = subprocess.run(
        [PRETIX_PYTHON, SETUP, "--attendees", str(attendees), "--places", str(places)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(found.stdout.strip().splitlines()[-1])


@contextmanager
def pretix_server(config: Path):
    """pretix's WSGI app under its own gunicorn, configured as Tropa's."""
    log_path = config.parent / "pretix-gunicorn.log"
    command = [
        str(PRETIX_PYTHON.parent / "gunicorn"),
        "--bind", "127.0.0.1:0", "--workers", str(WORKERS), "--worker-class", "gthread",
        "--threads", str(THREADS), "--timeout", "120", "--no-control-socket",
        "--error-logfile", str(log_path), "pretix.wsgi",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **pretix_env(config)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=config.parent,  # not the checkout: gunicorn would read Tropa's gunicorn.conf.py
        )
    server = RunningServer("", process, log_path)
    try:
        # pretix starts slowly: give it longer than Tropa's harness gives Tropa.
        with patch.object(live_server, "STARTUP_TIMEOUT", 180):
            server.base_url = live_server._wait_until_ready(server, "/robots.txt")
        yield server
    finally:
        live_server._stop(process)


def pretix_burst(server, setup: dict, guests: int, clients: int) -> tuple[LoadResult, dict]:
    from bench.harness import run_load

    poster = JsonPoster(
        server.base_url,
        f"/api/v1/organizers/{setup['organizer']}/events/{setup['burst_event']}/orders/",
        {"Authorization": f"Token {setup['token']}"},
    )
    statuses: dict[int, int] = {}

    def order(number: int) -> int:
        status = poster(
            {
                "email": f"guest{number:03d}@example.org",
                "send_email": False,
                "positions": [
                    {"item": setup["burst_item"], "attendee_name": f"Гость {number:03d}"}
                ],
            }
        )
        statuses[status] = statuses.get(status, 0) + 1
        return 201 if status in (201, 400) else status  # 400: the quota is sold out

    load = run_load("pretix: POST the order API", order, count=guests, clients=clients,
                    time_limit=120)  # fmt: skip
    return load, statuses


# --- the run -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=5000)
    parser.add_argument("--guests", type=int, default=300)
    parser.add_argument("--places", type=int, default=150)
    parser.add_argument("--scanners", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16, help="burst client threads")
    parser.add_argument("--seconds", type=float, default=60, help="per measurement, at most")
    options = parser.parse_args()
    if not PRETIX_PYTHON.exists():
        raise SystemExit("pretix is not installed: run `make bench-peers`")
    load_options = argparse.Namespace(clients=options.scanners, seconds=options.seconds)

    with tempfile.TemporaryDirectory(prefix="tropa-peers-") as scratch_name:
        scratch = Path(scratch_name)
        bench = fresh_database(scratch)
        config = pretix_config(scratch, os.environ.get("TROPA_DATABASE_URL"))
        setup = prepare_pretix(config, options.attendees, options.places)
        with bench.app.app_context():
            event_id, secrets, token = add_door_event(options.attendees)

        bare_env = {"BARE_WRITE_DATABASE": str(scratch / "bare-write.db")}
        with run_gunicorn("bench.bare_write_app:app", bare_env, workers=WORKERS,
                          threads=THREADS, ready_path="/") as bare:  # fmt: skip
            bare_scans = scan_all("bare Flask + SQLite INSERT", JsonPoster(bare.base_url, "/"),
                                  [{"secret": s} for s in secrets], load_options)  # fmt: skip

        with tropa_server(bench, scratch) as tropa:
            poster = JsonPoster(tropa.base_url, "/api/v1/checkin",
                                {"Authorization": f"Bearer {token}"})  # fmt: skip
            tropa_scans = scan_all(
                "Tropa: POST /api/v1/checkin",
                poster,
                [{"secret": s, "event_id": event_id, "nonce": f"n{i}"} for i, s in
                 enumerate(secrets)],
                load_options,
            )  # fmt: skip
            tropa_outcomes = dict(poster.outcomes)

        with pretix_server(config) as pretix:
            poster = JsonPoster(
                pretix.base_url,
                f"/api/v1/organizers/{setup['organizer']}/checkinrpc/redeem/",
                {"Authorization": f"Token {setup['token']}"},
            )
            pretix_scans = scan_all(
                "pretix: POST …/checkinrpc/redeem/",
                poster,
                [{"secret": s, "lists": [setup["checkin_list"]], "nonce": f"n{i}"}
                 for i, s in enumerate(setup["secrets"])],
                load_options,
            )  # fmt: skip
            pretix_outcomes = dict(poster.outcomes)
            pretix_orders, pretix_statuses = pretix_burst(pretix, setup, options.guests,
                                                          options.clients)  # fmt: skip

        burst = tropa_burst(bench, scratch, options.guests, options.places, options.clients)

    def scans_row(result: LoadResult) -> str:
        return (
            f"| {result.label} | {result.count} | {result.errors} | {result.per_second:.0f}"
            f" | {result.per_second / bare_scans.per_second:.0%}"
            f" | {result.percentile_ms(50):.1f} | {result.percentile_ms(99):.1f} |"
        )

    ratio = tropa_scans.per_second / pretix_scans.per_second
    speed = pretix_orders.seconds / burst.seconds
    report(
        f"Peers (pretix 2026.8) · {bench.database_label}",
        f"{options.attendees} tickets, {options.scanners} scanners; burst of {options.guests}"
        f" for {options.places} places, {options.clients} clients",
        [
            "| door check-in | scans | errors | per second | × bare | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            scans_row(bare_scans),
            scans_row(tropa_scans),
            scans_row(pretix_scans),
            "",
            f"Tropa checks in {ratio:.1f}× as many people a second as pretix. Answers: Tropa"
            f" {tropa_outcomes}, pretix {pretix_outcomes}.",
            "",
            "| burst | requests | errors | seconds | p95 ms | outcome |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            f"| Tropa: the registration form | {burst.load.count} | {burst.load.errors}"
            f" | {burst.seconds:.1f} | {burst.load.percentile_ms(95):.0f}"
            f" | {burst.confirmed} confirmed, {burst.waitlisted} waitlisted |",
            f"| pretix: the order API | {pretix_orders.count} | {pretix_orders.errors}"
            f" | {pretix_orders.seconds:.1f} | {pretix_orders.percentile_ms(95):.0f}"
            f" | HTTP {pretix_statuses} |",
            "",
            f"Tropa takes the burst {speed:.1f}× as fast as pretix. Its POSTs only owe the"
            f" ticket mail: its worker rendered the {burst.tickets_queued} tickets afterwards"
            f" in {burst.mail_seconds:.1f} s.",
        ],
    )


if __name__ == "__main__":
    main()
