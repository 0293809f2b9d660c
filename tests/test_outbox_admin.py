"""The admin's outbox page: in the reader's language (statuses, template titles, the hint),
found by recipient, and a failed message sent again (admins only, POST with CSRF)."""

from sqlalchemy import select

from tests.conftest import login, make_user
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import OutboxMessage, OutboxStatus, Role


def queue(recipient: str, status: OutboxStatus = OutboxStatus.QUEUED) -> OutboxMessage:
    row = send_mail(
        recipient, "Сброс пароля", "mail/password_reset", user={"full_name": "А"}, link="x"
    )
    row.status = status
    if status == OutboxStatus.FAILED:
        row.attempts = 5
        row.last_error = "550 no such user"
    db.session.commit()
    return row


def test_the_outbox_speaks_russian_and_finds_by_recipient(client, app_ctx):
    login(client, make_user("admin@example.org", Role.ADMIN))
    queue("anna@example.org", OutboxStatus.FAILED)
    queue("boris@example.org", OutboxStatus.SENT)

    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Не отправлено" in page and "Отправлено" in page
    assert "Восстановление пароля</a>" in page and ">mail/password_reset<" not in page
    assert "по cron" not in page and "планировщик" in page
    assert ">failed<" not in page and ">sent<" not in page

    found = client.get("/admin/outbox?q=ANNA").get_data(as_text=True)
    assert "anna@example.org" in found and "boris@example.org" not in found


def test_an_admin_sends_a_failed_message_again(client, app_ctx):
    login(client, make_user("admin@example.org", Role.ADMIN))
    failed = queue("anna@example.org", OutboxStatus.FAILED)
    sent = queue("boris@example.org", OutboxStatus.SENT)

    page = client.get(f"/admin/outbox/{failed.id}").get_data(as_text=True)
    assert f"/admin/outbox/{failed.id}/resend" in page
    assert "/resend" not in client.get(f"/admin/outbox/{sent.id}").get_data(as_text=True)

    response = client.post(f"/admin/outbox/{failed.id}/resend")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(OutboxMessage, failed.id)
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)

    # A sent message is not sent twice.
    client.post(f"/admin/outbox/{sent.id}/resend", follow_redirects=True)
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == sent.id)) == (
        OutboxStatus.SENT
    )


def test_resending_needs_the_csrf_token(make_app, app_ctx):
    app = make_app({"WTF_CSRF_ENABLED": True})
    failed = queue("anna@example.org", OutboxStatus.FAILED)
    admin = make_user("admin@example.org", Role.ADMIN)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    assert client.post(f"/admin/outbox/{failed.id}/resend").status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status == OutboxStatus.FAILED
