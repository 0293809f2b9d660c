"""The one way Tropa sends e-mail: SMTP when configured, else .eml files in instance/mail/.

Messages are rendered from `templates/<name>.txt` (and `<name>.html` when present) in the
recipient's language.
"""

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from webapp.types import utcnow

log = logging.getLogger(__name__)


def build_message(to: str, subject, template: str, locale: str | None = None, **context):
    config = current_app.config
    with force_locale(locale or config["BABEL_DEFAULT_LOCALE"]):
        message = EmailMessage()
        message["Subject"] = str(subject)
        message["From"] = config["MAIL_SENDER"]
        message["To"] = to
        message["Message-ID"] = make_msgid(domain="tropa.local")
        context.setdefault("base_url", config["TROPA_BASE_URL"])
        message.set_content(render_template(f"{template}.txt", **context))
        try:
            html = render_template(f"{template}.html", **context)
        except TemplateNotFound:
            html = None
        if html:
            message.add_alternative(html, subtype="html")
    return message


def send_mail(to: str, subject, template: str, locale: str | None = None, **context) -> None:
    """Send one message; a failure is logged, never raised into the change that caused it."""
    message = build_message(to, subject, template, locale, **context)
    config = current_app.config
    try:
        if config["MAIL_SERVER"]:
            with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
                if config["MAIL_USE_TLS"]:
                    smtp.starttls()
                if config["MAIL_USERNAME"]:
                    smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
                smtp.send_message(message)
        else:
            folder = Path(config["TROPA_MAIL_DIR"])
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{utcnow():%Y%m%dT%H%M%S%f}-{message['Message-ID'].strip('<>')}.eml"
            (folder / name).write_bytes(bytes(message))
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail to %s", to)
