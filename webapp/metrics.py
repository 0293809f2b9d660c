"""Prometheus metrics at /metrics and one JSON log line per request.

Counters and histograms live in each process. Under gunicorn (several worker processes)
PROMETHEUS_MULTIPROC_DIR names an empty folder before the app is imported (deploy/
gunicorn.conf.py sets it from TROPA_METRICS_DIR) and a scrape sums every worker's files.
The outbox figures are read from the database at each scrape, so they are the same
whichever host answers.

The request log goes to the `tropa.request` logger (stderr unless configured otherwise):
method, path, endpoint, status, duration in ms, user id and the request id (the caller's
X-Request-ID when it looks like one, else a new one; sent back in the response).
"""

import json
import logging
import os
import re
import secrets
import sys
import time

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus
from webapp.types import utcnow

REQUEST_SECONDS = Histogram(
    "tropa_request_duration_seconds",
    "Time to answer a request, per endpoint",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CHECKINS = Counter(
    "tropa_checkins", "Door and API check-ins, by result: ok or the refusal's reason", ["result"]
)
REGISTRATIONS = Counter(
    "tropa_registrations", "New registrations for events and courses, by status", ["status"]
)

request_log = logging.getLogger("tropa.request")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def count_checkin(answer: dict) -> dict:
    """Count a check-in's answer (the JSON of events.services.checkin); returns it."""
    CHECKINS.labels(result=answer.get("reason") or "ok").inc()
    return answer


def count_registration(status: str) -> None:
    REGISTRATIONS.labels(status=status).inc()


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    from_database = CollectorRegistry()
    from_database.register(_OutboxCollector())
    return generate_latest(registry) + generate_latest(from_database), CONTENT_TYPE_LATEST


class _OutboxCollector:
    def collect(self):
        now = utcnow()
        counts = GaugeMetricFamily(
            "tropa_outbox_messages", "Outbox messages by status", labels=["status"]
        )
        by_status = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
        for status in OutboxStatus:
            counts.add_metric([status.value], by_status.get(status, 0))
        yield counts
        oldest = db.session.scalar(
            select(func.min(OutboxMessage.due_at)).where(
                OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.due_at <= now
            )
        )
        yield GaugeMetricFamily(
            "tropa_outbox_oldest_due_seconds",
            "How long the oldest message due has waited (0: none waits)",
            value=(now - oldest).total_seconds() if oldest else 0,
        )


def init_app(app: Flask) -> None:
    if app.config["TROPA_REQUEST_LOG"] and not request_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        request_log.addHandler(handler)
        request_log.setLevel(logging.INFO)
        request_log.propagate = False
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(8)


def _finish(response):
    started = g.get("request_started")
    if started is None:  # a request a before_request hook answered before ours ran
        return response
    seconds = time.perf_counter() - started
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    REQUEST_SECONDS.labels(method=request.method, endpoint=endpoint).observe(seconds)
    response.headers["X-Request-ID"] = g.request_id
    if request_log.isEnabledFor(logging.INFO) and request_log.handlers:
        user = g.get("_login_user")  # never loads the user just to log it
        entry = {
            "method": request.method,
            "path": request.path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "user_id": getattr(user, "id", None),
            "request_id": g.request_id,
        }
        request_log.info(json.dumps(entry, ensure_ascii=False))
    return response
