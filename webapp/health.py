"""What /healthz reports: the database, the outbox backlog, the mail worker's heartbeat and
the background work waiting for it.

The worker writes its heartbeat (a WorkerHeartbeat row per host) after each round. The
check answers 503 when the database does not answer, or when the newest heartbeat is older
than TROPA_WORKER_SILENT_SECONDS. An instance where no worker ever ran (a fresh install, a
development machine) is healthy until mail waits for it: once a message has been due for
longer than that limit with no worker ever seen, it answers 503 too — a deployment that
forgot to start the worker is found by its monitoring, not by people missing their tickets.
"""

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, text

from webapp import signals
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus, WorkerHeartbeat
from webapp.transactions import unit_of_work
from webapp.types import utcnow


def beat() -> None:
    """The worker finished a round (webapp.outbox.run_worker)."""
    host = socket.gethostname()[:255]
    with unit_of_work():
        row = db.session.get(WorkerHeartbeat, host)
        if row is None:
            row = WorkerHeartbeat(host=host)
            db.session.add(row)
        row.beat_at = utcnow()
        row.pid = os.getpid()


@dataclass
class Health:
    database: str = "ok"
    queued: int = 0
    oldest_due_seconds: float | None = None
    last_heartbeat: datetime | None = None
    worker: str = "never_seen"  # "ok", "silent" or "never_seen"
    deferred: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.database == "ok" and self.worker != "silent"

    def as_json(self) -> dict:
        last = self.last_heartbeat
        silent_for = (utcnow() - last).total_seconds() if last else None
        return {
            "status": "ok" if self.healthy else "error",
            "app": "ok",
            "database": self.database,
            "database_backend": db.engine.dialect.name,
            "outbox": {
                "queued": self.queued,
                "oldest_due_seconds": _rounded(self.oldest_due_seconds),
            },
            "worker": {
                "state": self.worker,
                "last_heartbeat": last.isoformat() if last else None,
                "silent_seconds": _rounded(silent_for),
                "silent_limit_seconds": current_app.config["TROPA_WORKER_SILENT_SECONDS"],
            },
            "deferred_work": self.deferred,
        }


def check() -> Health:
    """Read only (a GET): a handful of indexed aggregates."""
    health = Health()
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  any failure means the database is down for us
        db.session.rollback()
        health.database = "error"
        return health
    now = utcnow()
    queued, oldest_due = db.session.execute(
        select(func.count(), func.min(OutboxMessage.due_at)).where(
            OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.due_at <= now
        )
    ).one()
    health.queued = queued
    if oldest_due is not None:
        health.oldest_due_seconds = (now - _aware(oldest_due)).total_seconds()
    last = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    limit = current_app.config["TROPA_WORKER_SILENT_SECONDS"]
    if last is not None:
        health.last_heartbeat = _aware(last)
        silent = (now - health.last_heartbeat).total_seconds() > limit
        health.worker = "silent" if silent else "ok"
    elif (health.oldest_due_seconds or 0) > limit:
        health.worker = "silent"  # mail has waited that long and no worker ever ran
    for counts in signals.collect(signals.deferred_work_counted):
        health.deferred.update(counts)
    return health


def _aware(moment: datetime) -> datetime:
    # func.min/max bypass the column type on SQLite: a naive UTC value or its text
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
