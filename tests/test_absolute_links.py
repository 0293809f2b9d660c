"""One rule for absolute links (webapp.urls): without TROPA_BASE_URL, every link Tropa
prints, mails or signs names the address the request came to, here a gunicorn on a port
of its own; outside a request, the address the server was started on."""

import email
import email.policy
import re

import icalendar
import jwt
import pytest
from sqlalchemy import select

from certificates.services import issuing
from events.services import notifications
from tests import certificates_support
from tests.conftest import PASSWORD
from tests.events_support import decode, form_data, make_event, pdf_page_images
from tests.live_server import (
    HTTP_TIMEOUT,
    csrf_token,
    http_session,
    run_gunicorn,
    sign_in,
    tropa_environment,
)
from webapp import urls
from webapp.extensions import db
from webapp.models import OutboxMessage

pytestmark = pytest.mark.concurrency  # a real server


def outbox_message(template: str, recipient: str) -> email.message.EmailMessage:
    db.session.rollback()  # a fresh read: SQLite would show the snapshot of an open one
    row = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.template == template, OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id.desc())
    )
    assert row is not None, f"no {template} mail to {recipient}"
    return email.message_from_bytes(row.content, policy=email.policy.default)


def test_without_a_base_url_every_link_names_the_servers_own_address(
    app, users, tmp_path, monkeypatch
):
    event = make_event("Форум о ссылках")
    cert_event = certificates_support.make_event("Форум с сертификатами")
    (attended_id,) = certificates_support.add_people(cert_event, 1, attended=True)
    certificate = issuing.issue_now(attended_id)
    code, cert_secret = certificate.code, certificate.registration.ticket_secret
    event_id = event.id
    db.session.commit()

    environment = tropa_environment(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], str(tmp_path)
    )
    environment["TROPA_BASE_URL"] = ""  # not set
    environment["TROPA_FILES_DIR"] = app.config["TROPA_FILES_DIR"]  # the template's background
    with run_gunicorn("webapp:create_app()", environment, workers=1, threads=2) as server:
        base = server.base_url
        assert not base.endswith(":5000")
        http = http_session()

        # The registration form → the ticket page: "keep this link" and the webcal link.
        page = http.get(f"{base}/events/{event_id}", timeout=HTTP_TIMEOUT).text
        data = form_data(event, email="links@example.org", csrf_token=csrf_token(page))
        answer = http.post(f"{base}/events/{event_id}", data=data, timeout=HTTP_TIMEOUT)
        secret = re.search(r"/t/([0-9a-z]+)", answer.url).group(1)
        ticket_url = f"{base}/t/{secret}"
        ticket_page = answer.text
        assert ticket_url in ticket_page
        webcal = "webcal://" + base.removeprefix("http://") + f"/t/{secret}/calendar.ics"
        assert webcal in ticket_page

        # The PDF ticket's QR code.
        pdf = http.get(f"{ticket_url}/ticket.pdf", timeout=HTTP_TIMEOUT).content
        assert ticket_url in [text for image in pdf_page_images(pdf) for text in decode(image)]

        # The .ics: URL and DESCRIPTION.
        ics = http.get(f"{ticket_url}/calendar.ics", timeout=HTTP_TIMEOUT).content
        (entry,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
        assert str(entry["URL"]) == ticket_url
        assert f"{base}/events/{event_id}" in str(entry["DESCRIPTION"])

        # The ticket mail, its text and its calendar attachment. The mail worker renders it,
        # outside a request: it names the address the server was started on (TROPA_HOST and
        # TROPA_PORT, which `make run` gives the worker and the server alike); this process
        # is that worker.
        monkeypatch.setitem(app.config, "TROPA_BASE_URL", "")
        monkeypatch.setitem(app.config, "TROPA_FALLBACK_BASE_URL", base)
        db.session.rollback()  # a fresh read, as each round of the worker
        assert notifications.send_due_mail() == 1
        mail = outbox_message("events/mail/ticket", "links@example.org")
        assert ticket_url in mail.get_body(("plain",)).get_content()
        (attachment,) = [p for p in mail.iter_attachments() if p.get_filename().endswith(".ics")]
        assert ticket_url in attachment.get_content()

        # The certificate's QR code and the credential's issuer.
        response = http.get(f"{base}/t/{cert_secret}/certificate.pdf", timeout=HTTP_TIMEOUT)
        assert response.headers["Content-Type"] == "application/pdf", response.text[:500]
        pdf = response.content
        decoded = [text for image in pdf_page_images(pdf) for text in decode(image)]
        assert f"{base}/verify/{code}" in decoded
        token = http.get(f"{base}/verify/{code}/credential.jwt", timeout=HTTP_TIMEOUT).text
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["iss"].startswith(base)

        # The API's url fields.
        api = http.get(f"{base}/api/v1/events/{event_id}", timeout=HTTP_TIMEOUT).json()
        assert api["url"] == f"{base}/events/{event_id}"

        # The personal calendar feed on the profile, and the password reset mail.
        anna = sign_in(base, users["participant"].email, PASSWORD)
        profile = anna.get(f"{base}/profile", timeout=HTTP_TIMEOUT).text
        assert f'value="{base}/calendar/' in profile
        reset_page = http.get(f"{base}/password/reset", timeout=HTTP_TIMEOUT).text
        http.post(
            f"{base}/password/reset",
            data={"email": users["participant"].email, "csrf_token": csrf_token(reset_page)},
            timeout=HTTP_TIMEOUT,
        )
        reset = outbox_message("mail/password_reset", users["participant"].email)
        assert f"{base}/password/reset/" in reset.get_body(("plain",)).get_content()


def test_outside_a_request_links_name_the_address_the_server_was_started_on(make_app):
    started = make_app({"TROPA_BASE_URL": "", "TROPA_FALLBACK_BASE_URL": "http://10.0.0.7:5203"})
    with started.app_context():
        assert urls.absolute_url("/t/abc") == "http://10.0.0.7:5203/t/abc"
        assert urls.absolute_url_for("events.event_page", event_id=3) == (
            "http://10.0.0.7:5203/events/3"
        )
    with started.test_request_context("/", base_url="http://tropa.local:8123"):
        assert urls.absolute_url("/t/abc") == "http://tropa.local:8123/t/abc"
    configured = make_app({"TROPA_BASE_URL": "https://tropa.example.org"})
    with configured.test_request_context("/", base_url="http://evil.example"):
        assert urls.absolute_url_for("events.event_page", event_id=3) == (
            "https://tropa.example.org/events/3"
        )


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "http://127.0.0.1:5000"),
        ("0.0.0.0", "5203", "http://127.0.0.1:5203"),  # noqa: S104
        ("::1", "8000", "http://[::1]:8000"),
        ("tropa.lan", "80", "http://tropa.lan:80"),
    ],
)
def test_the_fallback_address_comes_from_the_servers_host_and_port(host, port, expected):
    assert urls.fallback_base_url(host, port) == expected


@pytest.mark.parametrize(
    ("host", "base_url", "refused"),
    [
        ("127.0.0.1", "", False),
        ("localhost", "", False),
        ("[::1]", "", False),
        ("0.0.0.0", "", True),  # noqa: S104
        ("192.168.1.5", "", True),
        ("unix", "", True),
        ("0.0.0.0", "https://tropa.example.org", False),  # noqa: S104
    ],
)
def test_a_server_beyond_loopback_needs_a_base_url(host, base_url, refused):
    if refused:
        with pytest.raises(urls.BaseUrlRequired, match="TROPA_BASE_URL"):
            urls.check_listen_address(host, base_url)
    else:
        urls.check_listen_address(host, base_url)
