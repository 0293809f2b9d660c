"""A real SMTP server on loopback (aiosmtpd) for the mail tests, and helpers to read what
arrived with the `email` package."""

import email
import email.policy
import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it receives; the addresses in `refuse`
    are refused for good (550), as a server does for a mailbox that does not exist."""

    def __init__(self, refuse: set[str] = frozenset()):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(handler: CollectingHandler, port: int | None = None):
    """A running SMTP server on loopback; yields its Controller (`.port`, `.stop()`)."""
    server = Controller(handler, hostname="127.0.0.1", port=port or free_port())
    server.start()
    try:
        yield server
    finally:
        if server._thread is not None:  # the test may have stopped it already
            server.stop()


def use_smtp(app, monkeypatch, port: int) -> None:
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
