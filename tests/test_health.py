"""/healthz (database, outbox backlog, the mail worker's heartbeat, deferred work),
/metrics in Prometheus format, and the JSON request log."""

import json
import logging
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from tests.checkin_support import bearer, make_event, register, token_for
from tests.conftest import login
from webapp import outbox
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import OutboxMessage, WorkerHeartbeat
from webapp.transactions import unit_of_work
from webapp.types import utcnow


def queue_mail(due_minutes_ago: int = 0) -> None:
    with unit_of_work():
        send_mail("anna@example.org", "Проверка", "mail/password_reset", user=None, link="x")
    db.session.execute(
        update(OutboxMessage).values(due_at=utcnow() - timedelta(minutes=due_minutes_ago))
    )
    db.session.commit()


def test_a_fresh_instance_is_healthy_though_no_worker_ran(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.get_json()
    assert health["status"] == "ok" and health["database"] == "ok"
    assert health["worker"]["state"] == "never_seen" and health["worker"]["last_heartbeat"] is None
    assert health["outbox"] == {"queued": 0, "oldest_due_seconds": None}
    assert health["deferred_work"] == {
        "registration_mail": 0,
        "certificate_batches": 0,
        "certificates_due": 0,
    }


def test_mail_waiting_with_no_worker_is_503_until_a_worker_runs(app, client):
    queue_mail(due_minutes_ago=10)
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["worker"]["state"] == "silent"
    assert health.get_json()["outbox"]["queued"] == 1
    assert health.get_json()["outbox"]["oldest_due_seconds"] >= 600

    outbox.run_worker(once=True)  # sends it (to instance/mail) and beats
    answer = client.get("/healthz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["worker"]["state"] == "ok"
    assert answer.get_json()["outbox"]["queued"] == 0


def test_a_worker_silent_too_long_is_503(app, client, monkeypatch):
    outbox.run_worker(once=True)
    assert client.get("/healthz").status_code == 200
    db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    silent = client.get("/healthz")
    assert silent.status_code == 503
    assert silent.get_json()["worker"]["silent_seconds"] >= 360
    monkeypatch.setitem(app.config, "TROPA_WORKER_SILENT_SECONDS", 3600)
    assert client.get("/healthz").status_code == 200


def test_deferred_work_is_counted(client):
    event = make_event()
    registration = register(event, "Анна Смирнова")
    registration.ticket_mail_due = True
    db.session.commit()
    assert client.get("/healthz").get_json()["deferred_work"]["registration_mail"] == 1


def samples(client, name: str) -> dict[tuple, float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_metrics_count_requests_checkins_registrations_and_the_outbox(client, users):
    event = make_event(staff=(users["organiser"],))
    before = samples(client, "tropa_registrations_total")
    anna = register(event, "Анна Смирнова")
    after = samples(client, "tropa_registrations_total")
    key = (("status", "confirmed"),)
    assert after[key] == before.get(key, 0) + 1

    token = token_for(users["organiser"])
    checked_before = samples(client, "tropa_checkins_total")
    for nonce in ("n1", "n2"):  # the second scan is refused: already checked in
        client.post(
            "/api/v1/checkin",
            json={"secret": anna.ticket_secret, "event_id": event.id, "nonce": nonce},
            headers=bearer(token),
        )
    checked = samples(client, "tropa_checkins_total")
    for result in ("ok", "already_checked_in"):
        key = (("result", result),)
        assert checked[key] == checked_before.get(key, 0) + 1

    client.get("/healthz")
    latency = samples(client, "tropa_request_duration_seconds_count")
    assert latency[(("endpoint", "webapp.healthz"), ("method", "GET"))] >= 1

    queue_mail()
    outbox_counts = samples(client, "tropa_outbox_messages")
    assert outbox_counts[(("status", "queued"),)] >= 1
    assert (("status", "failed"),) in outbox_counts and (("status", "sent"),) in outbox_counts
    assert "tropa_outbox_oldest_due_seconds" in client.get("/metrics").get_data(as_text=True)


def test_metrics_may_ask_for_a_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TROPA_METRICS_TOKEN", "s3cret-scrape")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain")


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def request_log():
    logger = logging.getLogger("tropa.request")
    handler = _Lines()
    logger.addHandler(handler)
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False  # the test schema's migrations ran logging.config.fileConfig
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.disabled = disabled


def test_each_request_is_one_json_log_line(client, users, request_log):
    response = client.get("/healthz", headers={"X-Request-ID": "probe-1"})
    assert response.headers["X-Request-ID"] == "probe-1"
    entry = json.loads(request_log[-1])
    assert entry["method"] == "GET" and entry["path"] == "/healthz"
    assert entry["endpoint"] == "webapp.healthz" and entry["status"] == 200
    assert entry["request_id"] == "probe-1" and entry["user_id"] is None
    assert isinstance(entry["duration_ms"], float)

    login(client, users["participant"])
    client.get("/profile", headers={"X-Request-ID": "not a valid id!"})
    entry = json.loads(request_log[-1])
    assert entry["path"] == "/profile" and entry["user_id"] == users["participant"].id
    assert entry["request_id"] != "not a valid id!" and len(entry["request_id"]) == 16
