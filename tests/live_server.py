"""The real app under gunicorn on a loopback port, for load tests, browser tests and benchmarks.

    with gunicorn_server(database_url, secret_key, workers=3) as base_url:
        http = sign_in(base_url, "anna@example.org", PASSWORD)
        http.get(f"{base_url}/courses/")

The server runs in its own process (its workers in their own processes), so it only sees what
the caller has committed. It is stopped, workers included, whatever happens inside the block.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# gunicorn binds port 0 (the OS picks a free port, no race with other servers) and logs it.
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The worker processes: the children of the gunicorn master."""
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1)
                    for line in status.read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:  # the process ended while we looked
                continue
            if int(fields.get("PPid", "0")) == self.process.pid:
                pids.append(int(status.parent.name))
        return sorted(pids)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def run_gunicorn(
    wsgi_app: str,
    env: dict[str, str] | None = None,
    *,
    workers: int = 3,
    threads: int = 4,
    ready_path: str = "/healthz",
    config: Path | None = None,
) -> Iterator[RunningServer]:
    """Start gunicorn (gthread workers) on a free loopback port, wait until `ready_path`
    answers 200, and stop it on exit. The log is printed to stderr if the block fails.
    `config`: a gunicorn config file (deploy/gunicorn.conf.py) under the options above."""
    with tempfile.TemporaryDirectory(prefix="tropa-gunicorn-") as scratch:
        log_path = Path(scratch) / "gunicorn.log"
        command = [
            str(GUNICORN),
            *(["--config", str(config)] if config else []),
            "--bind", "127.0.0.1:0",
            "--workers", str(workers),
            "--worker-class", "gthread",
            "--threads", str(threads),
            "--timeout", "120",
            "--chdir", str(REPO_ROOT),
            "--no-control-socket",  # its default path is shared by every gunicorn of the user
            "--error-logfile", str(log_path),
            wsgi_app,
        ]  # fmt: skip
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so we can stop exactly it
            )
        server = RunningServer("", process, log_path)
        try:
            server.base_url = _wait_until_ready(server, ready_path)
            yield server
        except BaseException:
            sys.stderr.write(f"--- gunicorn log ({wsgi_app}) ---\n{server.log_tail()}\n")
            raise
        finally:
            _stop(process)


def _wait_until_ready(server: RunningServer, path: str) -> str:
    """The server's base URL, once `path` answers 200."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {server.process.returncode}")
        if listening := LISTENING.search(server.log_path.read_text(errors="replace")):
            try:
                with urllib.request.urlopen(listening.group(1) + path, timeout=5) as response:
                    if response.status == 200:
                        return listening.group(1)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer {path} within {STARTUP_TIMEOUT:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM lets the master stop its workers gracefully; SIGKILL the group if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the master and its workers
        process.wait()


def tropa_environment(database_url: str, secret_key: str, instance_path: str) -> dict[str, str]:
    """Environment for `webapp:create_app()`: the given database and key, no rate limit
    (a load test signs in a hundred people from one address), CSRF on as in production."""
    return {
        "TROPA_DATABASE_URL": database_url,
        "TROPA_SECRET_KEY": secret_key,
        "TROPA_INSTANCE_PATH": instance_path,
        "TROPA_RATELIMIT_ENABLED": "0",
    }


@contextmanager
def gunicorn_server(
    database_url: str, secret_key: str, workers: int = 3, threads: int = 4
) -> Iterator[str]:
    """Tropa under gunicorn on `database_url` (its schema already migrated); yields the base URL."""
    with (
        tempfile.TemporaryDirectory(prefix="tropa-instance-") as instance_path,
        run_gunicorn(
            "webapp:create_app()",
            tropa_environment(database_url, secret_key, instance_path),
            workers=workers,
            threads=threads,
        ) as server,
    ):
        yield server.base_url


# --- talking to it like a browser ----------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HTTP_TIMEOUT = 120


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page (the server runs with CSRF on)."""
    found = CSRF_FIELD.search(html)
    if not found:
        raise AssertionError("no CSRF token in the page")
    return found.group(1)


def http_session() -> requests.Session:
    """A cookie jar that opens a connection per request: gunicorn drops a kept-alive
    connection after 2 idle seconds, and a request sent on it at that moment is reset."""
    http = requests.Session()
    http.headers["Connection"] = "close"
    return http


def sign_in(base_url: str, email: str, password: str) -> requests.Session:
    """A browser-like session signed in through the login form."""
    http = http_session()
    page = http.get(f"{base_url}/login", timeout=HTTP_TIMEOUT)
    response = http.post(
        f"{base_url}/login",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if response.status_code != 302:
        raise AssertionError(f"signing in {email} answered {response.status_code}")
    return http
