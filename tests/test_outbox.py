"""The outbox: a message is queued in the transaction of the change that caused it, and the
sender delivers it exactly once over a real SMTP server on loopback — across a server that
goes away mid-batch, a recipient refused for good, and two workers at once."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import login, make_user
from tests.mail_support import CollectingHandler, free_port, smtp_server, use_smtp
from webapp import outbox
from webapp.cli import send_due as send_due_command
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import OutboxMessage, OutboxStatus, Role
from webapp.transactions import unit_of_work
from webapp.types import utcnow


def queue(count: int, start: int = 0) -> list[int]:
    rows = [
        send_mail(
            f"person{number}@example.org",
            f"Письмо №{number}",
            "mail/password_reset",
            user={"full_name": f"Участник {number}"},
            link=f"http://tropa.test/{number}",
        )
        for number in range(start, start + count)
    ]
    db.session.commit()
    return [row.id for row in rows]


def statuses() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status.value: count for status, count in rows}


def later(minutes: int) -> object:
    return utcnow() + timedelta(minutes=minutes)


def test_a_message_is_queued_only_when_its_transaction_commits(app_ctx):
    with pytest.raises(RuntimeError), unit_of_work():
        send_mail("a@example.org", "x", "mail/password_reset", user={"full_name": "A"}, link="")
        raise RuntimeError("the change fails")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    queue(1)
    assert statuses() == {"queued": 1}


def test_the_sender_delivers_over_smtp_and_marks_sent(app, app_ctx, monkeypatch):
    handler = CollectingHandler()
    with smtp_server(handler) as server:
        use_smtp(app, monkeypatch, server.port)
        queue(3)
        report = outbox.send_due()
        again = outbox.send_due()

    assert (report.sent, report.retry, report.failed) == (3, 0, 0)
    assert again.sent == 0
    assert sorted(message["To"] for message in handler.messages) == [
        "person0@example.org",
        "person1@example.org",
        "person2@example.org",
    ]
    # The Cyrillic subject travels encoded (RFC 2047) and decodes back.
    message = handler.messages[0]
    assert message["Subject"].startswith("Письмо №")
    assert "=?utf-8?" in message.as_string().lower()
    assert message.get_body(("plain",)).get_content().startswith("Здравствуйте") or (
        "Участник" in message.get_body(("plain",)).get_content()
    )
    assert "<a href=" in message.get_body(("html",)).get_content()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)


def test_without_smtp_messages_become_eml_files(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "TROPA_MAIL_DIR", str(tmp_path / "mail"))
    queue(2)

    assert outbox.send_due().sent == 2

    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
    assert statuses() == {"sent": 2}


def test_a_server_that_goes_away_mid_batch_loses_and_doubles_nothing(app, app_ctx, monkeypatch):
    """The server stops after the third message of six; the other three are tried again
    (with back-off) once it is back, and every message arrives exactly once."""
    port = free_port()
    first, second = CollectingHandler(), CollectingHandler()
    use_smtp(app, monkeypatch, port)
    ids = queue(6)
    deliver = outbox._Transport.deliver
    delivered = []

    with smtp_server(first, port) as server:

        def deliver_then_maybe_stop(transport, row):
            deliver(transport, row)
            delivered.append(row.id)
            if len(delivered) == 3:
                server.stop()

        monkeypatch.setattr(outbox._Transport, "deliver", deliver_then_maybe_stop)
        report = outbox.send_due()

    assert (report.sent, report.retry) == (3, 3)
    assert statuses() == {"sent": 3, "queued": 3}
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
    ).all()
    retry_seconds = app.config["TROPA_MAIL_RETRY_SECONDS"]
    for row in failed:
        assert row.attempts == 1 and row.last_error
        assert row.due_at >= utcnow() + timedelta(seconds=retry_seconds - 5)
    # Not due yet: nothing is tried before the back-off is over.
    assert outbox.send_due().retry == 0

    with smtp_server(second, port):
        report = outbox.send_due(now=later(2))

    assert report.sent == 3
    assert statuses() == {"sent": 6}
    received = [message["Message-ID"] for message in first.messages + second.messages]
    assert len(received) == len(set(received)) == len(ids) == 6


def test_back_off_doubles_and_a_message_is_given_up_after_the_last_try(app, app_ctx, monkeypatch):
    use_smtp(app, monkeypatch, free_port())  # nobody listens there
    monkeypatch.setitem(app.config, "TROPA_MAIL_MAX_ATTEMPTS", 3)
    [message_id] = queue(1)
    delays = []
    for attempt in range(3):
        before = utcnow()
        report = outbox.send_due(now=later(60 * attempt))
        row = db.session.get(OutboxMessage, message_id, populate_existing=True)
        assert row.attempts == attempt + 1
        delays.append(round((row.due_at - before).total_seconds() / 60))
        assert report.retry == 1

    assert delays[:2] == [1, 2]  # 1 minute, then 2
    assert row.status == OutboxStatus.FAILED
    assert outbox.send_due(now=later(1000)).retry == 0


def test_a_refused_recipient_is_recorded_and_not_tried_again(app, app_ctx, monkeypatch):
    handler = CollectingHandler(refuse={"person1@example.org"})
    with smtp_server(handler) as server:
        use_smtp(app, monkeypatch, server.port)
        queue(3)
        report = outbox.send_due()
        again = outbox.send_due(now=later(600))

    assert (report.sent, report.failed) == (2, 1)
    assert again.sent == again.failed == again.retry == 0
    refused = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == "person1@example.org")
    )
    assert refused.status == OutboxStatus.FAILED
    assert "550" in refused.last_error
    assert refused.attempts == 1
    assert sorted(m["To"] for m in handler.messages) == [
        "person0@example.org",
        "person2@example.org",
    ]


def test_two_workers_never_send_one_message_twice(app, app_ctx, monkeypatch):
    """On PostgreSQL the claims skip each other's locked rows; on SQLite they take turns."""
    handler = CollectingHandler()
    errors = []

    def worker():
        try:
            with app.app_context():
                outbox.send_due(limit=5)
                db.session.remove()
        except Exception as error:  # noqa: BLE001  reported by the test
            errors.append(error)

    with smtp_server(handler) as server:
        use_smtp(app, monkeypatch, server.port)
        queue(40)
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    received = [message["Message-ID"] for message in handler.messages]
    assert len(received) == len(set(received)) == 40
    db.session.commit()  # a fresh snapshot: the workers wrote in their own sessions
    assert statuses() == {"sent": 40}


def test_the_send_due_command(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "TROPA_MAIL_DIR", str(tmp_path / "mail"))
    queue(2)

    result = app.test_cli_runner().invoke(send_due_command)

    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output


def test_the_admin_sees_the_outbox_a_message_and_every_template(client, app_ctx):
    admin = make_user("admin@example.org", Role.ADMIN, name="Админ")
    [message_id] = queue(1)
    login(client, admin)
    client.get("/lang/en")

    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert "person0@example.org" in listing and "Письмо №0" in listing
    shown = client.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert "http://tropa.test/0" in shown  # the text part
    for template in outbox.previews():
        response = client.get(f"/admin/outbox/preview/{template}")
        assert response.status_code == 200, template
        assert "srcdoc=" in response.get_data(as_text=True), template
    assert client.get("/admin/outbox/preview/mail/nothing").status_code == 404
