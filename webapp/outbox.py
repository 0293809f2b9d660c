"""The outbox sender: delivers the messages `webapp.mail.send_mail` queued, each exactly once.

A batch is claimed first, in a short transaction of its own: `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several workers take different rows; SQLite's one writer (unit_of_work)
does the same there. A claim is a lease (`claimed_until`): a worker that dies mid-batch
leaves its rows to the next one after the lease. Each message is then sent and marked sent
in its own transaction. A failure is recorded and tried again after 1, 2, 4... times
TROPA_MAIL_RETRY_SECONDS; a recipient the server refuses for good (5xx) or a message that
failed TROPA_MAIL_MAX_ATTEMPTS times is marked failed and not tried again.
"""

import contextlib
import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from webapp import health, signals
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus
from webapp.transactions import end_read, unit_of_work
from webapp.types import utcnow

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # long enough for a batch to go out over a slow server


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Refused(Exception):
    """The server refused the message for good (a 5xx answer): trying again will not help."""


def claim_due(limit: int = 100, now: datetime | None = None) -> list[int]:
    """Take up to `limit` due messages for this worker; their ids, oldest first."""
    now = now or utcnow()
    with unit_of_work():
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == OutboxStatus.QUEUED,
                    OutboxMessage.due_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            )
    return ids


class _Transport:
    """One SMTP connection for a batch, opened when first needed and again after a failure;
    without MAIL_SERVER, .eml files in TROPA_MAIL_DIR."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def deliver(self, row: OutboxMessage) -> None:
        config = self.config
        if not config["MAIL_SERVER"]:
            folder = Path(config["TROPA_MAIL_DIR"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{row.created_at:%Y%m%dT%H%M%S%f}-{row.id}.eml").write_bytes(row.content)
            return
        message = message_from_bytes(row.content, policy=policy.SMTP)
        try:
            self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = [code for code, _text in refused.recipients.values()]
            if all(code >= 500 for code in codes):
                raise Refused(str(refused.recipients)) from refused
            raise
        except smtplib.SMTPResponseException as answer:
            if answer.smtp_code >= 500:
                raise Refused(f"{answer.smtp_code} {answer.smtp_error!r}") from answer
            self.close()
            raise
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def _connection(self) -> smtplib.SMTP:
        if self.smtp is None:
            config = self.config
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            self.smtp = smtp
        return self.smtp

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
            self.smtp = None


def send_due(limit: int = 100, now: datetime | None = None) -> SendReport:
    """Do the deferred work, then send the messages due now (claimed in batches of `limit`)
    until none is left."""
    # Work the packages leave for the worker (signals.worker_tick), e.g. the tickets of
    # people added by an import: each receiver does a batch and says how many it did.
    while any(signals.collect(signals.worker_tick)):
        pass
    report = SendReport()
    transport = _Transport(current_app.config)
    tried: set[int] = set()
    try:
        while ids := [i for i in claim_due(limit, now) if i not in tried]:
            tried.update(ids)
            for message_id in ids:
                _send_one(transport, message_id, report)
    finally:
        transport.close()
    return report


def _send_one(transport: _Transport, message_id: int, report: SendReport) -> None:
    row = db.session.get(OutboxMessage, message_id, populate_existing=True)
    end_read()  # no transaction stays open while the server answers
    if row is None:  # a reminder dropped since the claim (its session moved or was cancelled)
        return
    try:
        transport.deliver(row)
    except Refused as refused:
        _record(message_id, error=str(refused), give_up=True)
        report.failed += 1
        report.errors.append(f"{row.recipient}: {refused}")
    except (OSError, smtplib.SMTPException) as error:
        _record(message_id, error=repr(error))
        report.retry += 1
        report.errors.append(f"{row.recipient}: {error!r}")
        log.warning("could not send mail %s to %s: %r", row.id, row.recipient, error)
    else:
        _record(message_id)
        report.sent += 1


def _record(message_id: int, error: str | None = None, give_up: bool = False) -> None:
    """Mark a message sent, or note a failed try: again after a back-off, or never."""
    config = current_app.config
    with unit_of_work():
        row = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if row is None:
            return
        row.attempts += 1
        row.claimed_until = None
        if error is None:
            row.status = OutboxStatus.SENT
            row.sent_at = utcnow()
            return
        row.last_error = error[:2000]
        if give_up or row.attempts >= config["TROPA_MAIL_MAX_ATTEMPTS"]:
            row.status = OutboxStatus.FAILED
        else:
            delay = config["TROPA_MAIL_RETRY_SECONDS"] * 2 ** (row.attempts - 1)
            row.due_at = utcnow() + timedelta(seconds=delay)


def run_worker(poll_seconds: float = 5.0, once: bool = False) -> None:
    """Send due messages, then wait and look again; for `tropa worker`."""
    while True:
        report = send_due()
        health.beat()
        if report.sent or report.retry or report.failed:
            log.info(
                "outbox: %s sent, %s to retry, %s failed", report.sent, report.retry, report.failed
            )
        db.session.remove()
        if once:
            return
        time.sleep(poll_seconds)


# --- the admin's view ---------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A template shown with sample data on the admin's outbox page."""

    template: str
    subject: str
    context: dict


CORE_PREVIEWS = [
    Preview(
        "mail/password_reset",
        "Password reset",
        {"user": {"full_name": "Анна Смирнова"}, "link": "https://tropa.example/reset/…"},
    )
]


def previews() -> dict[str, Preview]:
    """Every mail template with sample data: the core's, and each package's
    (signals.mail_previews_requested)."""
    found = CORE_PREVIEWS + [
        preview
        for samples in signals.collect(signals.mail_previews_requested)
        for preview in samples
    ]
    return {preview.template: preview for preview in found}


class OutboxError(ServiceError):
    MESSAGES = {
        "not_found": _l("There is no such message."),
        "not_failed": _l("Only a failed message can be sent again."),
    }


def resend(message_id: int) -> OutboxMessage:
    """Queue a failed message again, due now, with its tries counted afresh (e.g. once a
    mistyped address is fixed at the mail server or the server is back)."""
    lock = select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    with unit_of_work():
        row = db.session.scalars(lock.execution_options(populate_existing=True)).one_or_none()
        if row is None:
            raise OutboxError("not_found")
        if row.status != OutboxStatus.FAILED:
            raise OutboxError("not_failed")
        row.status = OutboxStatus.QUEUED
        row.attempts = 0
        row.due_at = utcnow()
        row.claimed_until = None
    return row


def parts(content: bytes) -> dict[str, str]:
    """The plain-text and HTML parts of a stored message, and its attachments' names."""
    message = message_from_bytes(content, policy=policy.default)
    found = {}
    for kind in ("plain", "html"):
        body = message.get_body((kind,))
        found[kind] = body.get_content() if body else ""
    found["attachments"] = ", ".join(
        part.get_filename() or "" for part in message.iter_attachments()
    )
    return found
