"""Several app hosts on one PostgreSQL and one Redis (issue 17): two gunicorn instances on
their own ports and instance folders, sharing only what a real deployment shares — the
database, Redis for the rate limits, the files folder and the signing keys.

A certificate batch started on one host is finished by the other, the login limit counts
across both, a session made on one works on the other, and one ticket scanned at both
doors at once is marked once. The Redis server is Debian's redis-server, started and
stopped here on a free loopback port."""

import io
import os
import shutil
import socket
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import pytest
import redis
from sqlalchemy import func, select

from certificates.models import BatchState, CertificateBatch
from events.models import Attendance
from tests import certificates_support
from tests.checkin_support import bearer, make_event, register, token_for
from tests.conftest import PASSWORD
from tests.live_server import HTTP_TIMEOUT, csrf_token, http_session, run_gunicorn, sign_in
from webapp.extensions import db

pytestmark = pytest.mark.concurrency
LOGIN_LIMIT = 5


@pytest.fixture
def postgresql_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("several hosts share one PostgreSQL; SQLite is one host's file")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def redis_server(folder):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/test-all.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", client
    finally:
        client.close()
        process.terminate()
        process.wait(10)


@pytest.fixture
def two_hosts(app, postgresql_only, tmp_path):
    with ExitStack() as stack:
        redis_url, redis_client = stack.enter_context(redis_server(tmp_path))
        shared = {
            "TROPA_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "TROPA_SECRET_KEY": "the-same-secret-on-every-host-0123456789",
            "TROPA_SEVERAL_HOSTS": "1",
            "TROPA_RATELIMIT_STORAGE": redis_url,
            "TROPA_RATELIMIT_ENABLED": "1",
            "TROPA_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute",
            "TROPA_FILES_DIR": str(tmp_path / "shared" / "files"),
            "TROPA_CREDENTIAL_KEYS_DIR": str(tmp_path / "shared" / "keys"),
            "TROPA_REQUEST_LOG": "0",
        }
        hosts = []
        for name in ("a", "b"):
            env = {**shared, "TROPA_INSTANCE_PATH": str(tmp_path / f"host-{name}")}
            os.makedirs(env["TROPA_INSTANCE_PATH"])
            server = stack.enter_context(
                run_gunicorn("webapp:create_app()", env, workers=2, threads=4)
            )
            hosts.append(server.base_url)
        yield hosts, redis_client


def test_two_hosts_share_sessions_batches_doors_and_login_limits(app_ctx, users, two_hosts):
    (host_a, host_b), redis_client = two_hosts
    assert host_a != host_b
    organiser = users["organiser"]
    forum = certificates_support.make_event("Форум двух хостов")
    certificates_support.add_people(forum, 60, attended=True)
    door_event = make_event("Две двери", staff=(organiser,))
    tickets = [register(door_event, f"Гость {n:02d}").ticket_secret for n in range(20)]
    token = token_for(organiser)
    db.session.commit()
    door_id = door_event.id

    # a session made on A works on B (one secret key, cookies signed alike)
    http = sign_in(host_a, organiser.email, PASSWORD)
    profile = http.get(f"{host_b}/profile", timeout=HTTP_TIMEOUT, allow_redirects=False)
    assert profile.status_code == 200 and organiser.full_name in profile.text

    # a batch started on A, one step there, finished by B (the steps' lock is the database's)
    page = http.get(f"{host_a}/events/{forum.id}/certificates", timeout=HTTP_TIMEOUT)
    token_field = {"csrf_token": csrf_token(page.text)}
    started = http.post(
        f"{host_a}/events/{forum.id}/certificates/batch",
        data=token_field,
        timeout=HTTP_TIMEOUT,
        allow_redirects=False,
    )
    assert started.status_code == 302, started.text
    batch_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    step = f"/certificate-batches/{batch_id}/step"
    first = http.post(host_a + step, data=token_field, timeout=HTTP_TIMEOUT).json()
    assert first["state"] == "running" and 0 < first["done"] < 60
    progress = first
    while progress["state"] == "running":
        progress = http.post(host_b + step, data=token_field, timeout=HTTP_TIMEOUT).json()
    assert progress["state"] == "done" and progress["done"] == 60, progress
    archive = http.get(host_a + progress["zip_url"], timeout=HTTP_TIMEOUT)
    assert archive.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == 60
    db.session.expire_all()
    assert db.session.get(CertificateBatch, batch_id).state == BatchState.DONE

    # every ticket scanned at both doors at once: one mark each
    def scan(host: str, secret: str, nonce: str) -> dict:
        return (
            http_session()
            .post(
                f"{host}/api/v1/checkin",
                json={"secret": secret, "event_id": door_id, "nonce": nonce},
                headers=bearer(token),
                timeout=HTTP_TIMEOUT,
            )
            .json()
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                scan,
                [host_a, host_b] * len(tickets),
                [secret for secret in tickets for _ in (0, 1)],
                [f"{door}-{n}" for n in range(len(tickets)) for door in ("a", "b")],
            )
        )
    assert sorted(a.get("reason", "ok") for a in answers) == (
        ["already_checked_in"] * len(tickets) + ["ok"] * len(tickets)
    )
    db.session.expire_all()
    marks = db.session.scalar(select(func.count()).select_from(Attendance))
    assert marks == 60 + len(tickets)  # the forum's 60 written directly, and the door's

    # wrong passwords, alternately on A and B: the limit counts them together (in Redis)
    answers = []
    for attempt in range(2 * LOGIN_LIMIT):
        host = (host_a, host_b)[attempt % 2]
        guesser = http_session()
        form = csrf_token(guesser.get(f"{host}/login", timeout=HTTP_TIMEOUT).text)
        answers.append(
            guesser.post(
                f"{host}/login",
                data={"csrf_token": form, "email": organiser.email, "password": "wrong-guess"},
                timeout=HTTP_TIMEOUT,
                allow_redirects=False,
            ).status_code
        )
    assert 429 not in answers[: LOGIN_LIMIT - 1], answers
    assert answers[-1] == 429 and answers.count(429) >= LOGIN_LIMIT - 1, answers
    assert redis_client.keys("LIMITS*")  # the counters live in the shared Redis


def test_several_hosts_refuse_memory_rate_limits(make_app, monkeypatch):
    monkeypatch.setenv("TROPA_SEVERAL_HOSTS", "1")
    from webapp.deployment import DeploymentError

    with pytest.raises(DeploymentError, match="TROPA_RATELIMIT_STORAGE"):
        make_app({"RATELIMIT_STORAGE_URI": "memory://", "SECRET_KEY": "shared"})
    with pytest.raises(DeploymentError, match="TROPA_SECRET_KEY"):
        make_app({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
