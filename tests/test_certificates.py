"""Issuing certificates: exactly once, automatically with the completion or the check-in,
serial numbers, frozen snapshots, re-issue and revoke, the PDF, the pages and who may open
them — on SQLite and PostgreSQL."""

import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from certificates.models import CertificateDue, CertificateSerial, EventCertificates
from certificates.services import batches, issuing
from courses import services as course_services
from courses.models import Course, CourseCompletion
from courses.services import completion
from events.models import AttendanceMethod, Registration
from events.services import checkin
from tests.certificates_support import (
    add_people,
    certificates_of,
    make_event,
    pdf_text,
    writes_seen,
)
from tests.conftest import login, make_user
from webapp import outbox, signals
from webapp.extensions import db
from webapp.models import OutboxMessage, Role
from webapp.transactions import unit_of_work

pytestmark = pytest.mark.usefixtures("english")  # assertions read the English texts

ISSUED_MAIL = "certificates/mail/issued"
THREADS = 8


def issued_mail_to(email: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template == ISSUED_MAIL, OutboxMessage.recipient == email)
    )


@pytest.fixture
def enrolled(users, course):
    """The participant enrolled in the course (which has no completion rules: complete as
    soon as the completion is computed) and the trainer teaching it."""
    course.trainers.append(users["trainer"])
    course.academic_hours = 24
    db.session.commit()
    return course_services.enrol(course, users["participant"]).registration


def record_completion(registration) -> None:
    """The completion recorded, as a change that brings it does (a task accepted, a
    sign-off, a material done): its certificate is issued after that unit commits."""
    course = db.session.get(Course, registration.event_id)
    completion.record_completions(course, [registration])


def test_completing_a_course_issues_its_certificate_once_with_the_mail(users, course, enrolled):
    record_completion(enrolled)
    db.session.rollback()  # what was committed with the completion
    (certificate,) = certificates_of(course.id)
    assert certificate.registration_id == enrolled.id
    assert certificate.user_id == users["participant"].id
    assert certificate.serial == f"{certificate.year}-000001"
    assert len(certificate.code) >= 26  # 130 bits in 5-bit characters
    assert issuing.issue(enrolled) is certificate
    assert issuing.issue_now(enrolled.id).id == certificate.id
    assert len(certificates_of(course.id)) == 1
    assert issued_mail_to(users["participant"].email) == 1
    snapshot = certificate.snapshot
    assert snapshot["holder_name"] == "Анна Смирнова"
    assert snapshot["title"] == course.title
    assert snapshot["kind"] == "course"
    assert snapshot["programme"] == course.programme.title
    assert snapshot["hours"] == 24
    assert snapshot["trainers"] == ["Олег Трейнеров"]
    assert snapshot["serial"] == certificate.serial
    assert snapshot["version"] == 1
    assert snapshot["issuer"]
    assert snapshot["starts_on"] <= snapshot["ends_on"]


def test_a_course_with_certificates_switched_off_issues_none(users, course, enrolled):
    db.session.add(EventCertificates(event_id=course.id, enabled=False))
    db.session.commit()
    assert completion.completion_state(enrolled).complete
    assert certificates_of(course.id) == []
    with pytest.raises(issuing.NotEligible):
        issuing.issue(enrolled)


def test_the_certificate_waits_for_the_completion(users, make_course):
    course = make_course(requires_signoff=True)
    registration = course_services.enrol(course, users["participant"]).registration
    assert not completion.completion_state(registration).complete
    assert certificates_of(course.id) == []
    with pytest.raises(issuing.NotEligible, match="not completed"):
        issuing.issue(registration)
    completion.sign_off(registration, users["trainer"])
    assert completion.completion_state(registration).complete
    db.session.rollback()
    assert len(certificates_of(course.id)) == 1


def test_check_in_issues_participation_certificates_where_the_event_enables_them(users, app_ctx):
    enabled = make_event("Форум с сертификатами")
    disabled = make_event("Форум без сертификатов", certificates=False)
    for event in (enabled, disabled):
        (registration_id,) = add_people(event, 1)
        answer = checkin.check_in(
            event_id=event.id,
            registration_id=registration_id,
            by_user=users["organiser"],
            method=AttendanceMethod.MANUAL,
        )
        assert answer["status"] == "ok"
    issuing.issue_due()  # the worker's round: none left when the after-commit step did it
    (certificate,) = certificates_of(enabled.id)
    assert certificate.kind == "event"
    assert certificate.snapshot["hours"] is None
    assert certificates_of(disabled.id) == []
    assert db.session.scalar(select(func.count()).select_from(CertificateDue)) == 0


def test_the_certificate_is_issued_after_the_check_in_commits(app_ctx):
    """Inside the check-in's unit only the intent is recorded; the certificate (snapshot,
    mail) is made once that unit has committed."""
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    with unit_of_work():
        signals.attendance_marked.send(None, registration_id=registration_id, event_id=event.id)
        assert db.session.get(CertificateDue, registration_id) is not None
        assert certificates_of(event.id) == []
    (certificate,) = certificates_of(event.id)
    assert certificate.registration_id == registration_id
    assert db.session.get(CertificateDue, registration_id) is None
    assert issued_mail_to(certificate.registration.email) == 1


def test_a_failed_after_commit_step_is_finished_by_the_worker_once(app_ctx, monkeypatch):
    """The after-commit step fails (the mail cannot be rendered, say): the check-in stays
    committed, the certificate stays due, and the worker issues it later — one
    certificate, one mail, however often the worker runs."""
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    email = db.session.get(Registration, registration_id).email

    def broken(*args, **kwargs):
        raise RuntimeError("the mail server's templates are gone")

    monkeypatch.setattr(issuing, "send_mail", broken)
    with unit_of_work():
        signals.attendance_marked.send(None, registration_id=registration_id, event_id=event.id)
    assert certificates_of(event.id) == []
    assert db.session.get(CertificateDue, registration_id) is not None
    monkeypatch.undo()
    assert issuing.issue_due_certificates() == 1
    assert issuing.issue_due_certificates() == 0
    assert len(certificates_of(event.id)) == 1
    assert issued_mail_to(email) == 1


def test_the_listener_costs_the_door_one_statement_and_none_without_certificates(
    users, app_ctx, count_queries, monkeypatch
):
    """The door's hot path: a check-in at an event with participation certificates pays one
    statement (the INSERT of the intent, which inserts nothing for a holder); at an event
    without them, nothing (the setting is cached for a few seconds)."""
    # the setting's cache must not expire while a slow machine measures
    monkeypatch.setattr(issuing, "PARTICIPATION_CACHE_SECONDS", 3600)
    issuing._participation.clear()

    def queries_of_a_check_in(event, registration_id) -> int:
        session_id = event.sessions[0].id
        checkin.undo_check_in(event_id=event.id, registration_id=registration_id,
                              session_id=session_id, by_user=None)  # fmt: skip
        with count_queries() as counter:
            checkin.check_in(event_id=event.id, registration_id=registration_id,
                             method=AttendanceMethod.MANUAL)  # fmt: skip
        return counter.count

    def extra_queries(event, registration_id) -> int:
        with_listener = queries_of_a_check_in(event, registration_id)
        signals.attendance_marked.disconnect(issuing.issue_for_attendance)
        try:
            return with_listener - queries_of_a_check_in(event, registration_id)
        finally:
            signals.attendance_marked.connect(issuing.issue_for_attendance)

    issuing_event = make_event()
    (holder,) = add_people(issuing_event, 1)
    checkin.check_in(event_id=issuing_event.id, registration_id=holder,
                     method=AttendanceMethod.MANUAL)  # fmt: skip
    issuing.issue_due()
    assert len(certificates_of(issuing_event.id)) == 1
    assert extra_queries(issuing_event, holder) == 1
    assert len(certificates_of(issuing_event.id)) == 1

    plain_event = make_event("Форум без сертификатов", certificates=False)
    (guest,) = add_people(plain_event, 1)
    checkin.check_in(event_id=plain_event.id, registration_id=guest,
                     method=AttendanceMethod.MANUAL)  # fmt: skip
    assert extra_queries(plain_event, guest) == 0


def test_serials_count_up_per_year(app_ctx):
    event = make_event()
    ids = add_people(event, 3, attended=True)
    serials = [issuing.issue_now(rid).serial for rid in ids]
    year = datetime.now(UTC).year
    assert serials == [f"{year}-000001", f"{year}-000002", f"{year}-000003"]
    assert issuing.next_serial_number(year - 1) == 1  # another year starts its own count
    assert issuing.next_serial_number(year) == 4
    db.session.rollback()


def run_together(app, work, arguments: list) -> list:
    """`work(argument)` in one thread per argument, each with its own app context and
    database session, released at once; returns the results (or the exceptions)."""
    start = threading.Barrier(len(arguments))
    results: list = [None] * len(arguments)

    def run(index: int, argument) -> None:
        with app.app_context():
            start.wait(timeout=30)
            try:
                results[index] = work(argument)
            except Exception as error:  # noqa: BLE001  reported by the assertion
                results[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_issuing_one_registration_concurrently_makes_one_certificate(app, app_ctx):
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    results = run_together(app, lambda rid: issuing.issue_now(rid).id, [registration_id] * THREADS)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert len(certificates_of(event.id)) == 1
    # the losers' serial numbers were rolled back with them
    assert db.session.get(CertificateSerial, datetime.now(UTC).year).last_number == 1


def test_concurrent_issues_take_distinct_sequential_serials(app, app_ctx):
    event = make_event()
    ids = add_people(event, THREADS, attended=True)
    results = run_together(app, lambda rid: issuing.issue_now(rid).number, ids)
    assert sorted(results) == list(range(1, THREADS + 1)), results


def test_the_snapshot_is_frozen_until_a_reissue(users, course, enrolled):
    record_completion(enrolled)
    (certificate,) = certificates_of(course.id)
    frozen = dict(certificate.snapshot)
    course.title = "Новое название курса"
    course.academic_hours = 72
    users["participant"].full_name = "Анна Сергеевна Смирнова"
    db.session.commit()
    db.session.refresh(certificate)
    assert certificate.snapshot == frozen
    issuing.reissue(certificate.id, users["organiser"])
    db.session.commit()
    db.session.refresh(certificate)
    assert certificate.version == 2
    assert certificate.reissued_at is not None
    assert certificate.serial == frozen["serial"]  # the same certificate, a new version
    assert certificate.snapshot["holder_name"] == "Анна Сергеевна Смирнова"
    assert certificate.snapshot["title"] == "Новое название курса"
    assert certificate.snapshot["hours"] == 72
    assert certificate.snapshot["version"] == 2
    assert issued_mail_to(users["participant"].email) == 2


def test_revoking_needs_a_reason_and_is_final(users, course, enrolled):
    record_completion(enrolled)
    (certificate,) = certificates_of(course.id)
    with pytest.raises(issuing.NotEligible):
        issuing.revoke(certificate.id, "   ", users["organiser"])
    issuing.revoke(certificate.id, "Выдан по ошибке", users["organiser"])
    db.session.commit()
    assert certificate.revoked and certificate.revoked_reason == "Выдан по ошибке"
    with pytest.raises(issuing.NotEligible):
        issuing.reissue(certificate.id, users["organiser"])
    with pytest.raises(issuing.NotEligible):
        issuing.revoke(certificate.id, "Ещё раз", users["organiser"])


def test_the_pdf_carries_the_cyrillic_name_the_course_and_the_serial(
    client, users, course, enrolled
):
    record_completion(enrolled)
    (certificate,) = certificates_of(course.id)
    login(client, users["participant"])
    response = client.get(f"/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = " ".join(pdf_text(response.data).split())
    assert "Анна Смирнова" in text
    assert course.title in text
    assert certificate.serial in text


def test_who_may_download_a_certificate(client, users, course, enrolled):
    record_completion(enrolled)
    (certificate,) = certificates_of(course.id)
    url = f"/certificates/{certificate.id}.pdf"
    stranger = make_user("other@example.org", Role.PARTICIPANT)
    other_trainer = make_user("trainer2@example.org", Role.TRAINER)
    assert client.get(url).status_code == 302  # to sign in
    for user, expected in [
        (users["participant"], 200),  # the holder
        (users["trainer"], 200),  # the course's trainer
        (users["organiser"], 200),
        (users["admin"], 200),
        (stranger, 403),
        (other_trainer, 403),
    ]:
        login(client, user)
        assert client.get(url).status_code == expected, user.email
        client.post("/logout")
    issuing.revoke(certificate.id, "Ошибка в данных", users["organiser"])
    db.session.commit()
    login(client, users["participant"])
    assert client.get(url).status_code == 403  # a revoked certificate is not handed out


def test_my_certificates_lists_mine_with_the_links(client, users, course, enrolled):
    record_completion(enrolled)
    (certificate,) = certificates_of(course.id)
    login(client, users["participant"])
    page = client.get("/my/certificates").get_data(as_text=True)
    assert course.title in page
    assert certificate.serial in page
    assert f"/certificates/{certificate.id}.pdf" in page
    assert f"/verify/{certificate.code}" in page
    client.post("/logout")
    login(client, users["organiser"])  # holds none
    page = client.get("/my/certificates").get_data(as_text=True)
    assert certificate.serial not in page


def test_the_organiser_issues_reissues_and_revokes_from_the_list(client, users, app_ctx):
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    (not_present,) = add_people(event, 1)
    login(client, users["organiser"])
    list_url = f"/events/{event.id}/certificates"
    page = client.get(list_url).get_data(as_text=True)
    assert "Eligible" in page
    response = client.post(f"/registrations/{registration_id}/certificate", follow_redirects=True)
    assert "issued" in response.get_data(as_text=True)
    response = client.post(f"/registrations/{not_present}/certificate", follow_redirects=True)
    assert "not a confirmed participant who was present" in response.get_data(as_text=True)
    (certificate,) = certificates_of(event.id)
    client.post(f"/certificates/{certificate.id}/reissue")
    db.session.refresh(certificate)
    assert certificate.version == 2
    refused = client.post(f"/certificates/{certificate.id}/revoke", data={"reason": " "})
    assert refused.status_code == 200
    assert "Give the reason" in refused.get_data(as_text=True)
    db.session.refresh(certificate)
    assert not certificate.revoked
    client.post(f"/certificates/{certificate.id}/revoke", data={"reason": "Дубликат"})
    db.session.refresh(certificate)
    assert certificate.revoked_reason == "Дубликат"


def test_settings_switch_participation_certificates_on(client, users, app_ctx):
    event = make_event(certificates=False)
    login(client, users["organiser"])
    url = f"/events/{event.id}/certificates"
    assert "not enabled" in client.get(url).get_data(as_text=True)
    client.post(url, data={"enabled": "y", "template_id": "0"})
    settings = db.session.get(EventCertificates, event.id)
    assert settings.enabled and settings.template_id is None
    bad = client.post(url, data={"enabled": "y", "template_id": "999999"})
    assert bad.status_code == 200  # "not a valid choice", never a 500


def test_the_list_costs_the_same_queries_for_5_or_40_people(client, users, app_ctx, count_queries):
    counts = []
    for people in (5, 40):
        event = make_event(f"Форум на {people}")
        ids = add_people(event, people, attended=True)
        for rid in ids[: people // 2]:
            issuing.issue_now(rid)
        login(client, users["organiser"])
        with count_queries() as counter:
            assert client.get(f"/events/{event.id}/certificates").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_course_list_reads_only_and_issuing_records_the_completion(
    client, users, course, enrolled
):
    """The list shows a completion reached (not recorded yet) as eligible without writing;
    issuing records the completion with the certificate."""
    login(client, users["trainer"])
    page = client.get(f"/events/{course.id}/certificates").get_data(as_text=True)
    assert f"/registrations/{enrolled.id}/certificate" in page  # the issue button
    assert db.session.get(CourseCompletion, enrolled.id) is None
    assert certificates_of(course.id) == []
    client.post(f"/registrations/{enrolled.id}/certificate")
    (certificate,) = certificates_of(course.id)
    assert db.session.get(CourseCompletion, enrolled.id).completed_at is not None
    page = client.get(f"/events/{course.id}/certificates").get_data(as_text=True)
    assert certificate.serial in page


def test_the_cli_issues_to_everyone_eligible_and_writes_the_zip(app, app_ctx, tmp_path):
    event = make_event()
    add_people(event, 3, attended=True)
    add_people(event, 2)  # registered, never came
    target = tmp_path / "all.zip"
    result = app.test_cli_runner().invoke(
        args=["certificates", "issue", str(event.id), "--zip", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "3 certificates (3 issued now)" in result.output
    assert target.stat().st_size > 0
    assert len(certificates_of(event.id)) == 3
    unknown = app.test_cli_runner().invoke(args=["certificates", "issue", "999999"])
    assert unknown.exit_code != 0


def test_a_guest_downloads_theirs_by_the_ticket_link_in_the_mail(client, users, app_ctx):
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    certificate = issuing.issue_now(registration_id)
    registration = certificate.registration
    url = f"/t/{registration.ticket_secret}/certificate.pdf"
    stored = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == ISSUED_MAIL))
    mail = outbox.parts(stored.content)["plain"]  # decoded: a Russian body is encoded
    assert f"http://tropa.test{url}" in mail and "/my/certificates" not in mail
    response = client.get(url)
    assert response.status_code == 200 and certificate.serial in pdf_text(response.data)
    assert client.get("/t/notasecret/certificate.pdf").status_code == 404
    issuing.revoke(certificate.id, "Ошибка", users["organiser"])
    db.session.commit()
    assert client.get(url).status_code == 404


def test_the_certificates_pages_write_nothing(client, users, app_ctx):
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    add_people(event, 1, attended=True)  # eligible, no certificate yet
    certificate = issuing.issue_now(registration_id)
    batch = batches.start_batch(event, users["organiser"])
    login(client, users["organiser"])
    with writes_seen() as writes:
        for url in (
            f"/events/{event.id}/certificates",
            f"/certificates/{certificate.id}.pdf",
            f"/certificate-batches/{batch.id}",
            "/my/certificates",
            f"/certificates/{certificate.id}/revoke",
        ):
            assert client.get(url).status_code == 200, url
    assert writes == []


# The check-in's unit in a process of its own, killed (SIGKILL) right after its commit,
# before its after-commit step issues the certificate.
KILLED_AFTER_COMMIT = """
import os, signal, sys
from certificates.services import issuing
from webapp import create_app, signals
from webapp.transactions import unit_of_work

database_url, instance_path, registration_id, event_id = sys.argv[1:]
app = create_app(
    {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SERVER_NAME": "tropa.test",
     "TROPA_BASE_URL": "http://tropa.test"},
    instance_path=instance_path,
)
issuing.issue_due_after_commit = lambda ids: os.kill(os.getpid(), signal.SIGKILL)
with app.app_context(), unit_of_work():
    signals.attendance_marked.send(
        None, registration_id=int(registration_id), event_id=int(event_id)
    )
"""


def test_a_process_killed_after_the_check_in_commits_leaves_the_certificate_to_the_worker(
    app, app_ctx
):
    event = make_event()
    (registration_id,) = add_people(event, 1, attended=True)
    email = db.session.get(Registration, registration_id).email
    db.session.commit()
    killed = subprocess.run(
        [
            sys.executable, "-c", KILLED_AFTER_COMMIT, app.config["SQLALCHEMY_DATABASE_URI"],
            app.instance_path, str(registration_id), str(event.id),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    db.session.rollback()
    assert db.session.get(CertificateDue, registration_id) is not None  # committed
    assert certificates_of(event.id) == []
    assert issuing.issue_due_certificates() == 1  # the worker's round
    assert issuing.issue_due_certificates() == 0
    assert len(certificates_of(event.id)) == 1
    assert issued_mail_to(email) == 1
