"""The one way Tropa sends e-mail: `send_mail` queues a message in the outbox, in the
caller's transaction, so it is sent if and only if the change that caused it is committed.
A sender (webapp.outbox: `tropa worker`, `tropa send-due`) delivers it: over SMTP when
configured, else as an .eml file in instance/mail/.

Messages are rendered from `templates/<name>.txt` (and `<name>.html` when present) in the
recipient's language, when they are queued.
"""

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.types import utcnow
from webapp.urls import base_url


@dataclass(frozen=True)
class Attachment:
    content: bytes
    content_type: str  # "text/calendar"
    filename: str


def build_message(
    to: str,
    subject,
    template: str,
    locale: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    **context,
) -> EmailMessage:
    config = current_app.config
    with force_locale(locale or config["BABEL_DEFAULT_LOCALE"]):
        message = EmailMessage()
        message["Subject"] = str(subject)
        message["From"] = config["MAIL_SENDER"]
        message["To"] = to
        message["Message-ID"] = make_msgid(domain="tropa.local")
        context.setdefault("base_url", base_url())
        message.set_content(render_template(f"{template}.txt", **context))
        try:
            html = render_template(f"{template}.html", **context)
        except TemplateNotFound:
            html = None
        if html:
            message.add_alternative(html, subtype="html")
        for attachment in attachments:
            maintype, subtype = attachment.content_type.split("/")
            message.add_attachment(
                attachment.content, maintype, subtype, filename=attachment.filename
            )
    return message


def send_mail(
    to: str,
    subject,
    template: str,
    locale: str | None = None,
    *,
    due_at: datetime | None = None,
    session_id: int | None = None,
    registration_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
    **context,
) -> OutboxMessage:
    """Queue one message in the outbox; it is sent once the caller's transaction commits
    (and not before `due_at`, for reminders)."""
    message = build_message(to, subject, template, locale, attachments, **context)
    row = OutboxMessage(
        recipient=to,
        subject=str(message["Subject"])[:300],
        template=template,
        content=bytes(message),
        due_at=due_at or utcnow(),
        session_id=session_id,
        registration_id=registration_id,
    )
    db.session.add(row)
    return row
