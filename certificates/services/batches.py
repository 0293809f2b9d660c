"""Bulk issue: every eligible person of a course or event, and one ZIP of all their PDFs.

Nothing lives in process memory (gunicorn runs several workers, any of them may serve the
next step): `start_batch` fixes the eligible registrations in a CertificateBatch row, and
each `run_batch_step` continues from the row — the progress page's script asks for steps
until the batch is done, the CLI loops over them.

A step is safe to repeat, so a crash or a double click never spoils the batch: it issues
its chunk (certificates that exist are kept), renders them and adds to the ZIP the files
it does not hold yet (revoked certificates are left out), then advances `done`. The ZIP is
never changed in place: a step writes the next archive beside it and `os.replace`s it, so
a process killed mid-step leaves the previous archive whole; the last step checks the ZIP
holds exactly the batch's valid certificates and rebuilds it if not. The steps of one
batch take turns on a database lock (`_steps_of`), so they may run on any host; the
database's write lock is held only while issuing, never while rendering, so the door's
check-in does not wait for PDFs.
"""

import fcntl
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import joinedload

from certificates.models import BatchState, Certificate, CertificateBatch
from certificates.rendering import Design, render_certificates
from certificates.services import issuing
from certificates.services.credentials import verify_url
from events.models import Event, Registration
from webapp.extensions import db
from webapp.models import User
from webapp.services import latin
from webapp.storage import stored_path
from webapp.transactions import end_read, unit_of_work
from webapp.types import utcnow

CHUNK = 25
# The first key of the batches' advisory locks on PostgreSQL (the second is the batch id)
_BATCH_LOCK_SPACE = 0x7472_6362  # "trcb"
# A batch no page has stepped for this long is continued by the mail worker.
QUIET_BEFORE_BACKGROUND = timedelta(minutes=1)

# File names in the ZIP are Latin (any unzip tool copes): "2026-000123_Smirnova_Anna.pdf".
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


def pdf_filename(certificate: Certificate) -> str:
    name = _NOT_NAME.sub("_", latin(certificate.snapshot["holder_name"])).strip("_")[:80]
    return f"{certificate.serial}_{name or 'certificate'}.pdf"


def start_batch(event: Event, by_user: User | None) -> CertificateBatch:
    """A batch of the event's eligible registrations (by name); raises NotEligible when
    certificates are off or nobody is eligible."""
    event_id, by_user_id = event.id, by_user.id if by_user else None
    with unit_of_work():
        event = db.session.get(Event, event_id)
        if not issuing.issues_certificates(event):
            raise issuing.NotEligible("not_enabled")
        issuing.refresh_completions(event)
        eligible = issuing.eligible_ids(event)
        if not eligible:
            raise issuing.NotEligible("nobody_eligible")
        ordered = db.session.scalars(
            select(Registration.id)
            .where(Registration.id.in_(eligible))
            .order_by(Registration.full_name, Registration.id)
        )
        batch = CertificateBatch(
            event_id=event_id,
            requested_by_id=by_user_id,
            registration_ids=list(ordered),
            zip_storage_name=secrets.token_hex(16),
        )
        db.session.add(batch)
    return batch


def run_batch_step(batch_id: int, chunk: int = CHUNK) -> CertificateBatch:
    """Issue, render and zip the next `chunk` of the batch; returns it, committed. A step
    that fails leaves the batch failed, with the error (logged) for the organiser."""
    with _steps_of(batch_id):
        try:
            return _step(batch_id, chunk)
        except Exception as error:
            current_app.logger.exception("certificate batch %s failed", batch_id)
            with unit_of_work():
                batch = _locked_batch(batch_id)
                batch.state = BatchState.FAILED
                batch.error = str(error)[:1000] or type(error).__name__
                batch.finished_at = utcnow()
            return batch


def _step(batch_id: int, chunk: int) -> CertificateBatch:
    with unit_of_work():
        batch = _locked_batch(batch_id)
        if batch.state != BatchState.RUNNING:
            return batch
        start = batch.done
        ids = batch.registration_ids[start : start + chunk]
        _issue_chunk(batch, ids)
    path = zip_path(batch)
    _add_to_zip(path, _valid_certificates(ids))
    if start + chunk >= batch.total:
        _make_complete(path, _valid_certificates(batch.registration_ids))
    end_read()  # rendering done: nothing of it holds the database
    with unit_of_work():
        batch = _locked_batch(batch_id)
        if batch.done == start:  # a repeated step advances once
            batch.stepped_at = utcnow()
            batch.done = min(start + chunk, batch.total)
            batch.issued = _issued_by(batch)
            if batch.done >= batch.total:
                batch.state = BatchState.DONE
                batch.finished_at = utcnow()
    return batch


def run_batch(batch_id: int, chunk: int = CHUNK) -> CertificateBatch:
    """All the remaining steps, for the CLI and tests."""
    while (batch := run_batch_step(batch_id, chunk)).state == BatchState.RUNNING:
        pass
    return batch


def continue_quiet_batch(_sender=None) -> int:
    """Finish a batch that no page has advanced for a while (its organiser closed the tab):
    a worker_tick receiver of the mail worker, so a large batch completes in
    the background. Returns 1 when it finished one, 0 when none was waiting."""
    batch_id = db.session.scalar(
        _quiet_batches(CertificateBatch.id).order_by(CertificateBatch.id).limit(1)
    )
    end_read()
    if batch_id is None:
        return 0
    run_batch(batch_id)
    return 1


def count_quiet_batches(_sender=None) -> dict[str, int]:
    """Batches waiting for the worker to continue them (for /healthz)."""
    return {"certificate_batches": db.session.scalar(_quiet_batches(func.count()))}


def _quiet_batches(what):
    quiet_since = utcnow() - QUIET_BEFORE_BACKGROUND
    return select(what).where(
        CertificateBatch.state == BatchState.RUNNING,
        func.coalesce(CertificateBatch.stepped_at, CertificateBatch.created_at) < quiet_since,
    )


def latest_batch(event_id: int) -> CertificateBatch | None:
    return db.session.scalar(
        select(CertificateBatch)
        .where(CertificateBatch.event_id == event_id)
        .order_by(CertificateBatch.id.desc())
        .limit(1)
    )


def zip_path(batch: CertificateBatch) -> Path:
    return stored_path(batch.zip_storage_name)


def _locked_batch(batch_id: int) -> CertificateBatch:
    # FOR UPDATE on PostgreSQL; on SQLite the unit already holds the write lock
    return db.session.scalars(
        select(CertificateBatch)
        .where(CertificateBatch.id == batch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _issued_by(batch: CertificateBatch) -> int:
    """How many of the done part's certificates were issued since the batch began: counted,
    not added up, so a step that died after issuing and is repeated still counts them."""
    return db.session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(
            Certificate.registration_id.in_(batch.registration_ids[: batch.done]),
            Certificate.issued_at >= batch.created_at,
        )
    )


def _issue_chunk(batch: CertificateBatch, ids: list[int]) -> int:
    """Issue the chunk's missing certificates; returns how many. A person no longer eligible
    (cancelled since the batch began) is skipped."""
    registrations = list(db.session.scalars(select(Registration).where(Registration.id.in_(ids))))
    by_user = db.session.get(User, batch.requested_by_id) if batch.requested_by_id else None
    event = db.session.get(Event, batch.event_id)
    return len(issuing.issue_many(event, registrations, by_user))


def _valid_certificates(registration_ids: list[int]) -> list[Certificate]:
    """The registrations' certificates that are not revoked, in their order, with their
    templates, in one query."""
    held = {
        c.registration_id: c
        for c in db.session.scalars(
            select(Certificate)
            .options(joinedload(Certificate.template))
            .where(
                Certificate.registration_id.in_(registration_ids),
                Certificate.revoked_at.is_(None),
            )
        )
    }
    return [held[rid] for rid in registration_ids if rid in held]


def _add_to_zip(path: Path, certificates: list[Certificate]) -> None:
    """Add the certificates' PDFs the ZIP does not hold yet: to a copy of it, which then
    replaces it (PDFs are compressed already, so they are stored as they are)."""
    present = _names_in(path)
    if present is None:  # unreadable (written by an older version that appended in place)
        present = set()
        path.unlink(missing_ok=True)
    missing = [c for c in certificates if pdf_filename(c) not in present]
    if missing or not path.exists():
        _write_archive(path, missing, start_from=path if path.exists() else None)


def _make_complete(path: Path, valid: list[Certificate]) -> None:
    """The last step: the ZIP must hold exactly the batch's valid certificates (none
    missing, none revoked since); otherwise it is rebuilt from them."""
    if _names_in(path) != {pdf_filename(c) for c in valid}:
        current_app.logger.warning("certificate ZIP %s incomplete: rebuilt", path.name)
        _write_archive(path, valid, start_from=None)


def _names_in(path: Path) -> set[str] | None:
    """The file names in the ZIP (empty when there is none yet), None when it is damaged."""
    if not path.exists():
        return set()
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None


def _write_archive(path: Path, certificates: list[Certificate], start_from: Path | None) -> None:
    """The next archive — `start_from`'s files and the certificates' PDFs — written beside
    the ZIP, flushed to disk and moved over it in one step (os.replace)."""
    partial = path.with_name(f"{path.name}.partial")  # the steps of a batch take turns
    if start_from is not None:
        shutil.copyfile(start_from, partial)
    else:
        partial.unlink(missing_ok=True)
    try:
        with zipfile.ZipFile(partial, "a", compression=zipfile.ZIP_STORED) as archive:
            # each certificate printed with the design it recorded; one design, one group
            by_design: dict[int, tuple[Design, list[Certificate]]] = {}
            designs = issuing.designs_of(certificates)
            for certificate, design in zip(certificates, designs, strict=True):
                by_design.setdefault(id(design), (design, []))[1].append(certificate)
            for design, group in by_design.values():
                items = ((c.snapshot, verify_url(c.code)) for c in group)
                pdfs = render_certificates(design, items)
                for certificate, pdf in zip(group, pdfs, strict=True):
                    archive.writestr(pdf_filename(certificate), pdf)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@contextmanager
def _steps_of(batch_id: int) -> Iterator[None]:
    """One step of a batch at a time, whichever host runs it.

    PostgreSQL: a transaction-level advisory lock on a connection of its own, held for the
    step (its units of work commit on the session's connection meanwhile); the server frees
    it when the step ends or its process dies. SQLite is one host's file: a lock file
    beside it, as its writers' queue (webapp.transactions) has — its own writer lock would
    stop the door's check-ins while the PDFs render."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:space, :batch)"),
                {"space": _BATCH_LOCK_SPACE, "batch": batch_id},
            )
            try:
                yield
            finally:
                connection.rollback()
        return
    database = db.engine.url.database
    if not database or database == ":memory:":  # one process: nobody else can step
        yield
        return
    with open(f"{database}.batch-lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
